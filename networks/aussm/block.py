r"""The AUSSM block: in_proj, causal depthwise conv, Δ path, phase projection, unitary scan, gate, out_proj.

Dataflow (the semantics of the released AUSSM code), input ``x`` of shape
``(B, L, d)``, no expansion (``d_inner = d``), ``n`` complex states per channel, ``r = dt_rank``:

.. math::

    [x', z] &= x\,W_{in}^\top                                          \qquad (d \to 2d,\ \text{no bias})\\
    u_t &= b_{conv} + \textstyle\sum_{k=0}^{K-1} w_{conv}[:,k]\,x'_{t-K+1+k} \qquad \text{(causal depthwise, no SiLU)}\\
    \Delta_t &= \mathrm{softplus}\big(W_{dt}\,W_x u_t + 2\,b_{dt}\big)  \qquad \text{(the code adds the bias twice)}\\
    \theta_t[i,j] &= \textstyle\sum_r W_A[i,j,r]\,u_t[r] + b_A[i,j],\quad W_A = W_{xA}/\sqrt d \\
    h_t &= e^{i\theta_t} \odot h_{t-1} + \Delta_t\,\tilde B\,\mathrm{silu}(u_t) \\
    y_t &= \big(\mathrm{Re}\textstyle\sum_j \tilde C_j h_t[:,j] + D\,\mathrm{silu}(u_t)\big)\,\mathrm{silu}(z_t),
    \qquad \text{out}_t = W_{out}\,y_t + b_{out}

with :math:`\tilde B = \mathrm{softplus}(\mathrm{Re}\,B)e^{i\,\mathrm{Im}\,B}` (same for C). ``B`` and ``C`` are
stored as real ``(n, 2)`` tensors (real, imaginary part) so that ``.double()`` converts them. The scan runs
through :func:`networks.aussm.ops.aussm_scan` with the block's explicit ``backend``.

Initialisation (as in the released code), all drawn from an explicit ``torch.Generator``: linear weights and the conv
U(±1/√fan_in); ``xA_proj`` bias U(−π, π); ``B, C`` with real and imaginary parts N(0, ½); ``D = 1``.
``phase_scale`` (default 1, the released init) multiplies the ``xA_proj`` weight bound: W_A = W_xA/√d starts
U(±phase_scale/d). With the released scale the *input-dependent* part of θ is tiny at init (two different tokens
differ by ≈0.03–0.06 rad at d = 16–32), so tasks whose solution is a large token-dependent rotation (parity needs
π) get a vanishing gradient (the parity signal of a length-L sequence scales like cos(ε/2)^L for a phase error ε);
``phase_scale`` ≈ 30 spreads those differences over about ±π (see ``experiments/aussm/formal_languages.py``).

Batch axis first; one set of weights shared by all streams. Decoding: :meth:`AUSSMBlock.init_state`
and :meth:`AUSSMBlock.step` advance one token with an explicit :class:`AUSSMState` (conv buffer and
complex state); ``forward(x, state)`` continues from a state, so ``forward(a ++ b) == forward(a)``
then ``forward(b)`` with the carried state.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .ops import BACKENDS, aussm_scan


class AUSSMState(NamedTuple):
    """Decode state of an :class:`AUSSMBlock`: ``conv`` (B, d, K−1) last pre-conv inputs, ``h`` complex (B, d, n).

    >>> s = AUSSMBlock(8, d_state=4, generator=torch.Generator().manual_seed(0)).init_state(2)
    >>> s.conv.shape, s.h.shape, s.h.dtype
    (torch.Size([2, 8, 3]), torch.Size([2, 8, 4]), torch.complex64)
    """

    conv: Tensor
    h: Tensor


def uniform_(t: Tensor, bound: float, generator: torch.Generator | None) -> Tensor:
    """Fill ``t`` in place with U(−bound, bound) from ``generator`` (no global RNG); returns ``t``.

    Example
    -------
    >>> w = uniform_(torch.empty(3), 0.5, torch.Generator().manual_seed(0))
    >>> bool((w.abs() <= 0.5).all())
    True
    """
    with torch.no_grad():
        r = torch.rand(t.shape, generator=generator, dtype=torch.float64)
        t.copy_(((2 * r - 1) * bound).to(t.dtype))
    return t


def linear(d_in: int, d_out: int, bias: bool, generator: torch.Generator | None) -> nn.Linear:
    """An ``nn.Linear`` initialised U(±1/√d_in) (weights and bias) from an explicit generator.

    Example
    -------
    >>> linear(4, 2, True, torch.Generator().manual_seed(0)).weight.shape
    torch.Size([2, 4])
    """
    lin = nn.Linear(d_in, d_out, bias=bias)
    uniform_(lin.weight, 1.0 / math.sqrt(d_in), generator)
    if bias:
        uniform_(lin.bias, 1.0 / math.sqrt(d_in), generator)
    return lin


def causal_conv(x: Tensor, weight: Tensor, bias: Tensor, prefix: Tensor | None = None) -> tuple[Tensor, Tensor]:
    r"""Causal depthwise conv :math:`u_t = b + \sum_k w[:,k]\,x_{t-K+1+k}` over ``x`` (B, L, C).

    ``prefix`` (B, C, K−1) holds the K−1 inputs before ``x`` (zeros when ``None``). Returns ``(u, new_prefix)``
    with ``u`` (B, L, C) and the last K−1 inputs as the next prefix.

    Example
    -------
    >>> x = torch.arange(4.).view(1, 4, 1); w = torch.ones(1, 1, 2); b = torch.zeros(1)
    >>> causal_conv(x, w, b)[0].flatten().tolist()        # x_t + x_{t-1}
    [0.0, 1.0, 3.0, 5.0]
    """
    bsz, L, c = x.shape
    k = weight.shape[-1]
    if prefix is None:
        prefix = x.new_zeros(bsz, c, k - 1)
    xc = torch.cat([prefix, x.transpose(1, 2)], dim=2)          # (B, C, K-1+L)
    u = F.conv1d(xc, weight, bias, groups=c).transpose(1, 2)     # (B, L, C)
    return u, xc[:, :, xc.shape[2] - (k - 1):]


def _check_input(name: str, x: Tensor, last: int, dims: int) -> None:
    if not isinstance(x, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != dims or x.shape[-1] != last:
        want = "(batch, length, d_model)" if dims == 3 else "(batch, d_model)"
        raise ValueError(f"{name} must have shape {want} with d_model={last}, got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating tensor, got {x.dtype}")


class AUSSMBlock(nn.Module):
    r"""AUSSM mixer block (see the module docstring for the equations); maps (B, L, d) → (B, L, d).

    Arguments: ``d_model`` (d), ``d_state`` (n complex states per channel), ``d_conv`` (K, conv width;
    ``conv=False`` skips the conv, ``u = x'``), ``dt_rank`` (``"auto"`` → ``d_state`` as in the released code),
    ``backend`` (``"torch"``, ``"triton"`` or ``"auto"``, passed to :func:`aussm_scan`, never a silent
    fallback), ``precision`` (fused-kernel mode), ``phase_scale`` (init scale of the phase projection's weight,
    1 = released init; see the module docstring), ``generator`` (explicit RNG for the initialisation).

    Example
    -------
    >>> blk = AUSSMBlock(8, d_state=4, backend="torch", generator=torch.Generator().manual_seed(0))
    >>> x = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(1))
    >>> blk(x).shape
    torch.Size([2, 5, 8])
    >>> s = blk.init_state(2)
    >>> y0, s = blk.step(x[:, 0], s)
    >>> bool(torch.allclose(y0, blk(x)[:, 0], atol=1e-6))
    True
    """

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 4, dt_rank: int | str = "auto", *,
                 conv: bool = True, backend: str = "auto", precision: str = "fast", phase_scale: float = 1.0,
                 generator: torch.Generator | None = None):
        super().__init__()
        if isinstance(phase_scale, bool) or not isinstance(phase_scale, (int, float)) or \
                not (0 < phase_scale < math.inf):
            raise ValueError(f"phase_scale must be a positive finite number, got {phase_scale!r}")
        for name, v in (("d_model", d_model), ("d_state", d_state), ("d_conv", d_conv)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if dt_rank == "auto":
            dt_rank = d_state
        if not isinstance(dt_rank, int) or dt_rank < 1:
            raise ValueError(f"dt_rank must be 'auto' or a positive integer, got {dt_rank!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r} is not one of {list(BACKENDS)}")
        d, n = d_model, d_state
        self.d_model, self.d_state, self.d_conv, self.dt_rank = d, n, d_conv, dt_rank
        self.use_conv, self.backend, self.precision = conv, backend, precision
        self.phase_scale = float(phase_scale)
        g = generator
        self.in_proj = linear(d, 2 * d, False, g)
        self.conv_weight = nn.Parameter(uniform_(torch.empty(d, 1, d_conv), 1 / math.sqrt(d_conv), g))
        self.conv_bias = nn.Parameter(uniform_(torch.empty(d), 1 / math.sqrt(d_conv), g))
        self.x_proj = linear(d, dt_rank, False, g)
        self.dt_proj = linear(dt_rank, d, True, g)
        self.xA_proj = linear(d, d * n, True, g)
        if phase_scale != 1.0:
            with torch.no_grad():
                self.xA_proj.weight.mul_(float(phase_scale))
        uniform_(self.xA_proj.bias, math.pi, g)
        self.B = nn.Parameter(torch.randn(n, 2, generator=g) * math.sqrt(0.5))
        self.C = nn.Parameter(torch.randn(n, 2, generator=g) * math.sqrt(0.5))
        self.D = nn.Parameter(torch.ones(d))
        self.out_proj = linear(d, d, True, g)

    # -- parameters in the scan's layout ------------------------------------------------------
    def scan_params(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        r"""``(W_A, b_A, B̃, C̃)``: W_A[i, j, r] = W_xA[j·d + i, r]/√d (n-major rows), b_A[i, j], polar B̃, C̃."""
        d, n = self.d_model, self.d_state
        W = self.xA_proj.weight.view(n, d, d).transpose(0, 1) / math.sqrt(d)
        b = self.xA_proj.bias.view(n, d).t()
        return W, b, _polar(self.B), _polar(self.C)

    def _u_z_dt(self, x: Tensor, prefix: Tensor | None):
        xz = self.in_proj(x)
        xi, z = xz.chunk(2, dim=-1)
        if self.use_conv:
            u, new_prefix = causal_conv(xi, self.conv_weight, self.conv_bias, prefix)
        else:
            u, new_prefix = xi, x.new_zeros(x.shape[0], self.d_model, self.d_conv - 1)
        dt = F.softplus(self.dt_proj(self.x_proj(u)) + self.dt_proj.bias)
        return u, z, dt, new_prefix

    def init_state(self, batch: int, *, dtype: torch.dtype | None = None,
                   device: torch.device | str | None = None) -> AUSSMState:
        """Zero decode state for ``batch`` streams (dtype/device default to the parameters')."""
        p = self.D
        dtype = dtype or p.dtype
        device = device or p.device
        cdt = torch.complex128 if dtype == torch.float64 else torch.complex64
        return AUSSMState(torch.zeros(batch, self.d_model, self.d_conv - 1, dtype=dtype, device=device),
                          torch.zeros(batch, self.d_model, self.d_state, dtype=cdt, device=device))

    def forward(self, x: Tensor, state: AUSSMState | None = None, *, return_state: bool = False):
        """Full-sequence forward of ``x`` (B, L, d); continues from ``state`` when given.

        Returns ``out`` (B, L, d), or ``(out, new_state)`` with ``return_state=True``.
        """
        _check_input("x", x, self.d_model, 3)
        u, z, dt, prefix = self._u_z_dt(x, None if state is None else state.conv)
        W, b, Bt, Ct = self.scan_params()
        y, h = aussm_scan(u, dt, W, b, Bt, Ct, self.D, z=z, h0=None if state is None else state.h,
                          backend=self.backend, precision=self.precision)
        out = self.out_proj(y)
        return (out, AUSSMState(prefix, h)) if return_state else out

    def step(self, x_t: Tensor, state: AUSSMState) -> tuple[Tensor, AUSSMState]:
        r"""One decode step: ``x_t`` (B, d) → ``(out_t, new_state)``, the recurrence of the module docstring.

        Runs the plain recurrence :math:`h \leftarrow e^{i\theta_t}h + \Delta_t\tilde B\,\mathrm{silu}(u_t)` in
        torch (any backend), equal to ``forward`` on the whole sequence (tested to 1e-10 in float64).
        """
        _check_input("x_t", x_t, self.d_model, 2)
        u, z, dt, prefix = self._u_z_dt(x_t.unsqueeze(1), state.conv)
        u, z, dt = u[:, 0], z[:, 0], dt[:, 0]
        W, b, Bt, Ct = self.scan_params()
        cdt = state.h.dtype
        theta = torch.einsum("br,ijr->bij", u, W) + b
        su = F.silu(u)
        h = torch.polar(torch.ones_like(theta), theta).to(cdt) * state.h + \
            (dt * su).unsqueeze(-1).to(cdt) * Bt.to(cdt)
        y = ((h * Ct.to(cdt)).sum(-1).real + self.D * su) * F.silu(z)
        return self.out_proj(y.to(x_t.dtype)), AUSSMState(prefix, h)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, d_state={self.d_state}, d_conv={self.d_conv}, backend={self.backend!r}"


def _polar(p: Tensor) -> Tensor:
    """Complex ``softplus(p[:,0]) e^{i p[:,1]}`` from a real (n, 2) parameter (complex128 for float64)."""
    return torch.polar(F.softplus(p[:, 0]), p[:, 1])


__all__ = ["AUSSMBlock", "AUSSMState", "causal_conv", "linear", "uniform_"]
