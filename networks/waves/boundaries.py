"""Start-boundary functions ``f(H)`` of the traveling-wave model (TWM).

``H ∈ ℝ^{B × s × d}`` is the substrate, column 0 the oldest (next to leave through the open end) and
column ``s−1`` the newest. Each boundary maps it to the next content of the start column,
``h_s(t+1) = f(H(t)) ∈ ℝ^{B × d}``:

* :class:`LinearBoundary` — ``f(H) = Σ_i F_i h_i = F · vec(H)`` (LBC, Φ = S⊗I + e_s⊗F);
* :class:`AttentionBoundary` — single-head self-attention readout over the s columns (SBC). The exact
  parameterisation is not in the sources; ours (documented choice):
  ``q = W_Q h_{query_col}``, ``k_i = W_K h_i``, ``v_i = W_V h_i``,
  ``f(H) = W_O Σ_i softmax_i(q·k_i/√d_k) v_i`` with learned per-column position vectors ``p_i`` added to
  ``h_i`` before the projections when ``positions=True``;
* :class:`MLPBoundary` — ``f(H) = W_2 tanh(W_1 vec(H) + b_1)``.

Example
-------
>>> import torch
>>> f = LinearBoundary(torch.eye(2, dtype=torch.float64).repeat(1, 3))   # Fibonacci, d=2, s=3
>>> f(torch.ones(1, 3, 2, dtype=torch.float64)).tolist()
[[3.0, 3.0]]
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .linear_hds import check_operator


def _check_substrate(H: Tensor, s: int, d: int) -> None:
    if H.dim() != 3 or H.shape[1:] != (s, d):
        raise ValueError(f"substrate H must have shape (B, s={s}, d={d}); got {tuple(H.shape)}")


class LinearBoundary(nn.Module):
    """Linear boundary ``f(H) = F · vec(H)`` with ``F ∈ ℝ^{d × s·d}`` (a learnable parameter).

    >>> f = LinearBoundary(torch.zeros(4, 12))
    >>> (f.d, f.s)
    (4, 3)
    """

    def __init__(self, F: Tensor, requires_grad: bool = True):
        super().__init__()
        self.d, self.s = check_operator(F)
        self.F = nn.Parameter(F.clone(), requires_grad=requires_grad)

    def forward(self, H: Tensor) -> Tensor:
        _check_substrate(H, self.s, self.d)
        return H.reshape(H.shape[0], -1) @ self.F.T.to(H.dtype)


class AttentionBoundary(nn.Module):
    """Single-head self-attention boundary (SBC, our parameterisation; see the module docstring).

    ``query_col`` picks the column forming the query (default −1, the newest). Weights are drawn from
    ``generator`` with std ``1/√d``.

    >>> g = torch.Generator().manual_seed(0)
    >>> f = AttentionBoundary(d=4, s=3, d_k=4, generator=g)
    >>> f(torch.randn(2, 3, 4)).shape
    torch.Size([2, 4])
    """

    def __init__(self, d: int, s: int, d_k: int | None = None, query_col: int = -1, positions: bool = True,
                 generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32):
        super().__init__()
        if d < 1 or s < 1:
            raise ValueError(f"d={d} and s={s} must be positive")
        if not -s <= query_col < s:
            raise ValueError(f"query_col={query_col} must index one of the s={s} columns")
        d_k = d if d_k is None else d_k
        self.d, self.s, self.d_k, self.query_col = d, s, d_k, query_col

        def w(*shape):
            return nn.Parameter(torch.randn(*shape, generator=generator, dtype=dtype) / math.sqrt(shape[-1]))

        self.W_Q, self.W_K, self.W_V, self.W_O = w(d_k, d), w(d_k, d), w(d_k, d), w(d, d_k)
        self.pos = w(s, d) if positions else None

    def forward(self, H: Tensor) -> Tensor:
        _check_substrate(H, self.s, self.d)
        X = H + self.pos if self.pos is not None else H
        q = X[:, self.query_col] @ self.W_Q.T
        k = X @ self.W_K.T
        v = X @ self.W_V.T
        att = torch.softmax((k @ q.unsqueeze(-1)).squeeze(-1) / math.sqrt(self.d_k), dim=-1)
        return (att.unsqueeze(-1) * v).sum(1) @ self.W_O.T


class MLPBoundary(nn.Module):
    """MLP boundary ``f(H) = W_2 tanh(W_1 vec(H) + b_1)``.

    >>> f = MLPBoundary(d=2, s=3, hidden=5, generator=torch.Generator().manual_seed(0))
    >>> f(torch.zeros(1, 3, 2)).shape
    torch.Size([1, 2])
    """

    def __init__(self, d: int, s: int, hidden: int = 64, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        if d < 1 or s < 1 or hidden < 1:
            raise ValueError(f"d={d}, s={s} and hidden={hidden} must be positive")
        self.d, self.s = d, s
        self.W1 = nn.Parameter(torch.randn(hidden, s * d, generator=generator, dtype=dtype) / math.sqrt(s * d))
        self.b1 = nn.Parameter(torch.zeros(hidden, dtype=dtype))
        self.W2 = nn.Parameter(torch.randn(d, hidden, generator=generator, dtype=dtype) / math.sqrt(hidden))

    def forward(self, H: Tensor) -> Tensor:
        _check_substrate(H, self.s, self.d)
        return torch.tanh(H.reshape(H.shape[0], -1) @ self.W1.T + self.b1) @ self.W2.T
