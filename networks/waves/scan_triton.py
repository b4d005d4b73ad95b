"""Fused Triton kernels for ``h_t = σ(R h_{t−1} + z_t)`` (forward and BPTT), dense or ring ``R``.

One program owns whole streams for all L steps, so the hidden state stays on chip (registers) across
time and each step costs one launch-free loop iteration instead of several kernel launches:

* **ring** (wRNN): one program per stream; the state is a ``(c, n)`` register tile. The circular ±1
  neighbours are read back from the step's own output row ``hs[b, t]`` (just written, L1/L2 resident,
  made visible to the block by a barrier), and channel mixing is three ``(c × c) @ (c × n)`` dots.
* **dense** (Elman / iRNN): one program per block of 16 streams; ``h (16 × H) @ Wᵀ`` per step with ``Wᵀ``
  loaded once.

The backward kernels run the δ recursion of :mod:`.scan_reference` in reverse time from the saved
post-activations (no pre-activations stored: memory O(B·L·H)); the weight gradient is one parallel
reduction: for the ring it is accumulated inside the backward kernel (per-stream ``c×c×3`` partials,
three ``(c × n) @ (n × c)`` dots per step); for dense it is one large GEMM in torch. Dots use ``input_precision="ieee"``
(full fp32, no TF32). Only float32 is supported; both triton 3.6 and 3.9 features.

Example (needs a CUDA device or ``TRITON_INTERPRET=1`` with CPU tensors)::

    hs = ring_forward(z, h0, u, "relu")          # z (B, L, c·n), h0 (B, c·n), u (c, c, 3)
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

ACT_CODES = {"relu": 0, "tanh": 1}
#: register-tile limits of the kernels (elements of the padded state tile per program)
MAX_RING_TILE = 16384
MAX_DENSE_H = 128   # Wᵀ tile (HP × HP fp32) must fit shared memory: 256 needs 272 KiB > 227 KiB on H100


@triton.jit
def _act(x, ACT: tl.constexpr):
    if ACT == 0:
        return tl.maximum(x, 0.0)
    else:
        e = tl.exp(-2.0 * tl.abs(x))
        t = (1.0 - e) / (1.0 + e)
        return tl.where(x < 0, -t, t)


@triton.jit
def _dact(h, ACT: tl.constexpr):
    if ACT == 0:
        return tl.where(h > 0, 1.0, 0.0)
    else:
        return 1.0 - h * h


@triton.jit
def _ring_fwd_kernel(z_ptr, h0_ptr, u_ptr, hs_ptr, L, C, N,
                     ACT: tl.constexpr, CP: tl.constexpr, NP: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    H = C * N
    rc = tl.arange(0, CP)
    rn = tl.arange(0, NP)
    mask = (rc[:, None] < C) & (rn[None, :] < N)
    offs = rc[:, None] * N + rn[None, :]
    offs_l = rc[:, None] * N + ((rn + N - 1) % N)[None, :]
    offs_r = rc[:, None] * N + ((rn + 1) % N)[None, :]
    umask = (rc[:, None] < C) & (rc[None, :] < C)
    ubase = u_ptr + rc[:, None] * (C * 3) + rc[None, :] * 3
    u0 = tl.load(ubase + 0, mask=umask, other=0.0)
    u1 = tl.load(ubase + 1, mask=umask, other=0.0)
    u2 = tl.load(ubase + 2, mask=umask, other=0.0)
    base = b * L * H
    prev = h0_ptr + b * H
    h = tl.load(prev + offs, mask=mask, other=0.0)
    for t in range(L):
        hl = tl.load(prev + offs_l, mask=mask, other=0.0)
        hr = tl.load(prev + offs_r, mask=mask, other=0.0)
        acc = tl.dot(u0, hl, input_precision="ieee")
        acc += tl.dot(u1, h, input_precision="ieee")
        acc += tl.dot(u2, hr, input_precision="ieee")
        acc += tl.load(z_ptr + base + t * H + offs, mask=mask, other=0.0)
        h = tl.where(mask, _act(acc, ACT), 0.0)
        cur = hs_ptr + base + t * H
        tl.store(cur + offs, h, mask=mask)
        tl.debug_barrier()
        prev = cur


@triton.jit
def _ring_bwd_kernel(gh_ptr, hs_ptr, h0_ptr, u_ptr, gz_ptr, gh0_ptr, gw_ptr, L, C, N,
                     ACT: tl.constexpr, CP: tl.constexpr, NP: tl.constexpr):
    b = tl.program_id(0).to(tl.int64)
    H = C * N
    rc = tl.arange(0, CP)
    rn = tl.arange(0, NP)
    mask = (rc[:, None] < C) & (rn[None, :] < N)
    offs = rc[:, None] * N + rn[None, :]
    offs_l = rc[:, None] * N + ((rn + N - 1) % N)[None, :]
    offs_r = rc[:, None] * N + ((rn + 1) % N)[None, :]
    # transposed, shifted views of the previous state for the kernel gradient: P_k[i, c'] = h[c', i+k-1]
    maskT = (rn[:, None] < N) & (rc[None, :] < C)
    offT_l = rc[None, :] * N + ((rn + N - 1) % N)[:, None]
    offT_c = rc[None, :] * N + rn[:, None]
    offT_r = rc[None, :] * N + ((rn + 1) % N)[:, None]
    umask = (rc[:, None] < C) & (rc[None, :] < C)
    # transposed taps: ut_k[c', o] = u[o, c', k]
    utbase = u_ptr + rc[None, :] * (C * 3) + rc[:, None] * 3
    ut0 = tl.load(utbase + 0, mask=umask, other=0.0)
    ut1 = tl.load(utbase + 1, mask=umask, other=0.0)
    ut2 = tl.load(utbase + 2, mask=umask, other=0.0)
    base = b * L * H
    h0b = h0_ptr + b * H
    carry = tl.zeros((CP, NP), dtype=tl.float32)
    gw0 = tl.zeros((CP, CP), dtype=tl.float32)
    gw1 = tl.zeros((CP, CP), dtype=tl.float32)
    gw2 = tl.zeros((CP, CP), dtype=tl.float32)
    for tt in range(L):
        t = L - 1 - tt
        g = tl.load(gh_ptr + base + t * H + offs, mask=mask, other=0.0) + carry
        h = tl.load(hs_ptr + base + t * H + offs, mask=mask, other=0.0)
        d = tl.where(mask, g * _dact(h, ACT), 0.0)
        cur = gz_ptr + base + t * H
        tl.store(cur + offs, d, mask=mask)
        # kernel gradient: gw_k[o, c'] += sum_i d[o, i] h_{t-1}[c', i+k-1]   (h_{-1} = h0)
        if t > 0:
            prev = hs_ptr + base + (t - 1) * H
        else:
            prev = h0b
        p_l = tl.load(prev + offT_l, mask=maskT, other=0.0)
        gw0 += tl.dot(d, p_l, input_precision="ieee")
        p_c = tl.load(prev + offT_c, mask=maskT, other=0.0)
        gw1 += tl.dot(d, p_c, input_precision="ieee")
        p_r = tl.load(prev + offT_r, mask=maskT, other=0.0)
        gw2 += tl.dot(d, p_r, input_precision="ieee")
        tl.debug_barrier()
        dl = tl.load(cur + offs_l, mask=mask, other=0.0)
        dr = tl.load(cur + offs_r, mask=mask, other=0.0)
        carry = tl.dot(ut0, dr, input_precision="ieee")
        carry += tl.dot(ut1, d, input_precision="ieee")
        carry += tl.dot(ut2, dl, input_precision="ieee")
    tl.store(gh0_ptr + b * H + offs, carry, mask=mask)
    gwb = gw_ptr + b * (C * C * 3) + rc[:, None] * (C * 3) + rc[None, :] * 3
    tl.store(gwb + 0, gw0, mask=umask)
    tl.store(gwb + 1, gw1, mask=umask)
    tl.store(gwb + 2, gw2, mask=umask)


@triton.jit
def _dense_fwd_kernel(z_ptr, h0_ptr, w_ptr, hs_ptr, B, L, H,
                      ACT: tl.constexpr, BB: tl.constexpr, HP: tl.constexpr):
    pid = tl.program_id(0)
    rb = (pid * BB + tl.arange(0, BB)).to(tl.int64)
    rh = tl.arange(0, HP)
    mcol = rh < H
    mask = (rb[:, None] < B) & mcol[None, :]
    wt = tl.load(w_ptr + rh[None, :] * H + rh[:, None], mask=mcol[:, None] & mcol[None, :], other=0.0)
    h = tl.load(h0_ptr + rb[:, None] * H + rh[None, :], mask=mask, other=0.0)
    row = rb[:, None] * L * H + rh[None, :]
    for t in range(L):
        acc = tl.dot(h, wt, input_precision="ieee")
        acc += tl.load(z_ptr + row + t * H, mask=mask, other=0.0)
        h = tl.where(mask, _act(acc, ACT), 0.0)
        tl.store(hs_ptr + row + t * H, h, mask=mask)


@triton.jit
def _dense_bwd_kernel(gh_ptr, hs_ptr, w_ptr, gz_ptr, gh0_ptr, B, L, H,
                      ACT: tl.constexpr, BB: tl.constexpr, HP: tl.constexpr):
    pid = tl.program_id(0)
    rb = (pid * BB + tl.arange(0, BB)).to(tl.int64)
    rh = tl.arange(0, HP)
    mcol = rh < H
    mask = (rb[:, None] < B) & mcol[None, :]
    w = tl.load(w_ptr + rh[:, None] * H + rh[None, :], mask=mcol[:, None] & mcol[None, :], other=0.0)
    row = rb[:, None] * L * H + rh[None, :]
    carry = tl.zeros((BB, HP), dtype=tl.float32)
    for tt in range(L):
        t = L - 1 - tt
        g = tl.load(gh_ptr + row + t * H, mask=mask, other=0.0) + carry
        h = tl.load(hs_ptr + row + t * H, mask=mask, other=0.0)
        d = tl.where(mask, g * _dact(h, ACT), 0.0)
        tl.store(gz_ptr + row + t * H, d, mask=mask)
        carry = tl.dot(d, w, input_precision="ieee")
    tl.store(gh0_ptr + rb[:, None] * H + rh[None, :], carry, mask=mask)


def _pow2(x: int, lo: int = 16) -> int:
    return max(lo, triton.next_power_of_2(int(x)))


def tile_limits_ok(H: int, weight: Tensor, structure: str) -> tuple[bool, str]:
    """Whether the state fits the kernels' register tile; returns ``(ok, reason)``."""
    if structure == "ring":
        c = weight.shape[0]
        tile = _pow2(c) * _pow2(H // c)
        if tile > MAX_RING_TILE:
            return False, f"ring state tile {_pow2(c)}x{_pow2(H // c)} exceeds {MAX_RING_TILE} elements"
        return True, ""
    if H > MAX_DENSE_H:
        return False, f"dense hidden size H={H} exceeds the kernel limit {MAX_DENSE_H}"
    return True, ""


def forward(z: Tensor, h0: Tensor, weight: Tensor, structure: str, activation: str) -> Tensor:
    """Launch the fused forward kernel; inputs must be contiguous float32 (checked by the caller)."""
    B, L, H = z.shape
    hs = torch.empty_like(z)
    if L == 0 or B == 0:
        return hs
    act = ACT_CODES[activation]
    if structure == "ring":
        c = weight.shape[0]
        n = H // c
        CP, NP = _pow2(c), _pow2(n)
        _ring_fwd_kernel[(B,)](z, h0, weight, hs, L, c, n, ACT=act, CP=CP, NP=NP,
                               num_warps=8 if CP * NP >= 4096 else 4)
    else:
        HP = _pow2(H)
        _dense_fwd_kernel[(triton.cdiv(B, 16),)](z, h0, weight, hs, B, L, H, ACT=act, BB=16, HP=HP,
                                                 num_warps=8 if HP >= 256 else 4)
    return hs


def backward(grad_hs: Tensor, hs: Tensor, h0: Tensor, weight: Tensor, structure: str, activation: str
             ) -> tuple[Tensor, Tensor, Tensor]:
    """Launch the fused BPTT kernel: returns ``(grad_z, grad_h0, grad_weight)``.

    Ring: the kernel also accumulates the 3-tap kernel gradient per stream in registers (``(B, c, c, 3)``
    partials, summed here). Dense: the weight gradient ``Σ δ_t h_{t−1}ᵀ`` is one large GEMM in torch.
    """
    from .scan_reference import weight_grad

    B, L, H = hs.shape
    grad_z = torch.empty_like(hs)
    grad_h0 = torch.zeros(B, H, dtype=hs.dtype, device=hs.device)
    if L == 0 or B == 0:
        return grad_z, grad_h0, torch.zeros_like(weight)
    act = ACT_CODES[activation]
    if structure == "ring":
        c = weight.shape[0]
        n = H // c
        CP, NP = _pow2(c), _pow2(n)
        gw = torch.empty(B, c, c, 3, dtype=hs.dtype, device=hs.device)
        _ring_bwd_kernel[(B,)](grad_hs, hs, h0, weight, grad_z, grad_h0, gw, L, c, n, ACT=act, CP=CP, NP=NP,
                               num_warps=8 if CP * NP >= 4096 else 4)
        return grad_z, grad_h0, gw.sum(0)
    HP = _pow2(H)
    _dense_bwd_kernel[(triton.cdiv(B, 16),)](grad_hs, hs, weight, grad_z, grad_h0, B, L, H, ACT=act,
                                             BB=16, HP=HP, num_warps=8 if HP >= 256 else 4)
    return grad_z, grad_h0, weight_grad(grad_z, hs, h0, weight, structure)
