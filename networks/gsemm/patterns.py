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

import math
import operator
from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from torch import Tensor

from plasticity.checks import int_at_least


def _count(name: str, x, minimum: int = 1) -> int:
    """``x`` as a Python int (:func:`plasticity.checks.int_at_least`: floats such as 16.5 or 16.0 and bools are
    refused rather than truncated)."""
    return int_at_least(name, x, minimum)


def random_patterns(N: int, P: int, *, generator: torch.Generator | None = None, dtype=torch.float32,
                    device=None) -> Tensor:
    r"""P random ±1 (Rademacher) patterns of N bits as the columns of an ``(N, P)`` tensor.

    Each entry is independent, :math:`ξ_i^{(μ)} = 2b − 1` with :math:`b ∼ \mathrm{Bernoulli}(½)`, so
    distinct patterns have overlaps :math:`ξ^{(μ)}·ξ^{(ν)}/N = O(1/\sqrt N)`. Pass a seeded
    ``generator`` for reproducible patterns (they are drawn on the CPU, then moved to ``device``).
    ``N`` and ``P`` must be integers >= 1 (ValueError otherwise).

    >>> import torch
    >>> xi = random_patterns(16, 3, generator=torch.Generator().manual_seed(0))
    >>> xi.shape, xi.dtype, sorted(xi.unique().tolist())
    (torch.Size([16, 3]), torch.float32, [-1.0, 1.0])
    >>> torch.equal(xi, random_patterns(16, 3, generator=torch.Generator().manual_seed(0)))
    True
    """
    N, P = _count("N", N), _count("P", P)
    bits = torch.randint(0, 2, (N, P), generator=generator, dtype=torch.int64)
    return (2 * bits - 1).to(dtype=dtype, device=device)


def hadamard_patterns(N: int, P: int, *, dtype=torch.float32, device=None) -> Tensor:
    r"""P mutually orthogonal ±1 patterns (rows 1..P of the Sylvester Hadamard matrix of order N).

    The Sylvester construction :math:`H_1 = [1]`, :math:`H_{2n} = \begin{pmatrix}H_n & H_n\\ H_n & −H_n\end{pmatrix}`
    gives :math:`HHᵀ = N\,I`, so the patterns have zero crosstalk: :math:`ΞᵀΞ = N\,I_P`.
    N must be a power of two and P < N (row 0, all ones, is skipped); both integers.

    >>> import torch
    >>> xi = hadamard_patterns(8, 3)
    >>> xi.shape
    torch.Size([8, 3])
    >>> torch.equal(xi.T @ xi, 8 * torch.eye(3))
    True
    """
    N, P = _count("N", N), _count("P", P)
    if N < 2 or N & (N - 1):
        raise ValueError(f"hadamard patterns need N a power of two, got N={N}")
    if not 1 <= P < N:
        raise ValueError(f"hadamard patterns need 1 <= P < N, got P={P}, N={N}")
    H = torch.ones(1, 1, dtype=torch.float64)
    while H.shape[0] < N:
        H = torch.cat([torch.cat([H, H], 1), torch.cat([H, -H], 1)], 0)
    return H[1:P + 1].T.contiguous().to(dtype=dtype, device=device)


def read_array(path: str | Path, *, min_rows: int = 1, min_cols: int = 1, what: str = "") -> np.ndarray:
    """A real, finite 2-D float64 array from a ``.npy`` file (no pickles), with one-line ``ValueError`` messages
    that name the file (prefixed by ``what``, e.g. ``"data=x.npy: "``) for a wrong suffix, a missing or corrupt
    file, complex / string / structured values, a wrong shape and NaN or inf. The one reader behind
    :func:`load_patterns` and the experiments' ``data=`` settings.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.npy"); np.save(p, np.eye(2)); read_array(p).dtype
    dtype('float64')
    """
    path = Path(path)
    what = what or f"{path}: "
    if path.suffix != ".npy":
        raise ValueError(f"{what}need a path to a .npy file (one row per pattern or element)")
    if not path.is_file():
        raise ValueError(f"{what}file not found ({path} does not exist)")
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as e:  # corrupt file, or a pickle
        raise ValueError(f"{what}cannot read {path.name} as a .npy array ({e})") from e
    if arr.dtype.names is not None or arr.dtype.kind not in "fiub":
        raise ValueError(f"{what}{path.name} must hold real numbers (a real numeric array), got dtype {arr.dtype}"
                         + (" (complex values are refused, not truncated)" if arr.dtype.kind == "c" else ""))
    if arr.ndim != 2 or arr.shape[0] < min_rows or arr.shape[1] < min_cols:
        raise ValueError(f"{what}need a 2-D array with T >= {min_rows} rows of N >= {min_cols} values, "
                         f"got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{what}{path.name} contains NaN or inf")
    return arr


def load_patterns(path: str | Path, *, dtype=torch.float32, device=None) -> Tensor:
    """Patterns from a ``.npy`` file with one pattern per row, returned as columns ``(N, P)``.

    The array of shape ``(P, N)`` is read without pickle, checked (2-D, non-empty, finite) and
    transposed, so ``load_patterns(f)[:, μ]`` is row μ of the file. A missing or unreadable file, a
    non-2-D array or NaN/inf entries raise a ValueError naming the file.

    >>> import os, tempfile
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(path, np.array([[1, -1, 1, 1], [-1, -1, 1, -1]]))
    >>> load_patterns(path)
    tensor([[ 1., -1.],
            [-1., -1.],
            [ 1.,  1.],
            [ 1., -1.]])
    >>> import shutil; shutil.rmtree(os.path.dirname(path))
    """
    x = torch.as_tensor(read_array(path))
    return x.T.contiguous().to(dtype=dtype, device=device)


def from_edges(P: int, edges: Iterable[tuple[int, int]], *, weight: float = 1.0, dtype=torch.float32,
               device=None) -> Tensor:
    """Φ (P × P) of a directed graph over memories: ``Φ[μ, ν] = weight`` for each edge (μ, ν).

    :math:`Φ_{μν} = w` if (μ, ν) is an edge, else 0; the network then drives the transition μ → ν
    through the term :math:`α_cΦᵀΞᵀs` of the hidden input. ``P`` must be an integer >= 1 and every
    edge a pair of memory indices in ``[0, P)`` (ValueError otherwise).

    >>> from_edges(3, [(0, 2), (2, 1)], weight=0.5)
    tensor([[0.0000, 0.0000, 0.5000],
            [0.0000, 0.0000, 0.0000],
            [0.0000, 0.5000, 0.0000]])
    """
    P = _count("P", P)
    if not math.isfinite(float(weight)):
        raise ValueError(f"weight must be finite, got {weight}")
    phi = torch.zeros(P, P, dtype=dtype, device=device)
    for e in edges:
        try:
            mu, nu = e
            mu, nu = operator.index(mu), operator.index(nu)
        except (TypeError, ValueError):
            raise ValueError(f"each edge must be a pair of integer memory indices (mu, nu), got {e!r}") from None
        if not (0 <= mu < P and 0 <= nu < P):
            raise ValueError(f"edge {e} out of range for P={P} memories")
        phi[mu, nu] = weight
    return phi


def chain(P: int, **kw) -> Tensor:
    """Open chain 0 → 1 → … → P−1 (super-diagonal Φ): :math:`Φ_{μ,μ+1} = 1`; the last memory has no
    successor, so a replay stops there. ``P`` must be an integer >= 1; keyword arguments (``weight``,
    ``dtype``, ``device``) go to :func:`from_edges`.

    >>> chain(3, dtype=torch.float64)[0].tolist()
    [0.0, 1.0, 0.0]
    """
    P = _count("P", P)
    return from_edges(P, [(m, m + 1) for m in range(P - 1)], **kw)


def cycle(P: int, **kw) -> Tensor:
    r"""Closed cycle 0 → 1 → … → P−1 → 0: :math:`Φ_{μ,(μ+1) \bmod P} = 1` (P = 1 is a self-loop).
    ``P`` must be an integer >= 1; keyword arguments go to :func:`from_edges`.

    >>> cycle(3)
    tensor([[0., 1., 0.],
            [0., 0., 1.],
            [1., 0., 0.]])
    """
    P = _count("P", P)
    return from_edges(P, [(m, (m + 1) % P) for m in range(P)], **kw)


def cycles(*groups: Iterable[int], P: int | None = None, **kw) -> Tensor:
    r"""Disjoint cycles, e.g. ``cycles([0, 1, 2], [3, 4, 5, 6])`` (the authors' DSEM notebook graph).

    Each group ``[g_0, …, g_{k−1}]`` contributes the edges :math:`g_i → g_{(i+1) \bmod k}`. ``P``
    defaults to ``1 + max`` index. At least one non-empty group is needed, and the groups must be
    disjoint with no repeated memory (each memory has at most one successor); otherwise ValueError.

    >>> phi = cycles([0, 1], [2, 3, 4])
    >>> [int(phi[mu].argmax()) for mu in range(5)]
    [1, 0, 3, 4, 2]
    """
    groups = [list(g) for g in groups]
    if not groups:
        raise ValueError("cycles needs at least one group of memory indices, e.g. cycles([0, 1, 2])")
    seen: set = set()
    for g in groups:
        if not g:
            raise ValueError("cycles: every group must hold at least one memory index, got an empty group")
        for m in g:
            m = _count("cycles: a memory index", m, minimum=0)
            if m in seen:
                raise ValueError(f"cycles: the groups must be disjoint, memory {m} appears more than once "
                                 f"in {groups}")
            seen.add(m)
    P = P if P is not None else 1 + max(max(g) for g in groups)
    edges = [(g[i], g[(i + 1) % len(g)]) for g in groups for i in range(len(g))]
    return from_edges(P, edges, **kw)


def masked_cue(pattern: Tensor, fraction: float = 0.25, *, mode: str = "tail",
               generator: torch.Generator | None = None) -> Tensor:
    """A cue: ``pattern`` with a fraction of entries zeroed (``mode='tail'``: the last ones;
    ``'random'``: a random subset) or sign-flipped (``mode='flip'``, random subset).

    ``k = round(fraction · N)`` entries of the last axis are changed; the cue's overlap with its
    pattern is then :math:`m = 1 − k/N` (zeroed) or :math:`1 − 2k/N` (flipped) for a ±1 pattern. The
    input is not modified. ``fraction`` outside [0, 1] or an unknown ``mode`` raise a ValueError.

    >>> import torch
    >>> masked_cue(torch.ones(8), 0.25)
    tensor([1., 1., 1., 1., 1., 1., 0., 0.])
    >>> masked_cue(torch.ones(8), 0.25, mode="flip", generator=torch.Generator().manual_seed(0)).sum().item()
    4.0
    """
    if mode not in ("tail", "random", "flip"):
        raise ValueError(f"mode must be 'tail', 'random' or 'flip', got {mode!r}")
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
