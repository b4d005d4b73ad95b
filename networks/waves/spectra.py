"""Spectral comparison of a learned recurrent matrix with the theoretical TWM operator Φ.

* :func:`unit_eigs` — eigenvalues with ``|λ| > threshold`` (the "memory" eigenvalues);
* :func:`spectral_error` — mean absolute eigen-*angle* mismatch in **radians** after greedy matching
  (magnitudes deliberately ignored: with tanh, ``|λ| ≥ 1`` still gives bounded limit cycles);
* :func:`rank_reduce` — the coordinates of Φ whose removal lowers the count of ``|λ| > threshold``.

Matching rule of :func:`spectral_error`: keep the eigenvalues with ``|λ| > threshold`` of both matrices,
zero-pad the shorter list (a zero maps to angle 0), then, for each reference eigenvalue in turn, take the
remaining candidate with the smallest angle ``|∠(λ_ref, λ)|`` (wrapped to ``[0, π]``) and remove it:

    err = (1/m) Σ_j |wrap(arg λ_ref,j − arg λ_match(j))|

Example
-------
>>> import torch
>>> from networks.waves.linear_hds import decode_task_id, phi_from_operator
>>> phi = phi_from_operator(decode_task_id(255, 0, 0))
>>> len(unit_eigs(phi)), spectral_error(phi, phi) < 1e-12
(64, True)
"""
from __future__ import annotations

import math

import torch
from torch import Tensor


def _square(name: str, A: Tensor) -> None:
    if not isinstance(A, Tensor) or A.dim() != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square 2-D tensor; got {getattr(A, 'shape', type(A))}")
    if not torch.isfinite(A).all():
        raise ValueError(f"{name} contains NaN or inf")


def unit_eigs(A: Tensor, threshold: float = 0.8) -> Tensor:
    """Eigenvalues of ``A`` with ``|λ| > threshold`` (complex128, sorted by angle).

    >>> unit_eigs(torch.diag(torch.tensor([1.0, 0.5, -1.0]))).real.tolist()
    [1.0, -1.0]
    """
    _square("A", A)
    ev = torch.linalg.eigvals(A.detach().to(torch.float64).cpu())
    ev = ev[ev.abs() > threshold]
    return ev[torch.argsort(ev.angle().abs())]


def eig_count(A: Tensor, threshold: float = 0.8) -> int:
    """Number of eigenvalues of ``A`` with ``|λ| > threshold``.

    >>> eig_count(torch.eye(3))
    3
    """
    return int(unit_eigs(A, threshold).numel())


def spectral_error(A: Tensor, reference: Tensor, threshold: float = 0.9) -> float:
    """Mean absolute eigen-angle mismatch (radians) between ``A`` and ``reference`` (see module doc).

    >>> R = torch.tensor([[0.0, -1.0], [1.0, 0.0]])          # rotation by π/2
    >>> round(spectral_error(torch.eye(2), R), 6) == round(math.pi / 2, 6)
    True
    """
    _square("A", A)
    _square("reference", reference)
    a = list(unit_eigs(A, threshold).tolist())
    r = list(unit_eigs(reference, threshold).tolist())
    m = max(len(a), len(r))
    if m == 0:
        return 0.0
    a += [0j] * (m - len(a))
    r += [0j] * (m - len(r))
    ang = lambda z: math.atan2(z.imag, z.real)  # noqa: E731
    total = 0.0
    for lr in r:
        best, best_i = math.inf, -1
        for i, la in enumerate(a):
            diff = abs((ang(lr) - ang(la) + math.pi) % (2 * math.pi) - math.pi)
            if diff < best:
                best, best_i = diff, i
        total += best
        a.pop(best_i)
    return total / m


def rank_reduce(phi: Tensor, threshold: float = 0.8) -> Tensor:
    """Indices ``i`` of Φ such that deleting row and column ``i`` lowers the count of ``|λ| > threshold``.

    For repeat copy every one of the 64 coordinates is kept; for the other EMT tasks 36 (block counts
    1, 2, …, 8). Uses the ground-truth operator.

    >>> rank_reduce(torch.diag(torch.tensor([1.0, 0.1]))).tolist()
    [0]
    """
    _square("phi", phi)
    base = eig_count(phi, threshold)
    keep = []
    n = phi.shape[0]
    for i in range(n):
        idx = [j for j in range(n) if j != i]
        sub = phi[idx][:, idx]
        if eig_count(sub, threshold) < base:
            keep.append(i)
    return torch.tensor(keep, dtype=torch.long)
