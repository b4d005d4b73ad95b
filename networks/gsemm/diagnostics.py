"""Diagnostics of the dynamic energy and of the operating regime.

* :func:`energy_balance` — finite-difference dE/dt of a recorded trajectory next to F + S.
* :func:`regime_indicator` — :math:`βN|1 − r|`, r = α_s/α_c: escape-time theory holds when ≫ 1.
* :func:`escape_time` — the sharp-limit dwell :math:`T_{esc} = −T_d\\ln(1 − \\sqrt r)` (∞ for r ≥ 1).

>>> round(escape_time(0.6, 20.0), 2)
29.85
>>> escape_time(1.02, 20.0)
inf
"""
from __future__ import annotations

import math

import torch
from torch import Tensor


def escape_time(r: float, T_d: float) -> float:
    """Sharp-softmax, large-N escape time :math:`−T_d \\ln(1 − \\sqrt{r})` for r < 1, else ∞."""
    if r < 0:
        raise ValueError(f"r = alpha_s/alpha_c must be >= 0, got {r}")
    if r >= 1:
        return math.inf
    return -T_d * math.log(1.0 - math.sqrt(r))


def regime_indicator(alpha_s: float, alpha_c: float, beta: float, N: int) -> float:
    """:math:`βN|1 − α_s/α_c|`; values ≫ 1 mean a sharp softmax (the escape-time law applies)."""
    return beta * N * abs(1.0 - alpha_s / alpha_c)


def energy_balance(energy: Tensor, F: Tensor, S: Tensor, sample_dt: float) -> Tensor:
    """Residual ``dE/dt − (F + S)`` with a central difference of recorded samples (O(dt²) for smooth
    trajectories, O(dt) in the integrator's own error). Shapes ``(T, B)`` -> ``(T − 2, B)``."""
    dE = (energy[2:] - energy[:-2]) / (2 * sample_dt)
    return dE - (F[1:-1] + S[1:-1])
