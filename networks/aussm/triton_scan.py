r"""Fused Triton kernels for the AUSSM scan: forward and deterministic backward.

Semantics are those of :func:`networks.aussm.reference.scan_polar`. One program owns one
(sequence, channel ``i``) pair and **all** N states of it, and walks the sequence in chunks of ``T``
steps inside one launch (any L, no host loop in the forward). Per chunk:

1. phase projection on tensor cores, never written to memory:
   :math:`\theta = u_{[t_0,t_0+T),:}\,W_A[i]^\top + b_A[i]` as ``tl.dot`` over D in tiles of ``BK``;
2. each :math:`\theta_t` is range-reduced to :math:`[-\pi,\pi)` (Cody-Waite), then
   :math:`G_t = G_c + \mathrm{cumsum}(\theta)` inside the chunk. The carried phase :math:`G_c` is
   **not** the sum of those rounded per-step phases: a float32 dot product rounds with a bias that is
   fixed per (channel, state) for fixed :math:`W_A`, which drifts linearly in L (3.5e-3·max|y| at
   L = 16384 with unscaled weights). By linearity the chunk total is
   :math:`\sum_t\theta_t = W_A[i]\,(\sum_t u_t) + n\,b_A[i]`, computed in double-float (compensated
   column sums of u, TwoProd by FMA, TwoSum) and carried as a double-float wrapped mod 2π with a
   three-constant Cody-Waite reduction whose products are exact. Only the in-chunk phases (≤ T steps)
   see the projection's rounding;
3. separable scan :math:`S_t = S_c + \mathrm{cumsum}(e^{-iG_t}\tilde B v_t)`, :math:`h_t = e^{iG_t}S_t`;
4. readout reduced over states in registers (no atomics), D skip and SiLU gate fused; ``y`` stored
   in the activation dtype.

Only the final separable state :math:`(S_T, G_T)` is saved (``(S, D, 4, N)`` floats, :math:`G_T` as a
double-float); nothing that grows with L is kept for the backward.

The backward walks the chunks in reverse. It rebuilds each chunk's starting state from the one after it
(:math:`G_c = G_{c+1} - \sum_{t\in c}\theta_t` from the same double-float chunk sums as the forward;
:math:`S_c = S_{c+1} - \sum_{t\in c} e^{-iG_t}\tilde B v_t`, an additive recurrence whose float32
rounding grows like :math:`\sqrt{L/T}` ulps), recomputes the chunk, and keeps the reverse carries
:math:`\partial S` and :math:`\partial G` in registers. The cross-channel part of
the phase gradient, :math:`\partial u_t[r] \mathrel{+}= \sum_{i,j}\partial\theta_t[i,j]W_A[i,j,r]` and
:math:`\partial W_A = \sum_t \partial\theta_t\,u_t^\top`, is a contraction over channels that one
program cannot do without atomics; the backward therefore writes :math:`\partial\theta` for a
*slab* of chunks (bounded memory, default ≤ 32 MiB) and contracts it with two GEMMs per slab. All
other reductions (``dB``, ``dC``, ``db_A``, ``dD``) are per-program partial sums, summed in a fixed
order, so the backward is bitwise deterministic.

Sequences are given by row offsets ``starts`` into the flattened ``(rows, D)`` activations, so
dense batches (``starts = arange(B+1)·L``) and packed variable-length batches (``cu_seqlens``) are one
code path; phase and state restart at every sequence start.

Example
-------
The host functions :func:`forward` and :func:`backward` are called by :mod:`networks.aussm.ops`;
use :func:`networks.aussm.ops.aussm_scan` instead of calling them directly.
"""
from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

TWO_PI_HI = 6.28125                       # exact in a few mantissa bits: k * HI is exact
TWO_PI_LO = 2.0 * math.pi - 6.28125       # 1.9353071795864769e-03
INV_TWO_PI = 1.0 / (2.0 * math.pi)


@triton.jit
def _two_sum(a_hi, a_lo, b_hi, b_lo):
    """Compensated (TwoSum) addition of double-float pairs: combine fn for reduce / scan."""
    s = a_hi + b_hi
    bp = s - a_hi
    err = (a_hi - (s - bp)) + (b_hi - bp)
    return s, a_lo + b_lo + err


@triton.jit
def _wrap2pi(hi, lo):
    """Reduce a double-float phase ``hi + lo`` mod 2π so that ``|hi| <= π`` (plus rounding).

    Cody-Waite with three constants 2π = 6.28125 + MID + LO2: ``k·6.28125`` is exact, ``k·MID`` is split
    exactly by an FMA (TwoProd), so no rounding of a constant accumulates with the number of wraps.
    """
    kq = tl.floor(hi * 0.15915494309189535 + 0.5)
    a = hi - kq * 6.28125
    pm = kq * 0.0019353071693331003
    em = tl.fma(kq, 0.0019353071693331003, -pm)
    s = a - pm
    bp = s - a
    err = (a - (s - bp)) + (-pm - bp)
    lo = lo + err - em - kq * 1.0253131677018246e-11
    r = s + lo
    return r, lo - (r - s)


@triton.jit
def _channel_params(ba_ptr, bc_ptr, cc_ptr, dk_ptr, i, N, cols, nmask):
    """Channel ``i``'s parameters: ``b_A[i]``, Re/Im of B̃ and C̃ (``[BN]``, zero past N) and ``D[i]``."""
    ba = tl.load(ba_ptr + i * N + cols, mask=nmask, other=0.0)
    br = tl.load(bc_ptr + cols * 2, mask=nmask, other=0.0)
    bi = tl.load(bc_ptr + cols * 2 + 1, mask=nmask, other=0.0)
    cr = tl.load(cc_ptr + cols * 2, mask=nmask, other=0.0)
    ci = tl.load(cc_ptr + cols * 2 + 1, mask=nmask, other=0.0)
    dk = tl.load(dk_ptr + i)
    return ba, br, bi, cr, ci, dk


@triton.jit
def _chunk_phases(u_ptr, w_ptr, ba, i, N, D, rptr, tmask, cols, nmask, nval,
                  T: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, PREC: tl.constexpr):
    r"""One chunk's phases for channel ``i``: returns ``(theta, c_hi, c_lo)``.

    ``theta`` ``[T, BN]``: :math:`\theta_t = u_t W_A[i]^\top + b_A[i]` on tensor cores (never written to
    memory), range-reduced to [-π, π) (Cody-Waite), zero on masked steps. ``(c_hi, c_lo)`` ``[BN]``: the
    chunk's total phase :math:`W_A[i]\,(\sum_t u_t) + n\,b_A[i]` in double-float (compensated column sums
    of u, TwoProd by FMA, TwoSum), reduced mod 2π, so that a carried phase does not pick up the projection's
    per-step rounding bias. ``nval`` is the number of valid steps ``n`` (broadcast to ``[BN]``).
    """
    acc = tl.zeros([T, BN], dtype=tl.float32)
    c_hi = tl.zeros([BN], dtype=tl.float32)
    c_lo = tl.zeros([BN], dtype=tl.float32)
    for k0 in range(0, D, BK):
        kk = k0 + tl.arange(0, BK)
        kmask = kk < D
        ut = tl.load(u_ptr + rptr[:, None] * D + kk[None, :], mask=tmask[:, None] & kmask[None, :],
                     other=0.0).to(tl.float32)
        wt = tl.load(w_ptr + (i * N + cols[None, :]) * D + kk[:, None], mask=kmask[:, None] & nmask[None, :],
                     other=0.0)
        acc = tl.dot(ut, wt, acc, input_precision=PREC)
        us_hi, us_lo = tl.reduce((ut, tl.zeros_like(ut)), 0, _two_sum)
        p = us_hi[:, None] * wt
        e = tl.fma(us_hi[:, None], wt, -p) + us_lo[:, None] * wt
        r_hi, r_lo = tl.reduce((p, e), 0, _two_sum)
        c_hi, c_lo = _two_sum(c_hi, c_lo, r_hi, r_lo)
    nb = nval * ba
    c_hi, c_lo = _two_sum(c_hi, c_lo, nb, tl.fma(nval, ba, -nb))
    c_hi, c_lo = _wrap2pi(c_hi, c_lo)
    theta = tl.where(tmask[:, None], acc + ba[None, :], 0.0)
    kq = tl.floor(theta * 0.15915494309189535 + 0.5)
    theta = (theta - kq * 6.28125) - kq * 1.9353071795864769e-03
    return theta, c_hi, c_lo


@triton.jit
def _chunk_rotation(theta, g_c, PRECISE: tl.constexpr, FAST_TRIG: tl.constexpr):
    r"""``(cos G_t, sin G_t)`` for :math:`G_t = G_c + \sum_{s \le t} \theta_s` (in-chunk prefix; compensated
    when ``PRECISE``), wrapped to [-π, π) before the sin/cos (``sin/cos.approx`` when ``FAST_TRIG``)."""
    if PRECISE:
        g_hi, g_lo = tl.associative_scan((theta, tl.zeros_like(theta)), 0, _two_sum)
        g = (g_c[None, :] + g_hi) + g_lo
    else:
        g = g_c[None, :] + tl.cumsum(theta, axis=0)
    kq = tl.floor(g * 0.15915494309189535 + 0.5)
    g = (g - kq * 6.28125) - kq * 1.9353071795864769e-03
    if FAST_TRIG:
        cg = tl.inline_asm_elementwise("cos.approx.f32 $0, $1;", "=r,r", [g], dtype=tl.float32,
                                       is_pure=True, pack=1)
        sg = tl.inline_asm_elementwise("sin.approx.f32 $0, $1;", "=r,r", [g], dtype=tl.float32,
                                       is_pure=True, pack=1)
    else:
        cg = tl.cos(g)
        sg = tl.sin(g)
    return cg, sg


@triton.jit
def _aussm_fwd_kernel(u_ptr, dt_ptr, z_ptr, w_ptr, ba_ptr, bc_ptr, cc_ptr, dk_ptr, h0_ptr, starts_ptr,
                      y_ptr, ht_ptr, carry_ptr,
                      D, N,
                      T: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, PREC: tl.constexpr,
                      FAST_TRIG: tl.constexpr, HAS_Z: tl.constexpr, HAS_H0: tl.constexpr,
                      PRECISE: tl.constexpr):
    seq = tl.program_id(0)
    i = tl.program_id(1)
    start = tl.load(starts_ptr + seq)
    seqlen = tl.load(starts_ptr + seq + 1) - start
    rows = tl.arange(0, T)
    cols = tl.arange(0, BN)
    nmask = cols < N
    ba, br, bi, cr, ci, dk = _channel_params(ba_ptr, bc_ptr, cc_ptr, dk_ptr, i, N, cols, nmask)
    if HAS_H0:
        hbase = h0_ptr + ((seq * D + i) * N + cols) * 2
        s_re = tl.load(hbase, mask=nmask, other=0.0)
        s_im = tl.load(hbase + 1, mask=nmask, other=0.0)
    else:
        s_re = tl.zeros([BN], dtype=tl.float32)
        s_im = tl.zeros([BN], dtype=tl.float32)
    g_c = tl.zeros([BN], dtype=tl.float32)
    gc_hi = tl.zeros([BN], dtype=tl.float32)            # carried phase as a double-float (hi, lo)
    gc_lo = tl.zeros([BN], dtype=tl.float32)
    n_chunks = tl.cdiv(seqlen, T)
    for c in range(0, n_chunks):
        t = c * T + rows
        tmask = t < seqlen
        rptr = start + t
        nval = tl.zeros([BN], dtype=tl.float32) + tl.maximum(tl.minimum(seqlen - c * T, T), 0).to(tl.float32)
        theta, c_hi, c_lo = _chunk_phases(u_ptr, w_ptr, ba, i, N, D, rptr, tmask, cols, nmask, nval, T, BN, BK, PREC)
        cg, sg = _chunk_rotation(theta, g_c, PRECISE, FAST_TRIG)
        ui = tl.load(u_ptr + rptr * D + i, mask=tmask, other=0.0).to(tl.float32)
        dti = tl.load(dt_ptr + rptr * D + i, mask=tmask, other=0.0).to(tl.float32)
        su = ui * tl.sigmoid(ui)
        v = dti * su
        a_re = (cg * br[None, :] + sg * bi[None, :]) * v[:, None]
        a_im = (cg * bi[None, :] - sg * br[None, :]) * v[:, None]
        sr = s_re[None, :] + tl.cumsum(a_re, axis=0)
        si = s_im[None, :] + tl.cumsum(a_im, axis=0)
        h_re = cg * sr - sg * si
        h_im = cg * si + sg * sr
        q = tl.sum(cr[None, :] * h_re - ci[None, :] * h_im, axis=1)
        out = q + dk * su
        if HAS_Z:
            zi = tl.load(z_ptr + rptr * D + i, mask=tmask, other=0.0).to(tl.float32)
            out = out * (zi * tl.sigmoid(zi))
        tl.store(y_ptr + rptr * D + i, out.to(y_ptr.dtype.element_ty), mask=tmask)
        s_re = s_re + tl.sum(a_re, axis=0)
        s_im = s_im + tl.sum(a_im, axis=0)
        # carried phase: double-float, reduced mod 2pi; the chunks see it rounded once to fp32
        gc_hi, gc_lo = _two_sum(gc_hi, gc_lo, c_hi, c_lo)
        gc_hi, gc_lo = _wrap2pi(gc_hi, gc_lo)
        g_c = gc_hi + gc_lo
    # final separable state (S_T, G_T as a double-float) for the backward, and h_T = e^{i G_T} S_T
    cptr = carry_ptr + (seq * D + i) * 4 * N + cols
    tl.store(cptr, s_re, mask=nmask)
    tl.store(cptr + N, s_im, mask=nmask)
    tl.store(cptr + 2 * N, gc_hi, mask=nmask)
    tl.store(cptr + 3 * N, gc_lo, mask=nmask)
    cf = tl.cos(g_c)
    sf = tl.sin(g_c)
    hbase = ht_ptr + ((seq * D + i) * N + cols) * 2
    tl.store(hbase, cf * s_re - sf * s_im, mask=nmask)
    tl.store(hbase + 1, cf * s_im + sf * s_re, mask=nmask)


@triton.jit
def _aussm_bwd_kernel(u_ptr, dt_ptr, z_ptr, w_ptr, ba_ptr, bc_ptr, cc_ptr, dk_ptr, starts_ptr, carry_ptr,
                      dy_ptr, dcarry_ptr, dtheta_ptr, du_ptr, ddt_ptr, dz_ptr, dpar_ptr,
                      D, N, C_LO, C_HI,
                      T: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr, PREC: tl.constexpr,
                      FAST_TRIG: tl.constexpr, HAS_Z: tl.constexpr, PRECISE: tl.constexpr):
    seq = tl.program_id(0)
    i = tl.program_id(1)
    start = tl.load(starts_ptr + seq)
    seqlen = tl.load(starts_ptr + seq + 1) - start
    rows = tl.arange(0, T)
    cols = tl.arange(0, BN)
    nmask = cols < N
    ba, br, bi, cr, ci, dk = _channel_params(ba_ptr, bc_ptr, cc_ptr, dk_ptr, i, N, cols, nmask)
    # reverse carries dS (complex) and dG, kept between slab launches in dcarry (seq, D, 3, N)
    dcb = dcarry_ptr + ((seq * D + i) * 3) * N + cols
    ds_re = tl.load(dcb, mask=nmask, other=0.0)
    ds_im = tl.load(dcb + N, mask=nmask, other=0.0)
    dg_c = tl.load(dcb + 2 * N, mask=nmask, other=0.0)
    # per-program parameter-gradient partials (seq, D, 6, N): dBr dBi dCr dCi dbA [dD at col 0]
    pb = dpar_ptr + ((seq * D + i) * 6) * N + cols
    acc_br = tl.load(pb, mask=nmask, other=0.0)
    acc_bi = tl.load(pb + N, mask=nmask, other=0.0)
    acc_cr = tl.load(pb + 2 * N, mask=nmask, other=0.0)
    acc_ci = tl.load(pb + 3 * N, mask=nmask, other=0.0)
    acc_ba = tl.load(pb + 4 * N, mask=nmask, other=0.0)
    acc_dd = tl.load(pb + 5 * N, mask=cols < 1, other=0.0)
    # forward state at the end of chunk C_HI - 1: (S, G) with G a double-float; walked back one chunk at a
    # time (G -= chunk total, S -= chunk increment) instead of being saved per chunk by the forward
    scb = carry_ptr + (seq * D + i) * 4 * N + cols
    s_re = tl.load(scb, mask=nmask, other=0.0)
    s_im = tl.load(scb + N, mask=nmask, other=0.0)
    gq_hi = tl.load(scb + 2 * N, mask=nmask, other=0.0)
    gq_lo = tl.load(scb + 3 * N, mask=nmask, other=0.0)
    for cc in range(0, C_HI - C_LO):
        c = C_HI - 1 - cc
        t = c * T + rows
        tmask = t < seqlen
        rptr = start + t
        nval = tl.zeros([BN], dtype=tl.float32) + tl.maximum(tl.minimum(seqlen - c * T, T), 0).to(tl.float32)
        theta, c_hi, c_lo = _chunk_phases(u_ptr, w_ptr, ba, i, N, D, rptr, tmask, cols, nmask, nval, T, BN, BK, PREC)
        gq_hi, gq_lo = _two_sum(gq_hi, gq_lo, -c_hi, -c_lo)
        gq_hi, gq_lo = _wrap2pi(gq_hi, gq_lo)
        g_c = gq_hi + gq_lo
        cg, sg = _chunk_rotation(theta, g_c, PRECISE, FAST_TRIG)
        ui = tl.load(u_ptr + rptr * D + i, mask=tmask, other=0.0).to(tl.float32)
        dti = tl.load(dt_ptr + rptr * D + i, mask=tmask, other=0.0).to(tl.float32)
        sig_u = tl.sigmoid(ui)
        su = ui * sig_u
        v = dti * su
        e_re = cg * br[None, :] + sg * bi[None, :]
        e_im = cg * bi[None, :] - sg * br[None, :]
        a_re = e_re * v[:, None]
        a_im = e_im * v[:, None]
        s_re = s_re - tl.sum(a_re, axis=0)
        s_im = s_im - tl.sum(a_im, axis=0)
        sr = s_re[None, :] + tl.cumsum(a_re, axis=0)
        si = s_im[None, :] + tl.cumsum(a_im, axis=0)
        h_re = cg * sr - sg * si
        h_im = cg * si + sg * sr
        q = tl.sum(cr[None, :] * h_re - ci[None, :] * h_im, axis=1)
        dy = tl.load(dy_ptr + rptr * D + i, mask=tmask, other=0.0).to(tl.float32)
        if HAS_Z:
            zi = tl.load(z_ptr + rptr * D + i, mask=tmask, other=0.0).to(tl.float32)
            sig_z = tl.sigmoid(zi)
            dq = dy * zi * sig_z
            dz = dy * (q + dk * su) * sig_z * (1.0 + zi * (1.0 - sig_z))
            tl.store(dz_ptr + rptr * D + i, dz, mask=tmask)
        else:
            dq = dy
        acc_dd += tl.where(cols < 1, tl.sum(dq * su, axis=0), 0.0)
        dh_re = dq[:, None] * cr[None, :]
        dh_im = -dq[:, None] * ci[None, :]
        acc_cr += tl.sum(dq[:, None] * h_re, axis=0)
        acc_ci -= tl.sum(dq[:, None] * h_im, axis=0)
        dsd_re = dh_re * cg + dh_im * sg
        dsd_im = dh_im * cg - dh_re * sg
        dg = h_re * dh_im - h_im * dh_re
        da_re = ds_re[None, :] + tl.cumsum(dsd_re, axis=0, reverse=True)
        da_im = ds_im[None, :] + tl.cumsum(dsd_im, axis=0, reverse=True)
        acc_br += tl.sum((da_re * cg - da_im * sg) * v[:, None], axis=0)
        acc_bi += tl.sum((da_re * sg + da_im * cg) * v[:, None], axis=0)
        dv = tl.sum(da_re * e_re + da_im * e_im, axis=1)
        dg = dg + a_im * da_re - a_re * da_im
        dth = tl.where(tmask[:, None], dg_c[None, :] + tl.cumsum(dg, axis=0, reverse=True), 0.0)
        acc_ba += tl.sum(dth, axis=0)
        lt = (c - C_LO) * T + rows
        tl.store(dtheta_ptr + ((seq * ((C_HI - C_LO) * T) + lt[:, None]) * D + i) * N + cols[None, :], dth,
                 mask=nmask[None, :])
        dsu = dv * dti + dq * dk
        tl.store(ddt_ptr + rptr * D + i, dv * su, mask=tmask)
        tl.store(du_ptr + rptr * D + i, dsu * sig_u * (1.0 + ui * (1.0 - sig_u)), mask=tmask)
        ds_re = ds_re + tl.sum(dsd_re, axis=0)
        ds_im = ds_im + tl.sum(dsd_im, axis=0)
        dg_c = dg_c + tl.sum(dg, axis=0)
    tl.store(dcb, ds_re, mask=nmask)
    tl.store(dcb + N, ds_im, mask=nmask)
    tl.store(dcb + 2 * N, dg_c, mask=nmask)
    tl.store(scb, s_re, mask=nmask)
    tl.store(scb + N, s_im, mask=nmask)
    tl.store(scb + 2 * N, gq_hi, mask=nmask)
    tl.store(scb + 3 * N, gq_lo, mask=nmask)
    tl.store(pb, acc_br, mask=nmask)
    tl.store(pb + N, acc_bi, mask=nmask)
    tl.store(pb + 2 * N, acc_cr, mask=nmask)
    tl.store(pb + 3 * N, acc_ci, mask=nmask)
    tl.store(pb + 4 * N, acc_ba, mask=nmask)
    tl.store(pb + 5 * N, acc_dd, mask=cols < 1)


# ---------------------------------------------------------------------------------------------
# host side
# ---------------------------------------------------------------------------------------------
PRECISIONS = {"fast": ("tf32x3", True), "precise": ("ieee", False), "tf32": ("tf32", True)}
#: warps per program for the forward and backward kernels (a tuning knob swept by
#: ``experiments.bench.aussm_scan --num-warps``; 4 is the value measured so far)
NUM_WARPS = {"fwd": 4, "bwd": 4}
#: dθ slab budget of the backward: 32 MiB keeps fwd+bwd at (8, 128, 64, 4096) at 144 MiB (64 MiB: 176 MiB;
#: ``experiments.bench.aussm_memory``); a smaller slab means more backward launches (16 → 32 at that shape)
DTHETA_BUDGET_BYTES = 32 * 2**20


def _pow2(x: int) -> int:
    return 1 << max(0, int(x) - 1).bit_length()


def config(D: int, N: int, chunk: int | None = None) -> dict:
    """Tile sizes for (D, N): ``T`` steps per chunk, ``BN`` padded states, ``BK`` projection K-tile."""
    BN = max(16, _pow2(N))
    BK = max(16, min(64, _pow2(D)))
    T = chunk if chunk else max(16, min(64, 2048 // BN))
    if T < 16 or T > 4096 or T & (T - 1):
        raise ValueError(f"chunk={chunk}: must be a power of two in [16, 4096]")
    return {"T": T, "BN": BN, "BK": BK}


def _mode(precision: str, device: torch.device):
    prec, fast_trig = PRECISIONS[precision]
    return prec, bool(fast_trig and device.type == "cuda")


def forward(u, dt, z, W, bA, Bc, Cc, Dk, h0, starts, max_len: int, precision: str, chunk: int = 0):
    """Launch the forward kernel on flattened ``(rows, D)`` activations; returns ``(y, h_T, final_state)``."""
    rows, D = u.shape
    N = W.shape[1]
    nseq = starts.numel() - 1
    cfg = config(D, N, chunk or None)
    y = torch.empty_like(u)
    ht = torch.empty(nseq, D, N, 2, device=u.device, dtype=torch.float32)
    carry = torch.empty(nseq, D, 4, N, device=u.device, dtype=torch.float32)
    prec, fast_trig = _mode(precision, u.device)
    if nseq == 0 or D == 0:
        return y, ht.zero_(), carry.zero_()
    _aussm_fwd_kernel[(nseq, D)](
        u, dt, z if z is not None else u, W, bA, Bc, Cc, Dk, h0 if h0 is not None else ht, starts,
        y, ht, carry, D, N, T=cfg["T"], BN=cfg["BN"], BK=cfg["BK"], PREC=prec, FAST_TRIG=fast_trig,
        HAS_Z=z is not None, HAS_H0=h0 is not None, PRECISE=precision == "precise",
        num_warps=NUM_WARPS["fwd"])
    return y, ht, carry


def backward(dy, dht, u, dt, z, W, bA, Bc, Cc, Dk, starts, carry, max_len: int, precision: str,
             chunk: int = 0, budget_bytes: int | None = None):
    """Deterministic backward; returns ``(du, ddt, dz, dW, dbA, dBc, dCc, dDk, dh0)`` in float32.

    ``budget_bytes`` (default :data:`DTHETA_BUDGET_BYTES`, read at call time) bounds the dθ slab."""
    budget_bytes = DTHETA_BUDGET_BYTES if budget_bytes is None else budget_bytes
    rows, D = u.shape
    N = W.shape[1]
    nseq = starts.numel() - 1
    cfg = config(D, N, chunk or None)
    T = cfg["T"]
    nch = triton.cdiv(max(max_len, 1), T)
    dev = u.device
    f32 = torch.float32
    lens = starts[1:] - starts[:-1]
    # reverse carries start from dL/dh_T: dS = dh_T e^{-iG_T}, dG = -Im(h_T conj(dh_T)); the forward state
    # (S_T, G_T) is walked back chunk by chunk by the kernel, in a copy (it is updated in place)
    state = carry.clone()                                           # (nseq, D, 4, N): S re, S im, G hi, G lo
    s_f = torch.complex(state[:, :, 0], state[:, :, 1])
    rot = torch.polar(torch.ones_like(state[:, :, 2]), state[:, :, 2] + state[:, :, 3])
    dh = torch.complex(dht[..., 0].to(f32), dht[..., 1].to(f32))
    ds0 = dh * rot.conj()
    dg0 = -(rot * s_f * dh.conj()).imag
    dcarry = torch.stack([ds0.real, ds0.imag, dg0], 2).contiguous()
    dpar = torch.zeros(nseq, D, 6, N, device=dev, dtype=f32)
    du = torch.empty(rows, D, device=dev, dtype=f32)
    ddt = torch.empty(rows, D, device=dev, dtype=f32)
    dz = torch.empty(rows, D, device=dev, dtype=f32) if z is not None else torch.empty(0, device=dev, dtype=f32)
    dW = torch.zeros(D * N, D, device=dev, dtype=f32)
    Wm = W.reshape(D * N, D)
    prec, fast_trig = _mode(precision, dev)
    dense = bool(nseq > 0 and rows == nseq * max_len)
    slab = max(1, min(nch, budget_bytes // max(1, nseq * T * D * N * 4)))
    c_hi = nch
    if not dense:
        tt = torch.arange(slab * T, device=dev)
    # one dtheta buffer for all slabs (a fresh one per slab would briefly hold two)
    dth_buf = torch.empty(nseq * slab * T * D * N if D > 0 else 0, device=dev, dtype=f32)
    while c_hi > 0 and D > 0:
        c_lo = max(0, c_hi - slab)
        ts = (c_hi - c_lo) * T
        dth = dth_buf[: nseq * ts * D * N].view(nseq, ts, D, N)
        _aussm_bwd_kernel[(nseq, D)](
            u, dt, z if z is not None else u, W, bA, Bc, Cc, Dk, starts, state, dy, dcarry, dth, du, ddt,
            dz if z is not None else du, dpar, D, N, c_lo, c_hi, T=T, BN=cfg["BN"], BK=cfg["BK"],
            PREC=prec, FAST_TRIG=fast_trig, HAS_Z=z is not None, PRECISE=precision == "precise",
            num_warps=NUM_WARPS["bwd"])
        t_lo = c_lo * T
        if dense:
            t_hi = min(c_hi * T, max_len)
            m = dth[:, : t_hi - t_lo].reshape(-1, D * N)
            ur = u.view(nseq, max_len, D)[:, t_lo:t_hi].reshape(-1, D).to(f32)
            dW.addmm_(m.t(), ur)
            du.view(nseq, max_len, D)[:, t_lo:t_hi] += (m @ Wm).view(nseq, t_hi - t_lo, D)
        else:
            local = t_lo + tt[:ts]
            valid = local[None, :] < lens[:, None]
            r = (starts[:-1, None] + local[None, :])[valid]
            m = dth.reshape(nseq * ts, D * N)[valid.reshape(-1)]
            dW.addmm_(m.t(), u[r].to(f32))
            du[r] += m @ Wm
        c_hi = c_lo
    dBc = torch.stack([dpar[:, :, 0].sum((0, 1)), dpar[:, :, 1].sum((0, 1))], -1)
    dCc = torch.stack([dpar[:, :, 2].sum((0, 1)), dpar[:, :, 3].sum((0, 1))], -1)
    dbA = dpar[:, :, 4].sum(0)
    dDk = dpar[:, :, 5, 0].sum(0)
    dh0 = dcarry[:, :, :2].permute(0, 1, 3, 2).contiguous()
    return du, ddt, dz, dW.view(D, N, D), dbA, dBc, dCc, dDk, dh0
