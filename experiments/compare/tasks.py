"""Shared, seeded task streams for the local-vs-backprop comparison (identical for every contender).

Every task is built from an explicit :class:`torch.Generator`, so two contenders given the same seed see
bit-identical patterns and cues. Patterns are ±1 float64 tensors of shape ``(L, N)`` (one item per row).

Tasks (:data:`TASKS`):

* ``sequence`` — store L random ±1 patterns in order; cue the first, recall the other L − 1;
* ``digits`` — the same with the scikit-learn digits 0–9 (8 × 8, binarised; the ``stream`` experiment's
  data; N = 64, L = 10, identical for every seed — only the initial weights change);
* ``noisy`` — the ``sequence`` memory recalled from a cue with a fraction of its bits flipped;
* ``capacity`` — for each N, the largest L (on a grid) whose whole sequence is recalled;
* ``continual`` — learn sequence A, then sequence B; recall both (retention of A).

Example
-------
>>> import torch
>>> X = random_sequence(16, 4, torch.Generator().manual_seed(0))
>>> X.shape, bool(X.abs().eq(1).all())
(torch.Size([4, 16]), True)
>>> cue = flip_bits(X[0], 0.25, torch.Generator().manual_seed(1))
>>> int((cue != X[0]).sum())
4
"""
from __future__ import annotations

import torch
from torch import Tensor

#: task name -> one-line description
TASKS: dict[str, str] = {
    "sequence": "store L random ±1 patterns, cue the first, recall the rest",
    "digits": "the same with the scikit-learn digits 0-9 (N = 64, L = 10)",
    "noisy": "recall the stored sequence from a cue with a fraction of bits flipped",
    "capacity": "largest L whose whole sequence is recalled, for each N",
    "continual": "learn sequence A, then B; recall both (retention of A)",
}


def check_names(names, valid, what: str) -> list[str]:
    """Validate a list of names against ``valid``; unknown names raise a ValueError listing the choices.

    >>> check_names(["sequence"], TASKS, "task")
    ['sequence']
    """
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise ValueError(f"no {what} given; choose from {', '.join(valid)}")
    bad = [n for n in names if n not in valid]
    if bad:
        raise ValueError(f"unknown {what}(s) {', '.join(map(repr, bad))}; valid choices: {', '.join(valid)}")
    if len(set(names)) != len(names):
        raise ValueError(f"{what} names repeated in {names}")
    return names


def task_generator(seed: int, task: str, part: int = 0) -> torch.Generator:
    """The generator of a task's data for one seed (independent of the contender).

    >>> task_generator(0, "sequence").initial_seed() == task_generator(0, "sequence").initial_seed()
    True
    """
    code = sum((i + 1) * ord(c) for i, c in enumerate(task))
    return torch.Generator().manual_seed(1_000_003 * seed + 7919 * code + 104_729 * part + 11)


def random_sequence(N: int, L: int, generator: torch.Generator) -> Tensor:
    """``(L, N)`` random ±1 patterns (float64), no two identical.

    >>> random_sequence(8, 3, torch.Generator().manual_seed(0)).shape
    torch.Size([3, 8])
    """
    if N < 2 or L < 2:
        raise ValueError(f"need N >= 2 and L >= 2, got N={N}, L={L}")
    for _ in range(100):
        X = torch.randint(0, 2, (L, N), generator=generator).to(torch.float64) * 2 - 1
        if torch.unique(X, dim=0).shape[0] == L:
            return X
    raise ValueError(f"could not draw {L} distinct patterns of {N} bits")


def digits_sequence() -> Tensor:
    """``(10, 64)`` the first image of each digit 0–9 of scikit-learn's ``load_digits``, binarised to ±1
    (the ``stream`` experiment's data).

    >>> digits_sequence().shape
    torch.Size([10, 64])
    """
    from experiments.gsemm.common import load_sequence
    return load_sequence("digits")[0]


def flip_bits(x: Tensor, fraction: float, generator: torch.Generator) -> Tensor:
    """A copy of the ±1 pattern ``x`` (N,) with ``round(fraction · N)`` distinct bits flipped.

    >>> x = torch.ones(10, dtype=torch.float64)
    >>> int((flip_bits(x, 0.3, torch.Generator().manual_seed(0)) < 0).sum())
    3
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"fraction={fraction} must be in [0, 1]")
    n = int(round(fraction * x.shape[-1]))
    idx = torch.randperm(x.shape[-1], generator=generator)[:n]
    out = x.clone()
    out[idx] = -out[idx]
    return out


def score(pred: Tensor, X: Tensor) -> tuple[bool, float]:
    """Whole-sequence success and bit accuracy of a recall ``pred`` (L − 1, N) against items 1..L−1 of ``X``.

    A 0 in ``pred`` (an item the model never produced) counts as half a bit (chance).

    >>> X = torch.tensor([[1., 1.], [1., -1.], [-1., -1.]])
    >>> score(X[1:], X), score(torch.zeros(2, 2), X)
    ((True, 1.0), (False, 0.5))
    """
    target = X[1:]
    if pred.shape != target.shape:
        raise ValueError(f"recall has shape {tuple(pred.shape)}, expected {tuple(target.shape)}")
    agree = (1.0 + torch.sign(pred) * target) / 2
    return bool((torch.sign(pred) == target).all()), float(agree.mean())
