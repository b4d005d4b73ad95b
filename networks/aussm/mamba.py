r"""A plain-torch Mamba-1 style selective-scan block (the ``m`` layer of the hybrids, as in the released AUSSM code).

Dataflow for ``x`` (B, L, d), inner width ``e = expand·d``, ``n`` real states per channel, ``r = dt_rank``:

.. math::

    [x', z] &= x\,W_{in}^\top \quad (d \to 2e),\qquad
    u_t = \mathrm{silu}\big(\mathrm{conv}_{causal}(x')_t\big) \\
    [\delta_t, B_t, C_t] &= W_x u_t \quad (e \to r + 2n),\qquad
    \Delta_t = \mathrm{softplus}(W_{dt}\delta_t + 2 b_{dt}) \\
    h_t[i,j] &= e^{\Delta_t[i] A[i,j]}\,h_{t-1}[i,j] + \Delta_t[i]\,B_t[j]\,u_t[i],\qquad A = -e^{A_{\log}} \\
    y_t[i] &= \Big(\textstyle\sum_j C_t[j]\,h_t[i,j] + D_i\,u_t[i]\Big)\,\mathrm{silu}(z_t[i]),
    \qquad \text{out}_t = W_{out}\,y_t

S4D-real init ``A_log[i, j] = log(j + 1)``, ``D = 1``, the double ``dt`` bias of the released code, linear
layers U(±1/√fan_in) from an explicit generator. The transition :math:`e^{\Delta A} \in (0, 1)` is real and
positive (no negative eigenvalues), so this block cannot count mod 2 in a length-generalising way (Sarrof
et al.; Grazzi et al.) -- the point of comparing it with AUSSM.

:func:`selective_scan` is the sequential scan (a Python loop over time, exact in float64);
:func:`selective_scan_parallel` computes the same thing in ⌈log₂ L⌉ vectorised steps (tested against the
sequential scan in float64, values and gradients). The block's ``scan="auto"`` (default) runs the loop on CPU,
where it measured 2–16× faster (L 30–1024), and the parallel scan on other devices (see :func:`resolve_scan`).
Decode with :meth:`MambaBlock.init_state` / :meth:`MambaBlock.step`.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .block import _check_input, causal_conv, linear, uniform_


class MambaState(NamedTuple):
    """Decode state of a :class:`MambaBlock`: ``conv`` (B, e, K−1) pre-conv inputs, ``h`` (B, e, n) real.

    >>> s = MambaBlock(8, d_state=4, generator=torch.Generator().manual_seed(0)).init_state(2)
    >>> s.conv.shape, s.h.shape                  # e = expand · d = 16
    (torch.Size([2, 16, 3]), torch.Size([2, 16, 4]))
    """

    conv: Tensor
    h: Tensor


def selective_scan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor,
                   z: Tensor | None = None, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
    r"""Sequential selective scan :math:`h_t = e^{\Delta_t A} h_{t-1} + \Delta_t B_t u_t`,
    :math:`y_t = (C_t\!\cdot\! h_t + D u_t)\,\mathrm{silu}(z_t)`.

    Shapes: ``u, delta, z`` (b, L, e); ``A`` (e, n); ``B, C`` (b, L, n); ``D`` (e,); ``h0`` (b, e, n).
    Returns ``(y, h_last)``. A Python loop over L: exact, differentiable, slow for long L.

    Example
    -------
    >>> u = torch.ones(1, 3, 1); dt = torch.full((1, 3, 1), math.log(2.0)); A = -torch.ones(1, 1)
    >>> Bm = Cm = torch.ones(1, 3, 1)
    >>> y, h = selective_scan(u, dt, A, Bm, Cm, torch.zeros(1))   # h_t = h_{t-1}/2 + log 2
    >>> round(float(h), 6) == round(math.log(2.0) * 1.75, 6)
    True
    """
    bsz, L, e = u.shape
    n = A.shape[1]
    h = u.new_zeros(bsz, e, n) if h0 is None else h0
    dA = torch.exp(delta.unsqueeze(-1) * A)                     # (b, L, e, n)
    dBu = (delta * u).unsqueeze(-1) * B.unsqueeze(2)            # (b, L, e, n)
    ys = []
    for dA_t, dBu_t, C_t in zip(dA.unbind(1), dBu.unbind(1), C.unbind(1)):   # unbind: O(L) backward
        h = dA_t * h + dBu_t
        ys.append(torch.einsum("ben,bn->be", h, C_t))
    y = torch.stack(ys, 1) if L else u.new_zeros(bsz, 0, e)
    y = y + D * u
    if z is not None:
        y = y * F.silu(z)
    return y, h


def selective_scan_parallel(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Tensor,
                            z: Tensor | None = None, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
    r"""The same scan as :func:`selective_scan` in :math:`\lceil\log_2 L\rceil` vectorised steps (Hillis–Steele).

    The linear recurrence :math:`h_t = a_t h_{t-1} + b_t` with :math:`a_t = e^{\Delta_t A}`,
    :math:`b_t = \Delta_t B_t u_t` is an associative scan of the pairs :math:`(a, b)` under
    :math:`(a_2, b_2)\circ(a_1, b_1) = (a_2 a_1,\ a_2 b_1 + b_2)`; step ``k`` combines each position with the one
    :math:`2^k` earlier. Only products of decays in (0, 1] appear (no division, no overflow), so it agrees with
    the sequential scan to rounding (tested to 1e-12 in float64, gradients included). Same arguments and
    results as :func:`selective_scan`; memory O(b·L·e·n) per level. On one CPU thread it is *slower* than the
    loop, by 2× at L 30 and 16× at L 1024 (``python -m experiments.bench.aussm_mamba_scan``; figures in
    ``docs/benchmarks.md``). It was ≈1.9× faster than an earlier loop whose per-step slices made autograd
    zero-fill the whole (b, L, e, n) tensor for every time step (the loop now reads by ``unbind``).

    Example
    -------
    >>> g = torch.Generator().manual_seed(0)
    >>> u = torch.randn(2, 9, 3, generator=g, dtype=torch.float64)
    >>> dt = torch.rand(2, 9, 3, generator=g, dtype=torch.float64)
    >>> A = -torch.rand(3, 4, generator=g, dtype=torch.float64)
    >>> Bm = torch.randn(2, 9, 4, generator=g, dtype=torch.float64)
    >>> Cm = torch.randn(2, 9, 4, generator=g, dtype=torch.float64)
    >>> y1, h1 = selective_scan_parallel(u, dt, A, Bm, Cm, torch.ones(3, dtype=torch.float64))
    >>> y2, h2 = selective_scan(u, dt, A, Bm, Cm, torch.ones(3, dtype=torch.float64))
    >>> bool(torch.allclose(y1, y2, atol=1e-12)) and bool(torch.allclose(h1, h2, atol=1e-12))
    True
    """
    bsz, L, e = u.shape
    n = A.shape[1]
    if L == 0:
        return u.new_zeros(bsz, 0, e), (u.new_zeros(bsz, e, n) if h0 is None else h0)
    a = torch.exp(delta.unsqueeze(-1) * A)                      # (b, L, e, n)
    b = (delta * u).unsqueeze(-1) * B.unsqueeze(2)              # (b, L, e, n)
    t = torch.arange(L, device=u.device).view(1, L, 1, 1)
    s = 1
    while s < L:
        # shift by s along time with torch.roll and a mask (no slicing: slice backward zero-fills the full tensor)
        keep = (t >= s).to(a.dtype)
        b = a * (torch.roll(b, s, 1) * keep) + b
        if 2 * s < L or h0 is not None:                          # the last level's decay is only needed for h0
            a = a * (torch.roll(a, s, 1) * keep + (1 - keep))
        s *= 2
    h = b if h0 is None else b + a * h0.unsqueeze(1)            # a is now the cumulative decay since t = 0
    y = torch.einsum("blen,bln->ble", h, C) + D * u
    if z is not None:
        y = y * F.silu(z)
    return y, h[:, -1]


SCANS = {"parallel": selective_scan_parallel, "sequential": selective_scan}
SCAN_CHOICES = ("auto", *SCANS)


def resolve_scan(scan: str, device: torch.device | str) -> str:
    """The scan ``"auto"`` runs on ``device``: ``"sequential"`` on CPU (measured 2–16× faster there, see
    :func:`selective_scan_parallel`), ``"parallel"`` elsewhere (⌈log₂ L⌉ levels of large kernels instead of
    L steps of small ones; not yet timed on a GPU). Explicit names are returned unchanged.

    >>> resolve_scan("auto", "cpu"), resolve_scan("auto", "cuda"), resolve_scan("parallel", "cpu")
    ('sequential', 'parallel', 'parallel')
    """
    if scan not in SCAN_CHOICES:
        raise ValueError(f"scan={scan!r} is not one of {list(SCAN_CHOICES)}")
    if scan != "auto":
        return scan
    return "sequential" if torch.device(device).type == "cpu" else "parallel"


class MambaBlock(nn.Module):
    r"""Mamba-1 style mixer (equations in the module docstring); maps (B, L, d) → (B, L, d).

    Arguments: ``d_model``, ``d_state`` (n, shared with the AUSSM layers in the hybrids), ``d_conv``,
    ``expand`` (e = expand·d), ``dt_rank`` (``"auto"`` → ⌈d/16⌉), ``scan`` (``"sequential"``: the loop
    :func:`selective_scan`; ``"parallel"``: :func:`selective_scan_parallel`; ``"auto"``, the default: by device,
    :func:`resolve_scan`), ``generator`` (explicit RNG). Both scans give the same results to rounding.

    Example
    -------
    >>> blk = MambaBlock(8, d_state=4, generator=torch.Generator().manual_seed(0))
    >>> x = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(1))
    >>> y = blk(x); y.shape
    torch.Size([2, 5, 8])
    >>> s = blk.init_state(2)
    >>> outs = []
    >>> for t in range(5):
    ...     o, s = blk.step(x[:, t], s); outs.append(o)
    >>> bool(torch.allclose(torch.stack(outs, 1), y, atol=1e-6))
    True
    """

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 4, expand: int = 2,
                 dt_rank: int | str = "auto", *, scan: str = "auto", generator: torch.Generator | None = None):
        super().__init__()
        resolve_scan(scan, "cpu")   # validates the name
        self.scan = scan
        for name, v in (("d_model", d_model), ("d_state", d_state), ("d_conv", d_conv), ("expand", expand)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if dt_rank == "auto":
            dt_rank = math.ceil(d_model / 16)
        if not isinstance(dt_rank, int) or dt_rank < 1:
            raise ValueError(f"dt_rank must be 'auto' or a positive integer, got {dt_rank!r}")
        d, n, e = d_model, d_state, expand * d_model
        self.d_model, self.d_state, self.d_conv, self.d_inner, self.dt_rank = d, n, d_conv, e, dt_rank
        g = generator
        self.in_proj = linear(d, 2 * e, False, g)
        self.conv_weight = nn.Parameter(uniform_(torch.empty(e, 1, d_conv), 1 / math.sqrt(d_conv), g))
        self.conv_bias = nn.Parameter(uniform_(torch.empty(e), 1 / math.sqrt(d_conv), g))
        self.x_proj = linear(e, dt_rank + 2 * n, False, g)
        self.dt_proj = linear(dt_rank, e, True, g)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, n + 1, dtype=torch.float32)).repeat(e, 1))
        self.D = nn.Parameter(torch.ones(e))
        self.out_proj = linear(e, d, False, g)

    def _prep(self, x: Tensor, prefix: Tensor | None):
        xz = self.in_proj(x)
        xi, z = xz.chunk(2, dim=-1)
        c, new_prefix = causal_conv(xi, self.conv_weight, self.conv_bias, prefix)
        u = F.silu(c)
        dbc = self.x_proj(u)
        r, n = self.dt_rank, self.d_state
        dt = F.softplus(self.dt_proj(dbc[..., :r]) + self.dt_proj.bias)
        return u, z, dt, dbc[..., r:r + n], dbc[..., r + n:], new_prefix

    def init_state(self, batch: int, *, dtype: torch.dtype | None = None,
                   device: torch.device | str | None = None) -> MambaState:
        """Zero decode state for ``batch`` streams (dtype/device default to the parameters')."""
        dtype = dtype or self.D.dtype
        device = device or self.D.device
        return MambaState(torch.zeros(batch, self.d_inner, self.d_conv - 1, dtype=dtype, device=device),
                          torch.zeros(batch, self.d_inner, self.d_state, dtype=dtype, device=device))

    def forward(self, x: Tensor, state: MambaState | None = None, *, return_state: bool = False):
        """Full-sequence forward of ``x`` (B, L, d) (from ``state`` when given); ``(out, state)`` on request."""
        _check_input("x", x, self.d_model, 3)
        u, z, dt, Bm, Cm, prefix = self._prep(x, None if state is None else state.conv)
        y, h = SCANS[resolve_scan(self.scan, u.device)](u, dt, -torch.exp(self.A_log), Bm, Cm, self.D, z=z,
                              h0=None if state is None else state.h)
        out = self.out_proj(y)
        return (out, MambaState(prefix, h)) if return_state else out

    def step(self, x_t: Tensor, state: MambaState) -> tuple[Tensor, MambaState]:
        """One decode step: ``x_t`` (B, d) → ``(out_t, new_state)``; equals ``forward`` token by token."""
        _check_input("x_t", x_t, self.d_model, 2)
        u, z, dt, Bm, Cm, prefix = self._prep(x_t.unsqueeze(1), state.conv)
        u, z, dt, Bm, Cm = u[:, 0], z[:, 0], dt[:, 0], Bm[:, 0], Cm[:, 0]
        A = -torch.exp(self.A_log)
        h = torch.exp(dt.unsqueeze(-1) * A) * state.h + (dt * u).unsqueeze(-1) * Bm.unsqueeze(1)
        y = (torch.einsum("ben,bn->be", h, Cm) + self.D * u) * F.silu(z)
        return self.out_proj(y), MambaState(prefix, h)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, d_state={self.d_state}, d_inner={self.d_inner}, scan={self.scan!r}"


__all__ = ["MambaBlock", "MambaState", "selective_scan", "selective_scan_parallel", "SCANS", "SCAN_CHOICES",
           "resolve_scan"]
