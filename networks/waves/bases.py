"""Wave ("variable memory") bases of a recurrent matrix, and projections into them.

For a bias-free RNN the origin is a fixed point with Jacobian ``W = W_hh``; if it implements a TWM,
``W Ψ = Ψ Φ`` for some basis ``Ψ = [Ψ_1 | … | Ψ_s] ∈ ℝ^{n × sd}`` (``Ψ_1`` oldest). Two bases:

* **Krylov** (what emt-tools computes): ``Ψ = [W^{s−1}G | … | WG | G]`` with grounding block ``G``
  (``W_uh``: input grounding, or ``pinv(W_hy)``: output grounding). Shift blocks of ``Ψ⁺WΨ`` are exact
  by construction; the composition sits in the first (oldest) block *column* (companion form).
* **F-aware** (theory basis, needs the task's F): ``Ψ_s = W_uh`` and
  ``Ψ_{i−1} = W Ψ_i − Ψ_s F_i`` for ``i = s … 2``; then ``Ψ⁺WΨ`` is the row-form Φ.

``project(h, Ψ*)`` returns the wave coordinates ``Ψ* h(t)`` reshaped to ``(…, s, d)``.

Example
-------
>>> import torch
>>> W = torch.roll(torch.eye(4, dtype=torch.float64), 1, 0)      # 4-cycle: W e_i = e_{i+1}
>>> Psi = krylov_basis(W, torch.eye(4, dtype=torch.float64)[:, :1], s=4)
>>> torch.allclose(dual_basis(Psi) @ W @ Psi, torch.roll(torch.eye(4, dtype=torch.float64), -1, 1).T)
True
"""
from __future__ import annotations

import torch
from torch import Tensor

from .linear_hds import check_operator


def _matrix(name: str, A: Tensor, rows: int | None = None) -> None:
    if not isinstance(A, Tensor) or A.dim() != 2:
        raise ValueError(f"{name} must be a 2-D tensor; got {getattr(A, 'shape', type(A))}")
    if rows is not None and A.shape[0] != rows:
        raise ValueError(f"{name} must have {rows} rows; got shape {tuple(A.shape)}")
    if not torch.isfinite(A).all():
        raise ValueError(f"{name} contains NaN or inf")


def grounding(W_uh: Tensor | None = None, W_hy: Tensor | None = None, mode: str = "input") -> Tensor:
    """Grounding block ``G``: ``W_uh`` (``mode='input'``, paper) or ``pinv(W_hy)`` (``'output'``, code).

    >>> grounding(W_hy=torch.eye(2)[:1], mode="output").shape
    torch.Size([2, 1])
    """
    if mode == "input":
        if W_uh is None:
            raise ValueError("mode='input' needs W_uh (n_hidden × d_in)")
        return W_uh
    if mode == "output":
        if W_hy is None:
            raise ValueError("mode='output' needs W_hy (d_out × n_hidden)")
        return torch.linalg.pinv(W_hy.to(torch.float64), rtol=1e-15).to(W_hy.dtype)
    raise ValueError(f"mode={mode!r} must be 'input' or 'output'")


def krylov_basis(W: Tensor, G: Tensor, s: int, normalize: bool = False) -> Tensor:
    """``Ψ = [W^{s−1}G | … | WG | G]`` (oldest block first), shape ``(n, s·d)``.

    ``normalize=True`` scales each column to unit norm (emt-tools convention; then the shift blocks of
    ``Ψ⁺WΨ`` are diagonal scalings instead of identities).

    >>> krylov_basis(torch.eye(3), torch.ones(3, 1), s=2).shape
    torch.Size([3, 2])
    """
    _matrix("W", W)
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square; got {tuple(W.shape)}")
    _matrix("G", G, rows=W.shape[0])
    if s < 1:
        raise ValueError(f"s={s} must be >= 1")
    blocks = [G]
    for _ in range(s - 1):
        blocks.append(W @ blocks[-1])
    Psi = torch.cat(blocks[::-1], dim=1)
    if normalize:
        Psi = Psi / Psi.norm(dim=0, keepdim=True).clamp_min(torch.finfo(Psi.dtype).tiny)
    return Psi


def f_aware_basis(W: Tensor, W_uh: Tensor, F: Tensor) -> Tensor:
    """Theory basis ``Ψ_s = W_uh``, ``Ψ_{i−1} = WΨ_i − Ψ_s F_i`` (``F_i``: block i of F), shape ``(n, sd)``.

    Follows from ``Φ E_i = E_{i−1} + E_s F_i``; with it ``Ψ⁺ W Ψ = Φ`` (row form).

    >>> from networks.waves.linear_hds import decode_task_id
    >>> F = decode_task_id(255, 0, 0)
    >>> f_aware_basis(torch.eye(64, dtype=torch.float64), torch.eye(64, dtype=torch.float64)[:, 56:], F).shape
    torch.Size([64, 64])
    """
    d, s = check_operator(F)
    _matrix("W", W)
    _matrix("W_uh", W_uh, rows=W.shape[0])
    if W_uh.shape[1] != d:
        raise ValueError(f"W_uh must have d={d} columns (one per state dimension); got {W_uh.shape[1]}")
    F = F.to(W.dtype)
    blocks = [None] * s
    blocks[s - 1] = W_uh
    for i in range(s - 1, 0, -1):
        blocks[i - 1] = W @ blocks[i] - W_uh @ F[:, i * d:(i + 1) * d]
    return torch.cat(blocks, dim=1)


def dual_basis(Psi: Tensor, rtol: float = 1e-12) -> Tensor:
    """``Ψ* = pinv(Ψ)`` computed in float64 by SVD (relative cutoff ``rtol``), returned in Ψ's dtype.

    >>> Psi = torch.tensor([[2.0, 0.0], [0.0, 4.0], [0.0, 0.0]])
    >>> dual_basis(Psi) @ Psi
    tensor([[1., 0.],
            [0., 1.]])
    """
    _matrix("Psi", Psi)
    return torch.linalg.pinv(Psi.to(torch.float64), rtol=rtol).to(Psi.dtype)


def project(h: Tensor, Psi_star: Tensor, s: int) -> Tensor:
    """Wave coordinates ``Ψ* h`` of hidden states ``h (…, n)``, reshaped to ``(…, s, d)``.

    >>> project(torch.ones(5, 4), torch.eye(4), s=2).shape
    torch.Size([5, 2, 2])
    """
    _matrix("Psi_star", Psi_star)
    if h.shape[-1] != Psi_star.shape[1]:
        raise ValueError(f"h has {h.shape[-1]} units but Psi_star expects {Psi_star.shape[1]}")
    if Psi_star.shape[0] % s:
        raise ValueError(f"Psi_star has {Psi_star.shape[0]} rows, not a multiple of s={s}")
    z = h.to(Psi_star.dtype) @ Psi_star.T
    return z.reshape(*h.shape[:-1], s, Psi_star.shape[0] // s)


def in_basis(W: Tensor, Psi: Tensor) -> Tensor:
    """``Ψ⁺ W Ψ``: the recurrent matrix read in the wave basis (should show shift blocks).

    >>> W = torch.tensor([[0.0, 1.0], [1.0, 0.0]])          # swaps two directions
    >>> in_basis(W, torch.tensor([[1.0, 1.0], [1.0, -1.0]]))  # eigenbasis: diag(1, -1)
    tensor([[ 1.,  0.],
            [ 0., -1.]])
    """
    return dual_basis(Psi) @ W.to(Psi.dtype) @ Psi
