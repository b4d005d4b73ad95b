r"""Pair-based STDP with exponential traces; all-to-all or nearest-spike pairing (a spike rule)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from .checks import positive
from .rule import Rule, check_inputs, check_time_constant, check_trace, decay_factor, outer, resolve_batch

__all__ = ["PairSTDP", "PairSTDPState", "update_trace"]


class PairSTDPState(NamedTuple):
    """Traces after the last step: ``x_pre`` ``(B, n_pre)`` (time constant τ₊), ``x_post`` ``(B, n_post)`` (τ₋).

    >>> import torch
    >>> s = PairSTDP().init_state(torch.zeros(2, 3), batch=4)
    >>> s.x_pre.shape, s.x_post.shape
    (torch.Size([4, 3]), torch.Size([4, 2]))
    """

    x_pre: Tensor
    x_post: Tensor


def update_trace(trace: Tensor, spikes: Tensor, nearest: bool) -> Tensor:
    r"""Add this step's spikes to an (already decayed) trace.

    All-to-all: :math:`x \leftarrow x + s` (every earlier spike keeps counting). Nearest-spike:
    :math:`x \leftarrow 1` where a spike occurred (only the latest spike counts).

    >>> import torch
    >>> update_trace(torch.tensor([0.5, 0.5]), torch.tensor([1.0, 0.0]), nearest=False)
    tensor([1.5000, 0.5000])
    >>> update_trace(torch.tensor([0.5, 0.5]), torch.tensor([1.0, 0.0]), nearest=True)
    tensor([1.0000, 0.5000])
    """
    if nearest:
        return torch.where(spikes > 0, torch.ones_like(trace), trace)
    return trace + spikes


@dataclass(frozen=True, kw_only=True)
class PairSTDP(Rule):
    r"""Pair-based STDP (Song, Miller & Abbott 2000 trace form).

    Window for one pre spike at :math:`t_{pre}` and one post spike at :math:`t_{post}`,
    :math:`\Delta t = t_{post} - t_{pre}`:

    .. math::
        \Delta w = \begin{cases} A_+\, e^{-\Delta t/\tau_+} & \Delta t > 0 \\
                                 -A_-\, e^{\Delta t/\tau_-} & \Delta t < 0 \end{cases}

    Implementation, per step of length ``dt`` (``pre``/``post`` are spike counts in the step, usually 0/1):

    1. decay the traces exactly: :math:`x_{pre} \leftarrow x_{pre} e^{-dt/\tau_+}`,
       :math:`x_{post} \leftarrow x_{post} e^{-dt/\tau_-}`;
    2. :math:`\Delta W_{ij} = A_+\, s^{post}_i\, x^{pre}_j - A_-\, x^{post}_i\, s^{pre}_j`
       (potentiation at post spikes, depression at pre spikes);
    3. add this step's spikes to the traces (:func:`update_trace`).

    Spikes in the same step (:math:`\Delta t = 0`) do not pair. Pairing scheme (``nearest``):
    ``False`` — all-to-all, every pre/post pair within the window adds up; ``True`` — symmetric
    nearest-spike, each post spike pairs only with the latest earlier pre spike and each pre spike only
    with the latest earlier post spike (the trace is reset to 1 instead of incremented). Amplitudes are per
    pairing (no ``dt`` factor); ``dt`` only quantises spike times. Shared weight: the per-stream updates are
    averaged/summed (``reduce``).

    ``delta_parts`` returns the exact potentiation and depression terms of step 2.

    >>> import torch
    >>> rule = PairSTDP(a_plus=1.0, a_minus=1.0, tau_plus=20.0, tau_minus=20.0)
    >>> w = torch.zeros(1, 1, dtype=torch.float64); s = rule.init_state(w)
    >>> one, zero = torch.ones(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
    >>> _, s = rule.delta(w, one, zero, s, dt=1.0)          # pre spike at t = 0
    >>> total = 0.0
    >>> for k in range(9):                                   # nothing until ...
    ...     dw, s = rule.delta(w, zero, zero, s, dt=1.0); total += dw.item()
    >>> dw, s = rule.delta(w, zero, one, s, dt=1.0)          # ... a post spike at t = 10
    >>> abs(dw.item() - torch.exp(torch.tensor(-10 / 20.0)).item()) < 1e-6 and total == 0.0
    True
    """

    a_plus: float = 0.01
    a_minus: float = 0.0105
    tau_plus: float = 20.0
    tau_minus: float = 20.0
    nearest: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("a_plus", "a_minus"):
            positive(name, getattr(self, name), strict=False, note=" (signs are in the formula)")
        check_time_constant("tau_plus", self.tau_plus)
        check_time_constant("tau_minus", self.tau_minus)
        if not isinstance(self.nearest, bool):
            raise ValueError(f"nearest must be a bool; got {self.nearest!r}")

    def init_state(self, weight: Tensor, batch: int | None = None) -> PairSTDPState:
        b = resolve_batch(weight, batch)
        kw = dict(dtype=weight.dtype, device=weight.device)
        return PairSTDPState(torch.zeros(b, weight.shape[-1], **kw), torch.zeros(b, weight.shape[-2], **kw))

    def delta_parts(self, weight: Tensor, pre: Tensor, post: Tensor, state: PairSTDPState, dt: float, **signals):
        dt = check_inputs(weight, pre, post, dt, check_finite=self.check_finite)
        check_trace("state.x_pre", getattr(state, "x_pre", None), tuple(pre.shape))
        check_trace("state.x_post", getattr(state, "x_post", None), tuple(post.shape))
        x_pre = state.x_pre * decay_factor(dt, self.tau_plus)
        x_post = state.x_post * decay_factor(dt, self.tau_minus)
        plus = self.a_plus * outer(post, x_pre, weight, self.reduce)
        minus = -self.a_minus * outer(x_post, pre, weight, self.reduce)
        new = PairSTDPState(update_trace(x_pre, pre, self.nearest), update_trace(x_post, post, self.nearest))
        return plus, minus, new

    def delta(self, weight: Tensor, pre: Tensor, post: Tensor, state: PairSTDPState, dt: float, **signals):
        plus, minus, new = self.delta_parts(weight, pre, post, state, dt, **signals)
        return plus + minus, new
