r"""BCM rule with a sliding modification threshold (a rate rule)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from .checks import finite_number
from .rule import Rule, check_inputs, check_time_constant, check_trace, decay_factor, outer, resolve_batch

__all__ = ["BCM", "BCMState"]


class BCMState(NamedTuple):
    """``theta``: the sliding threshold of every post neuron, per stream, shape ``(B, n_post)``.

    >>> import torch
    >>> BCM(eta=0.1).init_state(torch.zeros(2, 3), batch=4).theta.shape      # W is (n_post, n_pre)
    torch.Size([4, 2])
    """

    theta: Tensor


@dataclass(frozen=True, kw_only=True)
class BCM(Rule):
    r"""Bienenstock–Cooper–Munro rule (Intrator & Cooper 1992 form) with a sliding threshold.

    .. math::
        \frac{dW_{ij}}{dt} = \eta\, y_i\,(y_i - \theta_i)\, x_j, \qquad
        \tau_\theta \frac{d\theta_i}{dt} = y_i^2 - \theta_i

    One step: :math:`\Delta W_{ij} = \eta\,dt\,y_i(y_i-\theta_i)x_j` with the threshold *before* the step,
    then :math:`\theta \leftarrow y^2 + (\theta - y^2)\,e^{-dt/\tau_\theta}` (exact for ``y`` held over the
    step), so :math:`\theta` is an exponential running mean of :math:`y^2` with time constant
    :math:`\tau_\theta`. Shared weight: the update is averaged/summed over streams, each stream keeping its
    own threshold. ``theta0`` is the initial threshold.

    **Stability.** The selective fixed point is stable only when the threshold tracks :math:`y^2` faster than
    the weights move: :math:`\tau_\theta \ll 1/(\eta\,\langle x^2\rangle\,\theta)` (a slow threshold
    makes the response oscillate around the fixed point, or diverge). The defaults (:math:`\eta = 1`,
    :math:`\tau_\theta = 0.1`) satisfy it for inputs and responses of order 1.

    For a linear neuron shown two orthogonal patterns with probability 1/2 each, the stable fixed point is
    selective: the response to one pattern is :math:`1/p = 2`, to the other 0.

    >>> import torch
    >>> rule = BCM(eta=1.0, tau_theta=10.0, theta0=1.0)
    >>> w = torch.ones(1, 1)
    >>> s = rule.init_state(w)
    >>> dw, s = rule.delta(w, torch.ones(1, 1), torch.full((1, 1), 2.0), s, dt=0.1)
    >>> dw                                                  # 0.1 * 2 * (2 - 1) * 1
    tensor([[0.2000]])
    """

    eta: float = 1.0
    tau_theta: float = 0.1
    theta0: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_time_constant("tau_theta", self.tau_theta)
        for name in ("eta", "theta0"):
            finite_number(name, getattr(self, name))

    def init_state(self, weight: Tensor, batch: int | None = None) -> BCMState:
        b = resolve_batch(weight, batch)
        return BCMState(torch.full((b, weight.shape[-2]), float(self.theta0), dtype=weight.dtype, device=weight.device))

    def delta(self, weight: Tensor, pre: Tensor, post: Tensor, state: BCMState, dt: float, **signals):
        dt = check_inputs(weight, pre, post, dt, check_finite=self.check_finite)
        check_trace("state.theta", getattr(state, "theta", None), tuple(post.shape))
        dw = (self.eta * dt) * outer(post * (post - state.theta), pre, weight, self.reduce)
        y2 = post * post
        a = decay_factor(dt, self.tau_theta)
        theta = y2 + (state.theta - y2) * a
        return dw, BCMState(theta)
