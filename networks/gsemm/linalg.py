"""Batched products with shared ``(N, P)`` or per-stream ``(B, N, P)`` weights, under the GSEMM names.

Ξ (``xi``) maps hidden → feature space and Φ (``phi``) maps memory → memory. Weights of shape
``(N, P)`` / ``(P, P)`` are shared by every stream in the batch; shape ``(B, N, P)`` / ``(B, P, P)``
gives each stream its own weights (used to batch independent learners, e.g. seeds).

The products are :func:`plasticity.rule.matvec` (:math:`Wx`) and :func:`plasticity.rule.matvec_t`
(:math:`Wᵀy`), defined once in the bottom layer (the GSEMM closed forms of :mod:`plasticity.energy` use them
too):

* ``xi_t(xi, v)`` = Ξᵀv, ``(B, N) -> (B, P)``;  ``xi_m(xi, p)`` = Ξp, ``(B, P) -> (B, N)``;
* ``phi_t(phi, y)`` = Φᵀy, ``(Φᵀy)_ν = Σ_μ Φ[μ, ν] y_μ`` (memory μ drives its successors ν);
  ``phi_m(phi, p)`` = Φp.

>>> import torch
>>> xi = torch.eye(3, 2); v = torch.ones(4, 3)
>>> xi_t(xi, v).shape
torch.Size([4, 2])
>>> phi_t(torch.tensor([[0., 1.], [0., 0.]]), torch.tensor([[1., 0.]]))   # 0 → 1: unit 1 is driven
tensor([[0., 1.]])
"""
from __future__ import annotations

from plasticity.rule import matvec, matvec_t

xi_t = phi_t = matvec_t
xi_m = phi_m = matvec
