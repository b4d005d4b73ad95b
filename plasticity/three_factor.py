r"""Three-factor learning: an eligibility trace fed by an inner rule, gated by a neuromodulator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import Tensor

from .checks import finite_number
from .rule import Rule, check_inputs, check_time_constant, check_trace, decay_factor, reduce_streams, resolve_batch

__all__ = ["Modulated", "ModulatedState"]


class ModulatedState(NamedTuple):
    """``inner``: the inner rule's state; ``eligibility``: per-stream trace ``(B, n_post, n_pre)``.

    >>> import torch
    >>> from plasticity import Hebb
    >>> s = Modulated(rule=Hebb(eta=1.0), tau_e=10.0).init_state(torch.zeros(2, 3), batch=4)
    >>> s.inner, s.eligibility.shape
    (EmptyState(), torch.Size([4, 2, 3]))
    """

    inner: Any
    eligibility: Tensor


@dataclass(frozen=True, kw_only=True)
class Modulated(Rule):
    r"""Eligibility trace :math:`e` driven by an inner rule's Δ, turned into weight change by a modulator.

    .. math::
        \frac{de}{dt} = -\frac{e}{\tau_e} + \sum_k \Delta W^{rule}_k\,\delta(t - t_k), \qquad
        \frac{dW}{dt} = \eta\, M(t)\, e

    One step: :math:`e \leftarrow e\,e^{-dt/\tau_e} + \Delta W^{rule}` (the inner rule evaluated per
    stream), then :math:`\Delta W = \eta\,dt\,M\,e` with the updated trace (a modulator in the same step as
    the pairing credits it fully). :math:`M` is a rate: a reward of total size :math:`R` delivered within one
    step is ``modulator = R / dt``, which gives :math:`\Delta W = \eta R\, e`. So a single inner update
    :math:`\Delta` followed by such a reward :math:`D` later earns :math:`\eta R \Delta e^{-D/\tau_e}`.

    ``modulator`` (required keyword signal): a number, a ``(B,)`` tensor (one value per stream) or a
    ``(B, n_post)`` tensor (per post neuron, e.g. an error signal). ``M = 0`` gives exactly no weight change
    (the trace still evolves). The eligibility trace is per stream, shape ``(B, n_post, n_pre)``; for a
    shared weight the inner rule is evaluated on the weight broadcast to every stream and the final Δ is
    averaged/summed over streams (``reduce``). Examples: reward-modulated STDP (Izhikevich 2007; Florian
    2007), Modulated(Hebb) for error/reward-gated Hebbian learning.

    >>> import torch
    >>> from plasticity import Hebb
    >>> rule = Modulated(rule=Hebb(eta=1.0), tau_e=10.0, eta=1.0)
    >>> w = torch.zeros(1, 1); s = rule.init_state(w)
    >>> x = torch.ones(1, 1)
    >>> dw, s = rule.delta(w, x, x, s, dt=1.0, modulator=0.0)
    >>> dw, s.eligibility                                   # no modulator, no change; trace is set
    (tensor([[0.]]), tensor([[[1.]]]))
    """

    rule: Rule
    tau_e: float
    eta: float = 1.0

    signals = ("modulator",)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (callable(getattr(self.rule, "delta", None)) and callable(getattr(self.rule, "init_state", None))):
            raise ValueError("rule must implement the rule protocol (init_state, delta)")
        check_time_constant("tau_e", self.tau_e)
        finite_number("eta", self.eta)
        inner = tuple(getattr(self.rule, "signals", ()))
        object.__setattr__(self, "signals", tuple(sorted(set(inner) | {"modulator"})))

    def init_state(self, weight: Tensor, batch: int | None = None) -> ModulatedState:
        b = resolve_batch(weight, batch)
        w = weight if weight.dim() == 3 else weight.expand(b, *weight.shape)
        e = torch.zeros(b, weight.shape[-2], weight.shape[-1], dtype=weight.dtype, device=weight.device)
        return ModulatedState(self.rule.init_state(w, b), e)

    def _modulator(self, m: Any, b: int, n_post: int, like: Tensor) -> Tensor:
        if m is None:
            raise ValueError("modulator is required: pass modulator=<number, (B,) or (B, n_post) tensor>")
        if isinstance(m, Tensor):
            if not m.is_floating_point():
                m = m.to(like.dtype)
            if m.dim() == 0:
                m = m.reshape(1, 1, 1)
            elif m.dim() == 1 and m.shape[0] == b:
                m = m.reshape(b, 1, 1)
            elif m.dim() == 2 and tuple(m.shape) == (b, n_post):
                m = m.unsqueeze(-1)
            else:
                raise ValueError(f"modulator must be a scalar, (B,) = ({b},) or (B, n_post) = ({b}, {n_post}); "
                                 f"got shape {tuple(m.shape)}")
            if self.check_finite and not bool(torch.isfinite(m).all()):
                raise ValueError("modulator contains NaN or inf")
            return m.to(dtype=like.dtype, device=like.device)
        return torch.tensor(finite_number("modulator", m), dtype=like.dtype, device=like.device).reshape(1, 1, 1)

    def delta(self, weight: Tensor, pre: Tensor, post: Tensor, state: ModulatedState, dt: float, **signals):
        dt = check_inputs(weight, pre, post, dt, check_finite=self.check_finite)
        b, n_post, n_pre = pre.shape[0], weight.shape[-2], weight.shape[-1]
        m = self._modulator(signals.get("modulator"), b, n_post, weight)
        if not isinstance(state, ModulatedState):
            raise ValueError("state must be a ModulatedState (from Modulated.init_state)")
        check_trace("state.eligibility", state.eligibility, (b, n_post, n_pre))
        w = weight if weight.dim() == 3 else weight.expand(b, n_post, n_pre)
        d_inner, inner = self.rule.delta(w, pre, post, state.inner, dt, **signals)
        e = state.eligibility * decay_factor(dt, self.tau_e) + d_inner
        dw = reduce_streams((self.eta * dt) * m * e, weight, self.reduce)
        return dw, ModulatedState(inner, e)
