r"""Decoding spike trains into memory sequences, and comparing orders.

Feature population rates in bins of width ``bin`` give the estimate
:math:`\hat v_i = 2 n_i/(r_f\,\mathrm{bin}) − 1` (features fire at :math:`r_f(1 + v_i)/2`); the overlaps
:math:`\hat m_μ = ξ^{(μ)}·\hat v/N` are decoded exactly like the torch model (``networks.gsemm.decode``:
argmax, runs shorter than ``min_dwell`` bins merged).

>>> order_agreement([0, 1, 2, 0, 1], [0, 1, 2, 0])
(1.0, 4)
>>> order_agreement([0, 2, 1], [0, 1, 2, 0])[0]
0.0
"""
from __future__ import annotations

import numpy as np


def population_overlaps(spike_i: np.ndarray, spike_t: np.ndarray, *, N: int, rate: float, duration: float,
                        bin: float, patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Binned feature estimate → overlaps ``(T, P)`` with ``patterns`` (N, P); returns ``(t_centres, overlaps)``.

    ``spike_t``, ``duration`` and ``bin`` in seconds, ``rate`` the peak feature rate r_f in Hz.

    >>> t, m = population_overlaps(np.array([0, 0]), np.array([0.0025, 0.003]), N=1, rate=1000.0,
    ...                            duration=0.004, bin=0.002, patterns=np.ones((1, 1)))
    >>> t.tolist(), m[:, 0].tolist()       # silent bin: v̂ = −1; 2 spikes at r_f·bin = 2 expected: v̂ = +1
    ([0.001, 0.003], [-1.0, 1.0])
    """
    if not bin > 0 or not duration > 0:
        raise ValueError(f"bin and duration must be > 0, got bin={bin}, duration={duration}")
    nb = int(np.floor(duration / bin + 1e-9))
    if nb < 1:
        raise ValueError(f"bin={bin} is longer than duration={duration}")
    b = np.minimum((np.asarray(spike_t) / bin).astype(int), nb - 1)
    counts = np.zeros((nb, N))
    np.add.at(counts, (b, np.asarray(spike_i, dtype=int)), 1.0)
    vhat = 2.0 * counts / (rate * bin) - 1.0
    return (np.arange(nb) + 0.5) * bin, vhat @ patterns / N


def successors(order: list[int]) -> dict[int, set[int]]:
    """The transitions a → {b} of a decoded order.

    >>> successors([0, 1, 0, 2])
    {0: {1, 2}, 1: {0}}
    """
    out: dict[int, set[int]] = {}
    for a, b in zip(order[:-1], order[1:]):
        out.setdefault(int(a), set()).add(int(b))
    return out


def order_agreement(order: list[int], reference: list[int] | dict) -> tuple[float, int]:
    """Fraction of the transitions a → b of ``order`` that are transitions of ``reference`` (an order, or a
    successor map); returns ``(fraction, number_of_transitions)`` (``nan`` when ``order`` has none).

    :math:`\\mathrm{agreement} = \\frac{1}{K}\\sum_k [o_{k+1} ∈ \\mathrm{succ}_{ref}(o_k)]`.

    >>> order_agreement([3, 0, 1], [0, 1, 2, 3, 0])
    (1.0, 2)
    """
    succ = reference if isinstance(reference, dict) else successors(list(reference))
    pairs = list(zip(order[:-1], order[1:]))
    if not pairs:
        return float("nan"), 0
    ok = sum(int(b) in succ.get(int(a), set()) for a, b in pairs)
    return ok / len(pairs), len(pairs)
