r"""Oja's normalised Hebbian rule (a rate rule): a linear neuron learns the top principal component."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from .checks import finite_number
from .rule import EmptyState, Rule, check_inputs, outer, scale_rows

__all__ = ["Oja"]


@dataclass(frozen=True, kw_only=True)
class Oja(Rule):
    r"""Oja's rule (Oja 1982), applied to every output row independently, explicit Euler.

    .. math::
        \frac{dW_{ij}}{dt} = \eta\, y_i\,\big(x_j - y_i W_{ij}\big)
        \qquad\Longrightarrow\qquad
        \Delta W_{ij} = \eta\, dt\,\big(y_i x_j - y_i^2 W_{ij}\big)

    For a linear neuron :math:`y = W x` (the caller computes ``post``) and zero-mean inputs with
    covariance :math:`C`, each row of ``W`` converges to :math:`\pm` the unit-norm eigenvector of the largest
    eigenvalue of :math:`C` (the averaged flow is :math:`\dot w = Cw - (w^\top C w)w`). Several rows do not
    decorrelate (that is Sanger's rule); they all find the same component. Shared weight: both terms are
    averaged (``reduce="mean"``) or summed over streams — a minibatch estimate of the flow above.

    >>> import torch
    >>> rule = Oja(eta=1.0)
    >>> w = torch.tensor([[1.0, 0.0]])                     # already a unit-norm eigenvector
    >>> x = torch.tensor([[1.0, 0.0]]); y = x @ w.T
    >>> dw, _ = rule.delta(w, x, y, rule.init_state(w), dt=0.1)
    >>> dw                                                  # a fixed point: no change
    tensor([[0., 0.]])
    """

    eta: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        finite_number("eta", self.eta)

    def delta(self, weight: Tensor, pre: Tensor, post: Tensor, state: EmptyState, dt: float, **signals):
        dt = check_inputs(weight, pre, post, dt, check_finite=self.check_finite)
        hebb = outer(post, pre, weight, self.reduce)
        norm = scale_rows(post * post, weight, self.reduce)
        return (self.eta * dt) * (hebb - norm), state
