"""Batched products with shared ``(N, P)`` or per-stream ``(B, N, P)`` weights.

Ξ (``xi``) maps hidden → feature space and Φ (``phi``) maps memory → memory. Weights of shape
``(N, P)`` / ``(P, P)`` are shared by every stream in the batch; shape ``(B, N, P)`` / ``(B, P, P)``
gives each stream its own weights (used to batch independent learners, e.g. seeds).

>>> import torch
>>> xi = torch.eye(3, 2); v = torch.ones(4, 3)
>>> xi_t(xi, v).shape
torch.Size([4, 2])
"""
from __future__ import annotations

import torch
from torch import Tensor


def xi_t(xi: Tensor, v: Tensor) -> Tensor:
    """Ξᵀv for every stream: ``(B, N) -> (B, P)``, i.e. :math:`(Ξᵀv)_μ = Σ_i Ξ_{iμ} v_i`.

    >>> import torch
    >>> xi_t(torch.tensor([[1., 0.], [0., 2.]]), torch.tensor([[3., 4.]]))
    tensor([[3., 8.]])
    """
    if xi.dim() == 2:
        return v @ xi
    return torch.bmm(v.unsqueeze(1), xi).squeeze(1)


def xi_m(xi: Tensor, p: Tensor) -> Tensor:
    """Ξp for every stream: ``(B, P) -> (B, N)``, i.e. :math:`(Ξp)_i = Σ_μ Ξ_{iμ} p_μ`.

    >>> import torch
    >>> xi_m(torch.ones(2, 3, 2), torch.tensor([[1., 0.], [1., 1.]]))     # per-stream Ξ (B=2, N=3, P=2)
    tensor([[1., 1., 1.],
            [2., 2., 2.]])
    """
    if xi.dim() == 2:
        return p @ xi.transpose(0, 1)
    return torch.bmm(xi, p.unsqueeze(-1)).squeeze(-1)


def phi_t(phi: Tensor, y: Tensor) -> Tensor:
    """Φᵀy, i.e. ``(Φᵀy)_ν = Σ_μ Φ[μ, ν] y_μ``: ``(B, P) -> (B, P)`` (memory μ drives its successors ν).

    >>> import torch
    >>> phi_t(torch.tensor([[0., 1.], [0., 0.]]), torch.tensor([[1., 0.]]))   # 0 → 1: unit 1 is driven
    tensor([[0., 1.]])
    """
    if phi.dim() == 2:
        return y @ phi
    return torch.bmm(y.unsqueeze(1), phi).squeeze(1)


def phi_m(phi: Tensor, p: Tensor) -> Tensor:
    """Φp: ``(B, P) -> (B, P)``, i.e. :math:`(Φp)_μ = Σ_ν Φ_{μν} p_ν`.

    >>> import torch
    >>> phi_m(torch.tensor([[0., 1.], [0., 0.]]), torch.tensor([[0., 1.]]))
    tensor([[1., 0.]])
    """
    if phi.dim() == 2:
        return p @ phi.transpose(0, 1)
    return torch.bmm(phi, p.unsqueeze(-1)).squeeze(-1)
