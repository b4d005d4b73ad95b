r"""Plain Hebbian learning with optional weight decay (a rate rule)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from .checks import finite_number
from .rule import EmptyState, Rule, check_inputs, outer

__all__ = ["Hebb"]


@dataclass(frozen=True, kw_only=True)
class Hebb(Rule):
    r"""Hebb's rule with optional decay, integrated with explicit Euler.

    .. math::
        \frac{dW_{ij}}{dt} = \eta\, y_i\, x_j - \gamma\, W_{ij}
        \qquad\Longrightarrow\qquad
        \Delta W_{ij} = dt\,\big(\eta\, y_i x_j - \gamma\, W_{ij}\big)

    with ``pre`` :math:`x` ``(B, n_pre)``, ``post`` :math:`y` ``(B, n_post)``. Shared weight: the Hebbian
    Δ is the mean (``reduce="mean"``) or the sum of the per-stream Δs (so under ``"sum"`` the decay counts
    ``B`` times); per-stream weight
    ``(B, n_post, n_pre)``: each stream learns its own weight. Keeps no traces.

    Parameters: ``eta`` (learning rate, per unit time), ``decay`` (:math:`\gamma \ge 0`, per unit time).

    >>> import torch
    >>> rule = Hebb(eta=1.0, decay=0.5)
    >>> w = torch.ones(1, 2)
    >>> dw, _ = rule.delta(w, torch.tensor([[1., 0.]]), torch.tensor([[2.]]), rule.init_state(w), dt=0.1)
    >>> dw
    tensor([[ 0.1500, -0.0500]])
    """

    eta: float = 1.0
    decay: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("eta", "decay"):
            finite_number(name, getattr(self, name))
        if self.decay < 0:
            raise ValueError(f"decay must be >= 0; got {self.decay!r}")

    def delta(self, weight: Tensor, pre: Tensor, post: Tensor, state: EmptyState, dt: float, **signals):
        dt = check_inputs(weight, pre, post, dt, check_finite=self.check_finite)
        dw = (dt * self.eta) * outer(post, pre, weight, self.reduce)
        if self.decay != 0.0:
            # a shared weight receives reduce_b of the per-stream Δ: the decay counts B times under "sum"
            n = pre.shape[0] if (weight.dim() == 2 and self.reduce == "sum") else 1
            dw = dw - (dt * self.decay * n) * weight
        return dw, state
