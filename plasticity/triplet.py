r"""Triplet STDP (Pfister & Gerstner 2006), all-to-all or nearest-spike (a spike rule)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from .rule import Rule, check_inputs, check_time_constant, check_trace, decay_factor, outer, resolve_batch
from .checks import positive
from .stdp import update_trace

__all__ = ["TripletSTDP", "TripletSTDPState"]


class TripletSTDPState(NamedTuple):
    """Pre traces ``r1`` (τ₊), ``r2`` (τₓ), shape ``(B, n_pre)``; post traces ``o1`` (τ₋), ``o2`` (τᵧ), ``(B, n_post)``.

    >>> import torch
    >>> s = TripletSTDP().init_state(torch.zeros(2, 3))
    >>> [tuple(t.shape) for t in s]             # no batch given: one stream
    [(1, 3), (1, 3), (1, 2), (1, 2)]
    """

    r1: Tensor
    r2: Tensor
    o1: Tensor
    o2: Tensor


@dataclass(frozen=True, kw_only=True)
class TripletSTDP(Rule):
    r"""Triplet STDP of Pfister & Gerstner (2006), J. Neurosci. 26(38):9673–9682.

    Two pre traces :math:`r_1` (:math:`\tau_+`), :math:`r_2` (:math:`\tau_x`) and two post traces
    :math:`o_1` (:math:`\tau_-`), :math:`o_2` (:math:`\tau_y`); at every spike

    .. math::
        \text{post spike:}\quad \Delta w = r_1(t)\,\big[A_2^+ + A_3^+\, o_2(t-\epsilon)\big] \\
        \text{pre spike:}\quad \Delta w = -\,o_1(t)\,\big[A_2^- + A_3^-\, r_2(t-\epsilon)\big]

    (:math:`t-\epsilon`: the trace before the spike's own contribution). Per step: decay every trace exactly
    (:math:`e^{-dt/\tau}`), compute the two terms above from the decayed traces (spikes in the same step do
    not pair), then add the step's spikes — ``nearest=False``: all-to-all (:math:`x \leftarrow x + s`);
    ``nearest=True``: nearest-spike (:math:`x \leftarrow 1`). Amplitudes are per spike (no ``dt`` factor).
    Shared weight: per-stream updates are averaged/summed (``reduce``). ``delta_parts`` returns the
    potentiation and depression terms exactly.

    With :math:`A_3^\pm = 0` this is pair STDP. The *minimal* model has :math:`A_3^- = 0` (so
    :math:`\tau_x` is unused) and reproduces the frequency dependence of Sjöström et al. (2001): pairings
    at low frequency depress, at high frequency potentiate. Presets: :meth:`visual_cortex_minimal` (the
    defaults) and :meth:`visual_cortex_full`.

    >>> import torch
    >>> rule = TripletSTDP.visual_cortex_minimal()
    >>> rule.tau_y, rule.a3_plus, rule.a2_minus
    (114.0, 0.0065, 0.0071)
    """

    a2_plus: float = 0.0
    a3_plus: float = 6.5e-3
    a2_minus: float = 7.1e-3
    a3_minus: float = 0.0
    tau_plus: float = 16.8
    tau_minus: float = 33.7
    tau_x: float = 101.0
    tau_y: float = 114.0
    nearest: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("a2_plus", "a3_plus", "a2_minus", "a3_minus"):
            positive(name, getattr(self, name), strict=False, note=" (signs are in the formula)")
        for name in ("tau_plus", "tau_minus", "tau_x", "tau_y"):
            check_time_constant(name, getattr(self, name))
        if not isinstance(self.nearest, bool):
            raise ValueError(f"nearest must be a bool; got {self.nearest!r}")

    @classmethod
    def visual_cortex_minimal(cls, **overrides) -> "TripletSTDP":
        r"""Minimal all-to-all model fitted to visual-cortex data (Sjöström et al. 2001).

        Parameters of Pfister & Gerstner (2006), Table 3 (visual cortex, all-to-all, minimal model):
        :math:`\tau_+ = 16.8` ms, :math:`\tau_- = 33.7` ms, :math:`\tau_y = 114` ms, :math:`A_2^+ = 0`,
        :math:`A_3^+ = 6.5\times10^{-3}`, :math:`A_2^- = 7.1\times10^{-3}`, :math:`A_3^- = 0`
        (:math:`\tau_x` unused). We could not check them against the paper's text here; they agree with
        independent public implementations of the minimal visual-cortex model. Times in ms, so ``dt`` is in
        ms. Keyword ``overrides`` replace fields (e.g. ``reduce="sum"``).

        >>> TripletSTDP.visual_cortex_minimal().a3_minus
        0.0
        """
        params = dict(a2_plus=0.0, a3_plus=6.5e-3, a2_minus=7.1e-3, a3_minus=0.0,
                      tau_plus=16.8, tau_minus=33.7, tau_x=101.0, tau_y=114.0, nearest=False)
        params.update(overrides)
        return cls(**params)

    @classmethod
    def visual_cortex_full(cls, **overrides) -> "TripletSTDP":
        r"""Full all-to-all model fitted to the same visual-cortex data (Pfister & Gerstner 2006, Table 3):
        :math:`\tau_x = 101` ms, :math:`\tau_y = 125` ms, :math:`A_2^+ = 5\times10^{-10}`,
        :math:`A_3^+ = 6.2\times10^{-3}`, :math:`A_2^- = 7\times10^{-3}`, :math:`A_3^- = 2.3\times10^{-4}`
        (same :math:`\tau_\pm`; same caveat as :meth:`visual_cortex_minimal`).

        >>> TripletSTDP.visual_cortex_full().a3_minus
        0.00023
        """
        params = dict(a2_plus=5e-10, a3_plus=6.2e-3, a2_minus=7e-3, a3_minus=2.3e-4,
                      tau_plus=16.8, tau_minus=33.7, tau_x=101.0, tau_y=125.0, nearest=False)
        params.update(overrides)
        return cls(**params)

    def init_state(self, weight: Tensor, batch: int | None = None) -> TripletSTDPState:
        b = resolve_batch(weight, batch)
        kw = dict(dtype=weight.dtype, device=weight.device)
        n_post, n_pre = weight.shape[-2], weight.shape[-1]
        return TripletSTDPState(torch.zeros(b, n_pre, **kw), torch.zeros(b, n_pre, **kw),
                                torch.zeros(b, n_post, **kw), torch.zeros(b, n_post, **kw))

    def delta_parts(self, weight: Tensor, pre: Tensor, post: Tensor, state: TripletSTDPState, dt: float, **signals):
        dt = check_inputs(weight, pre, post, dt, check_finite=self.check_finite)
        for name in ("r1", "r2"):
            check_trace(f"state.{name}", getattr(state, name, None), tuple(pre.shape))
        for name in ("o1", "o2"):
            check_trace(f"state.{name}", getattr(state, name, None), tuple(post.shape))
        r1 = state.r1 * decay_factor(dt, self.tau_plus)
        r2 = state.r2 * decay_factor(dt, self.tau_x)
        o1 = state.o1 * decay_factor(dt, self.tau_minus)
        o2 = state.o2 * decay_factor(dt, self.tau_y)
        plus = outer(post * (self.a2_plus + self.a3_plus * o2), r1, weight, self.reduce)
        minus = -outer(o1, pre * (self.a2_minus + self.a3_minus * r2), weight, self.reduce)
        nearest = self.nearest
        new = TripletSTDPState(update_trace(r1, pre, nearest), update_trace(r2, pre, nearest),
                               update_trace(o1, post, nearest), update_trace(o2, post, nearest))
        return plus, minus, new

    def delta(self, weight: Tensor, pre: Tensor, post: Tensor, state: TripletSTDPState, dt: float, **signals):
        plus, minus, new = self.delta_parts(weight, pre, post, state, dt, **signals)
        return plus + minus, new
