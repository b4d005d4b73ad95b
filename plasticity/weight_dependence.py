r"""Weight dependence of a rule's update: additive (hard bounds) or multiplicative (soft bounds)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .rule import Rule, check_inputs
from .checks import finite_number

__all__ = ["Additive", "Multiplicative"]


def _check_rule(rule) -> None:
    if not (callable(getattr(rule, "delta", None)) and callable(getattr(rule, "init_state", None))):
        raise ValueError("rule must implement the rule protocol (init_state, delta)")


def _check_bounds(w_min, w_max) -> None:
    finite_number("w_min", w_min)
    finite_number("w_max", w_max)
    if not w_min < w_max:
        raise ValueError(f"w_min must be < w_max; got w_min={w_min!r}, w_max={w_max!r}")


def _parts(rule, weight, pre, post, state, dt, **signals):
    if hasattr(rule, "delta_parts"):
        return rule.delta_parts(weight, pre, post, state, dt, **signals)
    dw, new = rule.delta(weight, pre, post, state, dt, **signals)
    return dw.clamp(min=0), dw.clamp(max=0), new


@dataclass(frozen=True, kw_only=True)
class Additive(Rule):
    r"""Additive weight dependence with hard bounds: the inner update, clipped at the bounds.

    .. math::
        \Delta W = \mathrm{clip}\big(W + \Delta W_{rule},\ w_{min},\ w_{max}\big) - W

    The size of the inner update does not depend on :math:`W` (Song, Miller & Abbott 2000; Gütig et al. 2003,
    :math:`\mu = 0`); weights that start inside the bounds never leave them. Note that :class:`Sum` of
    several bounded rules can still step outside — clip the total with ``apply(..., bounds=...)``.
    ``state`` is the inner rule's state.

    >>> import torch
    >>> from plasticity import Hebb
    >>> rule = Additive(rule=Hebb(eta=10.0), w_min=0.0, w_max=1.0)
    >>> w = torch.tensor([[0.5]])
    >>> dw, _ = rule.delta(w, torch.ones(1, 1), torch.ones(1, 1), rule.init_state(w), dt=1.0)
    >>> dw                                                  # 10 clipped to the 0.5 left below w_max
    tensor([[0.5000]])
    """

    rule: Rule
    w_min: float = 0.0
    w_max: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_rule(self.rule)
        _check_bounds(self.w_min, self.w_max)
        object.__setattr__(self, "signals", tuple(getattr(self.rule, "signals", ())))

    def init_state(self, weight: Tensor, batch: int | None = None):
        return self.rule.init_state(weight, batch)

    def delta(self, weight: Tensor, pre: Tensor, post: Tensor, state, dt: float, **signals):
        check_inputs(weight, pre, post, dt, check_finite=self.check_finite)
        dw, new = self.rule.delta(weight, pre, post, state, dt, **signals)
        return torch.clamp(weight + dw, self.w_min, self.w_max) - weight, new


@dataclass(frozen=True, kw_only=True)
class Multiplicative(Rule):
    r"""Multiplicative (soft-bound) weight dependence, Gütig et al. (2003) power law.

    The inner rule's potentiation :math:`\Delta W^+ \ge 0` and depression :math:`\Delta W^- \le 0`
    (from ``rule.delta_parts``; a sign split of the net update for rules without exact parts) are scaled by
    the distance to the bound they move towards:

    .. math::
        \Delta W = \Big(\frac{w_{max} - W}{w_{max} - w_{min}}\Big)^{\mu_+}\Delta W^+
                  + \Big(\frac{W - w_{min}}{w_{max} - w_{min}}\Big)^{\mu_-}\Delta W^-

    (normalised distances, as in Gütig et al. 2003, so the factors lie in [0, 1] whatever the bounds).
    ``mu`` sets both exponents; ``mu_plus`` / ``mu_minus`` override one. ``mu = 1`` (default) is the fully
    multiplicative rule (Rubin, Lee & Sompolinsky 2001; Gütig et al. 2003 with μ = 1); ``mu = 0`` is additive
    without clipping (Song, Miller & Abbott 2000); ``mu_plus=0, mu_minus=1`` is van Rossum, Bi & Turrigiano
    (2000): weight-independent potentiation, depression proportional to the weight. Distances are clamped
    at 0 before the power. With exponents ≥ 1 and per-step inner updates smaller than the bound interval, a
    weight in :math:`[w_{min}, w_{max}]` stays inside. ``state`` is the inner rule's state.

    >>> import torch
    >>> from plasticity import Hebb
    >>> rule = Multiplicative(rule=Hebb(eta=1.0), w_min=0.0, w_max=1.0)
    >>> w = torch.tensor([[0.75]])
    >>> dw, _ = rule.delta(w, torch.ones(1, 1), torch.ones(1, 1), rule.init_state(w), dt=0.5)
    >>> dw                                                  # 0.5 * (1 - 0.75)
    tensor([[0.1250]])
    """

    rule: Rule
    w_min: float = 0.0
    w_max: float = 1.0
    mu: float = 1.0
    mu_plus: float | None = None
    mu_minus: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_rule(self.rule)
        _check_bounds(self.w_min, self.w_max)
        for name in ("mu", "mu_plus", "mu_minus"):
            v = getattr(self, name)
            if v is None:
                continue
            finite_number(name, v)
            if v < 0:
                raise ValueError(f"{name} must be >= 0; got {v!r}")
        object.__setattr__(self, "signals", tuple(getattr(self.rule, "signals", ())))

    def init_state(self, weight: Tensor, batch: int | None = None):
        return self.rule.init_state(weight, batch)

    def _factors(self, weight: Tensor):
        span = self.w_max - self.w_min
        up = ((self.w_max - weight) / span).clamp(min=0)
        down = ((weight - self.w_min) / span).clamp(min=0)
        mp = self.mu if self.mu_plus is None else self.mu_plus
        mm = self.mu if self.mu_minus is None else self.mu_minus
        if mp != 1.0:
            up = up**mp
        if mm != 1.0:
            down = down**mm
        return up, down

    def delta_parts(self, weight: Tensor, pre: Tensor, post: Tensor, state, dt: float, **signals):
        check_inputs(weight, pre, post, dt, check_finite=self.check_finite)
        plus, minus, new = _parts(self.rule, weight, pre, post, state, dt, **signals)
        up, down = self._factors(weight)
        return up * plus, down * minus, new

    def delta(self, weight: Tensor, pre: Tensor, post: Tensor, state, dt: float, **signals):
        plus, minus, new = self.delta_parts(weight, pre, post, state, dt, **signals)
        return plus + minus, new
