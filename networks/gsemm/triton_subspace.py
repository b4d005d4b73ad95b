r"""Fused Triton kernel: the whole DSEM simulation in the exact subspace coordinates, one launch.

Each program owns a tile of ``BT`` streams and keeps their coordinates on chip for all steps:
``z = [c; a]`` (features, :math:`v = Ξc + a_0 v(0) + a_1 s(0)`) and ``w = [d; e]`` (slow population),
with the Gram matrix :math:`G = ΞᵀΞ`, Φ and :math:`M_b = Ξᵀ[v_b(0), s_b(0)]` loaded once. One Euler step:

.. math::  x_z = cG + a_0M_0 + a_1M_1,\ x_w = dG + e_0M_0 + e_1M_1,\ h = \sqrt{α_s}x_z + α_c\,x_wΦ,

.. math::  p = \mathrm{softmax}(βh),\ c \mathrel{+}= \tfrac{dt}{T_f}(\sqrt{α_s}p − c),\ a \mathrel{-}= \tfrac{dt}{T_f}a,
           \ d \mathrel{+}= \tfrac{dt}{T_d}(β_dc − d),\ e \mathrel{+}= \tfrac{dt}{T_d}(β_da − e)

(``split``: four RK4 stages of the fast part with the cross term frozen, then the exact RK4 factor for
the slow part, as in :mod:`networks.gsemm.integrate`). Every ``record_every`` steps the overlaps
:math:`x_z/N` are written out. The oracle is :func:`networks.gsemm.simulate` with
``backend="subspace"``/``"dense"``; the kernel runs under ``TRITON_INTERPRET=1`` on a CPU for tests.
"""
from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _xt(c, a0, a1, G, M0, M1, PREC: tl.constexpr):
    return tl.dot(c, G, input_precision=PREC) + a0[:, None] * M0 + a1[:, None] * M1


@triton.jit
def _softmax(h, valid, beta):
    x = tl.where(valid[None, :], beta * h, float("-inf"))
    m = tl.max(x, axis=1)
    e = tl.exp(x - m[:, None])
    e = tl.where(valid[None, :], e, 0.0)
    return e / tl.sum(e, axis=1)[:, None]


@triton.jit
def dsem_subspace_kernel(
    c_ptr, a_ptr, d_ptr, e_ptr,              # state: c, d (B, PP); a, e (B, 2) -- updated in place
    g_ptr, phi_ptr, m_ptr,                   # G (PP, PP), Φ (PP, PP), M (B, 2, PP)
    sas_ptr, ac_ptr, bd_ptr,                 # per-stream √α_s, α_c, β_d (B,)
    out_ptr,                                 # overlaps (n_rec, B, PP)
    B, n_rec, beta, dt_f, dt_d, dt, slow_fac, inv_n,
    P: tl.constexpr, PP: tl.constexpr, BT: tl.constexpr, REC: tl.constexpr, SPLIT: tl.constexpr,
    PREC: tl.constexpr,
):
    pid = tl.program_id(0)
    rows = pid * BT + tl.arange(0, BT)
    rmask = rows < B
    cols = tl.arange(0, PP)
    valid = cols < P
    m2 = rmask[:, None] & (cols[None, :] < PP)
    sq = rows[:, None] * PP + cols[None, :]
    c = tl.load(c_ptr + sq, mask=m2, other=0.0)
    d = tl.load(d_ptr + sq, mask=m2, other=0.0)
    a0 = tl.load(a_ptr + rows * 2, mask=rmask, other=0.0)
    a1 = tl.load(a_ptr + rows * 2 + 1, mask=rmask, other=0.0)
    e0 = tl.load(e_ptr + rows * 2, mask=rmask, other=0.0)
    e1 = tl.load(e_ptr + rows * 2 + 1, mask=rmask, other=0.0)
    gi = cols[:, None] * PP + cols[None, :]
    G = tl.load(g_ptr + gi)
    PHI = tl.load(phi_ptr + gi)
    M0 = tl.load(m_ptr + rows[:, None] * (2 * PP) + cols[None, :], mask=m2, other=0.0)
    M1 = tl.load(m_ptr + rows[:, None] * (2 * PP) + PP + cols[None, :], mask=m2, other=0.0)
    sas = tl.load(sas_ptr + rows, mask=rmask, other=0.0)[:, None]
    ac = tl.load(ac_ptr + rows, mask=rmask, other=0.0)[:, None]
    bd = tl.load(bd_ptr + rows, mask=rmask, other=0.0)
    for j in range(1, n_rec):
        for _ in range(REC):
            xw = _xt(d, e0, e1, G, M0, M1, PREC)
            cross = ac * tl.dot(xw, PHI, input_precision=PREC)
            if SPLIT:
                p1 = _softmax(sas * _xt(c, a0, a1, G, M0, M1, PREC) + cross, valid, beta)
                k1 = sas * p1 - c
                q1 = -a0
                r1 = -a1
                cc = c + 0.5 * dt_f * k1
                b0 = a0 + 0.5 * dt_f * q1
                b1 = a1 + 0.5 * dt_f * r1
                p2 = _softmax(sas * _xt(cc, b0, b1, G, M0, M1, PREC) + cross, valid, beta)
                k2 = sas * p2 - cc
                q2 = -b0
                r2 = -b1
                cc = c + 0.5 * dt_f * k2
                b0 = a0 + 0.5 * dt_f * q2
                b1 = a1 + 0.5 * dt_f * r2
                p3 = _softmax(sas * _xt(cc, b0, b1, G, M0, M1, PREC) + cross, valid, beta)
                k3 = sas * p3 - cc
                q3 = -b0
                r3 = -b1
                cc = c + dt_f * k3
                b0 = a0 + dt_f * q3
                b1 = a1 + dt_f * r3
                p4 = _softmax(sas * _xt(cc, b0, b1, G, M0, M1, PREC) + cross, valid, beta)
                k4 = sas * p4 - cc
                q4 = -b0
                r4 = -b1
                c = c + dt_f / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
                a0 = a0 + dt_f / 6.0 * (q1 + 2.0 * q2 + 2.0 * q3 + q4)
                a1 = a1 + dt_f / 6.0 * (r1 + 2.0 * r2 + 2.0 * r3 + r4)
                d = d + dt_d * slow_fac * (bd[:, None] * c - d)
                e0 = e0 + dt_d * slow_fac * (bd * a0 - e0)
                e1 = e1 + dt_d * slow_fac * (bd * a1 - e1)
            else:
                p = _softmax(sas * _xt(c, a0, a1, G, M0, M1, PREC) + cross, valid, beta)
                dc = sas * p - c
                nd = bd[:, None] * c - d
                ne0 = bd * a0 - e0
                ne1 = bd * a1 - e1
                c = c + dt_f * dc
                a0 = a0 - dt_f * a0
                a1 = a1 - dt_f * a1
                d = d + dt_d * nd
                e0 = e0 + dt_d * ne0
                e1 = e1 + dt_d * ne1
        ov = _xt(c, a0, a1, G, M0, M1, PREC) * inv_n
        tl.store(out_ptr + j * (B * PP) + sq, ov, mask=m2)
    tl.store(c_ptr + sq, c, mask=m2)
    tl.store(d_ptr + sq, d, mask=m2)
    tl.store(a_ptr + rows * 2, a0, mask=rmask)
    tl.store(a_ptr + rows * 2 + 1, a1, mask=rmask)
    tl.store(e_ptr + rows * 2, e0, mask=rmask)
    tl.store(e_ptr + rows * 2 + 1, e1, mask=rmask)
