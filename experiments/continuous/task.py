"""The Cui, Ahmad & Hawkins (2016) discrete high-order stream and its scoring.

Eight sequences over 10 symbols (permuted per seed); pairs share their middle and differ in the first and
last symbol, so the last symbol depends only on the first. The stream picks a sequence uniformly at
random, then appends one noise symbol from a pool of 5,000, and repeats — no resets, each element seen
once. After ``switch`` elements the two endings within each pair are swapped. Only the last element of each
sequence is scored (the prediction made while the penultimate element is shown); accuracy is a moving
average over the last 100 scored sequences.

>>> s = cui_stream(0, elements=200)
>>> s.ids.shape, s.patterns.shape, int(s.scored[0]) >= 5
((200,), (5010, 100), True)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: the single-prediction set of Cui et al. (2016), symbols 0-9 before the per-seed permutation
SEQUENCES = ((6, 8, 7, 4, 2, 3, 0), (1, 8, 7, 4, 2, 3, 5), (6, 3, 4, 2, 7, 8, 5), (1, 3, 4, 2, 7, 8, 0),
             (0, 9, 7, 8, 5, 3, 4, 1), (2, 9, 7, 8, 5, 3, 4, 6), (0, 4, 3, 5, 8, 7, 9, 6), (2, 4, 3, 5, 8, 7, 9, 1))
SYMBOLS = 10


def swapped(seqs=SEQUENCES):
    """The perturbed set: the last symbols of the two sequences of each pair exchanged.

    >>> swapped()[0][-1], swapped()[1][-1]
    (5, 0)
    """
    out = []
    for a, b in zip(seqs[0::2], seqs[1::2]):
        out += [a[:-1] + b[-1:], b[:-1] + a[-1:]]
    return tuple(out)


@dataclass(frozen=True)
class CuiStream:
    """One seed's stream: ``ids`` (T,) indices into ``patterns`` (10 symbols + noise pool, ±1 rows);
    ``scored`` positions t whose element is the last of a sequence, ``target`` its id, ``which`` the sequence
    index (0-7), ``starts`` the position of each scored sequence's first element."""

    ids: np.ndarray
    patterns: np.ndarray
    scored: np.ndarray
    target: np.ndarray
    which: np.ndarray
    starts: np.ndarray
    sequences: tuple
    switched: tuple


def cui_stream(seed: int, *, elements: int = 20_000, switch: int = 10_000, noise_pool: int = 5_000,
               N: int = 100) -> CuiStream:
    """Build seed ``seed``'s stream (numpy ``default_rng(seed)``): random ±1 patterns of width N."""
    if elements < 1 or switch < 0 or noise_pool < 1 or N < 2:
        raise ValueError("elements >= 1, switch >= 0, noise_pool >= 1 and N >= 2 are required")
    rng = np.random.default_rng(seed)
    perm = rng.permutation(SYMBOLS)
    seqs = tuple(tuple(int(perm[s]) for s in q) for q in SEQUENCES)
    sw = swapped(seqs)
    patterns = rng.choice(np.array([-1.0, 1.0]), size=(SYMBOLS + noise_pool, N))
    ids, scored, target, which, starts = [], [], [], [], []
    while len(ids) < elements:
        k = int(rng.integers(len(seqs)))
        seq = (sw if len(ids) >= switch else seqs)[k]
        if len(ids) + len(seq) <= elements:
            starts.append(len(ids))
            scored.append(len(ids) + len(seq) - 1)
            target.append(seq[-1])
            which.append(k)
        ids.extend(seq)
        ids.append(SYMBOLS + int(rng.integers(noise_pool)))
    return CuiStream(np.array(ids[:elements]), patterns, np.array(scored), np.array(target), np.array(which),
                     np.array(starts), seqs, sw)


def moving_accuracy(correct: np.ndarray, window: int = 100) -> np.ndarray:
    """Mean of the last ``window`` scored outcomes, NaN until ``window`` are scored.

    >>> moving_accuracy(np.array([0, 1, 1, 1]), window=2).tolist()
    [nan, 0.5, 1.0, 1.0]
    """
    c = np.asarray(correct, dtype=float)
    out = np.full(c.shape, np.nan)
    if c.size >= window:
        cs = np.concatenate([[0.0], np.cumsum(c)])
        out[window - 1:] = (cs[window:] - cs[:-window]) / window
    return out


def elements_to_criterion(curve: np.ndarray, at: np.ndarray, *, until: int, level: float = 0.98):
    """The element from which the moving accuracy stays ≥ ``level`` up to element ``until``; None if never.

    ``curve`` is the moving accuracy at the scored positions ``at``.

    >>> elements_to_criterion(np.array([np.nan, .5, 1, .99, 1]), np.array([10, 20, 30, 40, 50]), until=60)
    30
    """
    sel = at < until
    c, a = curve[sel], at[sel]
    if c.size == 0 or not (c[-1] >= level):
        return None
    bad = np.flatnonzero(~(c >= level))
    return int(a[0] if bad.size == 0 else a[bad[-1] + 1])


def recovery_elements(curve: np.ndarray, at: np.ndarray, *, switch: int, level: float = 0.98):
    """Elements after ``switch`` until the moving accuracy is ≥ ``level`` for good; 0 if it never falls below,
    None if it never recovers.

    >>> recovery_elements(np.array([1, 1, .5, .99, 1]), np.array([10, 20, 30, 40, 50]), switch=25)
    15
    """
    sel = at >= switch
    c, a = curve[sel], at[sel]
    if c.size == 0 or not (c[-1] >= level):
        return None
    bad = np.flatnonzero(~(c >= level))
    return 0 if bad.size == 0 else int(a[bad[-1] + 1] - switch)
