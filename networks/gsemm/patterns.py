"""Memory patterns and transition graphs Φ.

Patterns are returned as the columns of Ξ, shape ``(N, P)``. Φ follows the convention
``Φ[μ, ν] = 1`` ⇔ transition μ → ν (so a chain is the super-diagonal).

>>> import torch
>>> chain(3)
tensor([[0., 1., 0.],
        [0., 0., 1.],
        [0., 0., 0.]])
>>> from_edges(3, [(0, 2), (2, 1)])[0, 2].item()
1.0
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from torch import Tensor


def random_patterns(N: int, P: int, *, generator: torch.Generator | None = None, dtype=torch.float32,
                    device=None) -> Tensor:
    """P random ±1 (Rademacher) patterns of N bits as the columns of an ``(N, P)`` tensor."""
    if N < 1 or P < 1:
        raise ValueError(f"N and P must be >= 1, got N={N}, P={P}")
    bits = torch.randint(0, 2, (N, P), generator=generator, dtype=torch.int64)
    return (2 * bits - 1).to(dtype=dtype, device=device)


def hadamard_patterns(N: int, P: int, *, dtype=torch.float32, device=None) -> Tensor:
    """P mutually orthogonal ±1 patterns (rows 1..P of the Sylvester Hadamard matrix of order N).

    N must be a power of two and P < N (row 0, all ones, is skipped).
    """
    if N < 2 or N & (N - 1):
        raise ValueError(f"hadamard patterns need N a power of two, got N={N}")
    if not 1 <= P < N:
        raise ValueError(f"hadamard patterns need 1 <= P < N, got P={P}, N={N}")
    H = torch.ones(1, 1, dtype=torch.float64)
    while H.shape[0] < N:
        H = torch.cat([torch.cat([H, H], 1), torch.cat([H, -H], 1)], 0)
    return H[1:P + 1].T.contiguous().to(dtype=dtype, device=device)


def load_patterns(path: str | Path, *, dtype=torch.float32, device=None) -> Tensor:
    """Patterns from a ``.npy`` file with one pattern per row, returned as columns ``(N, P)``."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"pattern file {path} does not exist")
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as e:  # corrupt file
        raise ValueError(f"cannot read {path} as a .npy array: {e}") from e
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{path} must hold a 2-D array (one pattern per row), got shape {arr.shape}")
    x = torch.as_tensor(np.asarray(arr, dtype=np.float64))
    if not torch.isfinite(x).all():
        raise ValueError(f"{path} contains NaN or inf")
    return x.T.contiguous().to(dtype=dtype, device=device)


def from_edges(P: int, edges: Iterable[tuple[int, int]], *, weight: float = 1.0, dtype=torch.float32,
               device=None) -> Tensor:
    """Φ (P × P) of a directed graph over memories: ``Φ[μ, ν] = weight`` for each edge (μ, ν)."""
    phi = torch.zeros(P, P, dtype=dtype, device=device)
    for e in edges:
        mu, nu = (int(e[0]), int(e[1]))
        if not (0 <= mu < P and 0 <= nu < P):
            raise ValueError(f"edge {e} out of range for P={P} memories")
        phi[mu, nu] = weight
    return phi


def chain(P: int, **kw) -> Tensor:
    """Open chain 0 → 1 → … → P−1 (super-diagonal Φ)."""
    return from_edges(P, [(m, m + 1) for m in range(P - 1)], **kw)


def cycle(P: int, **kw) -> Tensor:
    """Closed cycle 0 → 1 → … → P−1 → 0."""
    return from_edges(P, [(m, (m + 1) % P) for m in range(P)], **kw)


def cycles(*groups: Iterable[int], P: int | None = None, **kw) -> Tensor:
    """Disjoint cycles, e.g. ``cycles([0, 1, 2], [3, 4, 5, 6])`` (the authors' DSEM notebook graph)."""
    groups = [list(g) for g in groups]
    P = P if P is not None else 1 + max(max(g) for g in groups)
    edges = [(g[i], g[(i + 1) % len(g)]) for g in groups for i in range(len(g))]
    return from_edges(P, edges, **kw)


def masked_cue(pattern: Tensor, fraction: float = 0.25, *, mode: str = "tail",
               generator: torch.Generator | None = None) -> Tensor:
    """A cue: ``pattern`` with a fraction of entries zeroed (``mode='tail'``: the last ones;
    ``'random'``: a random subset) or sign-flipped (``mode='flip'``, random subset)."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    x = pattern.clone()
    n = x.shape[-1]
    k = int(round(fraction * n))
    if k == 0:
        return x
    if mode == "tail":
        x[..., n - k:] = 0
        return x
    idx = torch.randperm(n, generator=generator)[:k].to(x.device)
    if mode == "random":
        x[..., idx] = 0
    elif mode == "flip":
        x[..., idx] = -x[..., idx]
    else:
        raise ValueError(f"mode must be 'tail', 'random' or 'flip', got {mode!r}")
    return x
