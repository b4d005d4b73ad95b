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
    """Ξᵀv for every stream: ``(B, N) -> (B, P)``."""
    if xi.dim() == 2:
        return v @ xi
    return torch.bmm(v.unsqueeze(1), xi).squeeze(1)


def xi_m(xi: Tensor, p: Tensor) -> Tensor:
    """Ξp for every stream: ``(B, P) -> (B, N)``."""
    if xi.dim() == 2:
        return p @ xi.transpose(0, 1)
    return torch.bmm(xi, p.unsqueeze(-1)).squeeze(-1)


def phi_t(phi: Tensor, y: Tensor) -> Tensor:
    """Φᵀy, i.e. ``(Φᵀy)_ν = Σ_μ Φ[μ, ν] y_μ``: ``(B, P) -> (B, P)``."""
    if phi.dim() == 2:
        return y @ phi
    return torch.bmm(y.unsqueeze(1), phi).squeeze(1)


def phi_m(phi: Tensor, p: Tensor) -> Tensor:
    """Φp: ``(B, P) -> (B, P)``."""
    if phi.dim() == 2:
        return p @ phi.transpose(0, 1)
    return torch.bmm(phi, p.unsqueeze(-1)).squeeze(-1)
