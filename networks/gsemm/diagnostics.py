"""Diagnostics of the dynamic energy and of the operating regime.

* :func:`energy_balance` — finite-difference dE/dt of a recorded trajectory next to F + S.
* :func:`regime_indicator` — :math:`βN|1 − r|`: escape-time theory holds when ≫ 1.
* :func:`escape_time` — the sharp-limit dwell :math:`T_{esc} = −T_d\\ln(1 − \\sqrt r)` (∞ for r ≥ 1).

Both take the transition ratio r of a network, :meth:`GSEMM.transition_ratio`
:math:`r = \\sqrt{α_s}/(α_c β_d)` (self-coupling over delayed transition coupling), which is EDEN's
:math:`r = α_s/α_c` when α_s = β_d = 1 (the setting of the ``escape_time`` experiment).

>>> round(escape_time(0.6, 20.0), 2)
29.8
>>> escape_time(1.02, 20.0)
inf
"""
from __future__ import annotations

import math

from torch import Tensor

from plasticity.checks import int_at_least, positive


def escape_time(r: float, T_d: float) -> float:
    """Sharp-softmax, large-N escape time :math:`−T_d \\ln(1 − \\sqrt{r})` for r < 1, else ∞.

    ``r`` is the network's transition ratio (:meth:`GSEMM.transition_ratio`), ``T_d`` the slow time constant.

    >>> round(escape_time(0.5, 1.0), 3)
    1.228
    """
    r, T_d = positive("r (the transition ratio)", float(r), strict=False), positive("T_d", float(T_d))
    if r >= 1:
        return math.inf
    return -T_d * math.log(1.0 - math.sqrt(r))


def regime_indicator(r: float, beta: float, N: int) -> float:
    """:math:`βN|1 − r|` for transition ratio ``r``; values ≫ 1 mean a sharp softmax, where the escape-time
    law applies. For a network, :meth:`GSEMM.regime` computes the same from its own r and β.

    >>> regime_indicator(0.5, 10.0, 128)
    640.0
    """
    r, beta = positive("r (the transition ratio)", float(r), strict=False), positive("beta", float(beta))
    N = int_at_least("N", N, 1, whole_floats=True)
    return beta * N * abs(1.0 - r)


def energy_balance(energy: Tensor, F: Tensor, S: Tensor, sample_dt: float) -> Tensor:
    """Residual ``dE/dt − (F + S)`` with a central difference of recorded samples (O(dt²) for smooth
    trajectories, O(dt) in the integrator's own error). Shapes ``(T, B)`` -> ``(T − 2, B)``.

    >>> import torch
    >>> t = torch.linspace(0, 1, 11, dtype=torch.float64)[:, None]
    >>> E, F, S = t ** 2, 2 * t, torch.zeros_like(t)       # dE/dt = 2t = F + S exactly
    >>> float(energy_balance(E, F, S, sample_dt=0.1).abs().max()) < 1e-12
    True
    """
    dE = (energy[2:] - energy[:-2]) / (2 * sample_dt)
    return dE - (F[1:-1] + S[1:-1])
