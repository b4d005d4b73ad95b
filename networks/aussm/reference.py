r"""Plain-torch oracles for the AUSSM scan (the specification the fused kernel is tested against).

Semantics (the released AUSSM code, arjunkaruvally/AUSSM), per batch ``b``, channel ``i``, complex state ``j``:

.. math::

    \theta_t[i,j] &= \sum_r W_A[i,j,r]\,u_t[r] + b_A[i,j]            \quad\text{(no } \Delta \text{ in the phase)} \\
    h_t[i,j]      &= e^{i\theta_t[i,j]}\,h_{t-1}[i,j] + \Delta_t[i]\,\tilde B_j\,\mathrm{silu}(u_t[i]) \\
    y_t[i]        &= \Big(\mathrm{Re}\sum_j \tilde C_j\,h_t[i,j] + D_i\,\mathrm{silu}(u_t[i])\Big)
                     \,\mathrm{silu}(z_t[i])

with :math:`\tilde B = \mathrm{softplus}(\mathrm{Re}\,B)\,e^{i\,\mathrm{Im}\,B}` (same for C, see :func:`polar`),
readout ``Re`` with **no** factor 2, and no gate when ``z`` is ``None``. Layout is batch-first,
time-major: ``u, delta, z, y`` are ``(B, L, D)``; ``W_A`` is ``(D, N, D)`` (output channel, state, input
channel); ``b_A`` is ``(D, N)``; ``B̃, C̃`` are complex ``(N,)``; states are complex ``(B, D, N)``.

Two oracles:

* :func:`scan_sequential` -- the recurrence above, one step at a time (ground truth; use float64).
* :func:`scan_polar` -- the separable ("polar") form, O(L) and vectorised:
  :math:`G_t = \sum_{s\le t}\theta_s \bmod 2\pi`, :math:`S_t = h_0 + \sum_{s\le t} e^{-iG_s}\tilde B\,v_s`,
  :math:`h_t = e^{iG_t} S_t`. Differentiable by autograd; memory O(B·L·D·N).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

TWO_PI = 2.0 * math.pi


def polar(p: torch.Tensor) -> torch.Tensor:
    r"""Read a complex parameter in polar form: :math:`\mathrm{softplus}(\mathrm{Re}\,p)\,e^{i\,\mathrm{Im}\,p}`.

    Example
    -------
    >>> p = torch.tensor([0.0 + 0.0j])
    >>> torch.allclose(polar(p).abs(), torch.tensor([math.log(2.0)]))
    True
    """
    if not torch.is_complex(p):
        raise ValueError(f"polar(p): p must be a complex tensor, got dtype {p.dtype}")
    return torch.polar(F.softplus(p.real), p.imag)


def phases(u: torch.Tensor, W_A: torch.Tensor, b_A: torch.Tensor) -> torch.Tensor:
    r"""Per-step phases :math:`\theta_t[i,j] = \sum_r W_A[i,j,r] u_t[r] + b_A[i,j]`, shape ``(B, L, D, N)``.

    Example
    -------
    >>> u = torch.ones(1, 2, 3); W = torch.zeros(3, 4, 3); b = torch.full((3, 4), 0.5)
    >>> phases(u, W, b).shape
    torch.Size([1, 2, 3, 4])
    """
    return torch.einsum("blr,ijr->blij", u, W_A) + b_A


def _complex_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.complex128 if dtype == torch.float64 else torch.complex64


def scan_sequential(u, delta, W_A, b_A, B, C, D, z=None, h0=None):
    r"""Ground-truth AUSSM scan, one time step at a time (see the module equations).

    Returns ``(y, h_last)``: ``y`` real ``(B, L, D)``, ``h_last`` complex ``(B, D, N)``. Slow (Python
    loop over L); meant for float64 checks at small sizes.

    Example
    -------
    >>> g = torch.Generator().manual_seed(0)
    >>> u = torch.randn(1, 5, 2, generator=g, dtype=torch.float64)
    >>> W = torch.randn(2, 3, 2, generator=g, dtype=torch.float64); b = torch.zeros(2, 3, dtype=torch.float64)
    >>> B = C = torch.ones(3, dtype=torch.complex128)
    >>> y, h = scan_sequential(u, u.abs(), W, b, B, C, torch.ones(2, dtype=torch.float64))
    >>> y.shape, h.shape
    (torch.Size([1, 5, 2]), torch.Size([1, 2, 3]))
    """
    bsz, L, d = u.shape
    n = W_A.shape[1]
    cdt = _complex_dtype(u.dtype)
    theta = phases(u, W_A, b_A)                       # (B, L, D, N)
    su = F.silu(u)
    drive = (delta * su).unsqueeze(-1).to(cdt) * B.to(cdt)   # (B, L, D, N)
    h = torch.zeros(bsz, d, n, dtype=cdt, device=u.device) if h0 is None else h0.to(cdt)
    ys = []
    for theta_t, drive_t in zip(theta.unbind(1), drive.unbind(1)):   # unbind: O(L) backward
        h = torch.polar(torch.ones_like(theta_t), theta_t) * h + drive_t
        ys.append((h * C.to(cdt)).sum(-1).real)
    y = torch.stack(ys, 1) if L else u.new_zeros(bsz, 0, d)
    y = y + D * su
    if z is not None:
        y = y * F.silu(z)
    return y, h


def scan_polar(u, delta, W_A, b_A, B, C, D, z=None, h0=None):
    r"""Vectorised separable ("polar") AUSSM scan; same arguments and results as :func:`scan_sequential`.

    :math:`G_t = (\sum_{s\le t}\theta_s) \bmod 2\pi`, :math:`S_t = h_0 + \sum_{s\le t} e^{-iG_s}\tilde B v_s`,
    :math:`h_t = e^{iG_t}S_t`,
    :math:`y_t = (\mathrm{Re}\sum_j \tilde C_j h_t + D\,\mathrm{silu}\,u_t)\,\mathrm{silu}\,z_t`.
    Runs on any device and dtype (float32 and float64 tested), differentiable by autograd.

    Example
    -------
    >>> g = torch.Generator().manual_seed(0)
    >>> u = torch.randn(2, 7, 3, generator=g, dtype=torch.float64)
    >>> W = torch.randn(3, 4, 3, generator=g, dtype=torch.float64)
    >>> b = torch.randn(3, 4, generator=g, dtype=torch.float64)
    >>> B = torch.randn(4, generator=g, dtype=torch.complex128); C = torch.randn(4, generator=g, dtype=torch.complex128)
    >>> D = torch.ones(3, dtype=torch.float64)
    >>> y1, h1 = scan_polar(u, u.exp(), W, b, B, C, D, z=u)
    >>> y2, h2 = scan_sequential(u, u.exp(), W, b, B, C, D, z=u)
    >>> bool(torch.allclose(y1, y2)) and bool(torch.allclose(h1, h2))
    True
    """
    cdt = _complex_dtype(u.dtype)
    theta = phases(u, W_A, b_A)
    G = torch.remainder(torch.cumsum(theta, dim=1), TWO_PI)  # wrapped cumulative phase (B, L, D, N)
    rot = torch.polar(torch.ones_like(G), G)                 # e^{iG}
    su = F.silu(u)
    v = (delta * su).unsqueeze(-1)
    S = torch.cumsum(rot.conj() * (v.to(cdt) * B.to(cdt)), dim=1)
    if h0 is not None:
        S = S + h0.to(cdt).unsqueeze(1)
    h = rot * S
    y = (h * C.to(cdt)).sum(-1).real + D * su
    if z is not None:
        y = y * F.silu(z)
    if u.shape[1] == 0:
        h_last = (torch.zeros(u.shape[0], u.shape[2], W_A.shape[1], dtype=cdt, device=u.device)
                  if h0 is None else h0.to(cdt))
    else:
        h_last = h[:, -1]
    return y, h_last
