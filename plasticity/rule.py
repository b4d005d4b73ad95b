r"""The rule protocol: a rule computes :math:`\Delta W`, it never applies it.

A *rule* is an immutable object (a frozen dataclass holding its parameters) with two methods::

    state          = rule.init_state(weight, batch=None)
    dw, new_state  = rule.delta(weight, pre, post, state, dt, **signals)

and an optional third one, used by the weight-dependence wrappers::

    dw_plus, dw_minus, new_state = rule.delta_parts(weight, pre, post, state, dt, **signals)

Conventions (shared by every rule in :mod:`plasticity`)
-------------------------------------------------------
* **Shapes, batch axis first.** ``pre`` is ``(B, n_pre)``, ``post`` is ``(B, n_post)``. The weight is
  either *shared* by the ``B`` independent streams, shape ``(n_post, n_pre)``, or *per stream*, shape
  ``(B, n_post, n_pre)``. ``dw`` always has the shape of ``weight``. For a shared weight the per-stream
  updates are combined with the rule's ``reduce`` (``"mean"``, the default, so the effective rate does
  not depend on ``B``; or ``"sum"``). Traces in the state are always per stream: ``(B, n_pre)``,
  ``(B, n_post)`` or ``(B, n_post, n_pre)``.
* **Pure.** ``delta`` reads its arguments and returns new tensors; it never writes into ``weight``,
  ``pre``, ``post`` or ``state``. Applying ``dw`` is separate: :func:`plasticity.apply` or
  :func:`plasticity.to_grad` (any torch optimizer).
* **Time.** ``dt`` is a positive float in the same unit as every time constant (ms in the presets).
  *Rate* rules (Hebb, Oja, BCM) integrate an ODE ``dW/dt = f``, so ``dw = dt * f`` (explicit Euler).
  *Spike* rules (pair and triplet STDP) take spike counts per step (usually 0/1) and change the weight
  by a fixed amount per spike pairing, so their ``dw`` does not carry a factor ``dt``; ``dt`` enters through
  the exact exponential decay of their traces, :math:`x \leftarrow x\,e^{-dt/\tau}`.
* **Signals.** Extra named inputs (``modulator=...``) are passed as keywords; a rule reads the names listed
  in its ``signals`` attribute and ignores the others, so that composed rules share one signal bus.
* **Composition.** :class:`Sum` evaluates every rule on the *same* weight and adds the Δs, so the result
  does not depend on the order of the rules.
* **Bad input** (shape mismatch, non-finite values, ``dt <= 0``, non-positive time constants) raises
  ``ValueError`` naming the argument before any work is done. The finiteness scan costs one device sync
  per call; pass ``check_finite=False`` to a rule to skip it on a hot path.

Example
-------
>>> import torch
>>> from plasticity import Hebb, apply
>>> rule = Hebb(eta=0.5)
>>> w = torch.zeros(2, 3)                      # shared weight, (n_post, n_pre)
>>> state = rule.init_state(w, batch=1)
>>> pre, post = torch.tensor([[1., 0., 2.]]), torch.tensor([[1., -1.]])
>>> dw, state = rule.delta(w, pre, post, state, dt=0.1)
>>> apply(w, dw)
tensor([[ 0.0500,  0.0000,  0.1000],
        [-0.0500,  0.0000, -0.1000]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import torch
from torch import Tensor

from .checks import finite_tensor, positive

__all__ = [
    "EmptyState",
    "Rule",
    "Sum",
    "SumState",
    "check_inputs",
    "check_time_constant",
    "check_trace",
    "resolve_batch",
    "decay_factor",
    "outer",
    "scale_rows",
    "reduce_streams",
    "matvec",
    "matvec_t",
]

_REDUCTIONS = ("mean", "sum")


class EmptyState(NamedTuple):
    """State of a rule that keeps no traces.

    >>> import torch
    >>> from plasticity import Hebb
    >>> Hebb(eta=0.1).init_state(torch.zeros(2, 3))
    EmptyState()
    """


# ----------------------------------------------------------------------------------------------
# validation helpers (public so that custom rules can reuse them)
# ----------------------------------------------------------------------------------------------


def check_time_constant(name: str, value: Any) -> float:
    r"""Return ``value`` as a float after checking it is a finite, strictly positive number.

    >>> check_time_constant("tau", 20.0)
    20.0
    """
    return positive(name, value, note=" (a time constant)")


def check_inputs(weight: Tensor, pre: Tensor, post: Tensor, dt: Any, *, check_finite: bool = True) -> float:
    r"""Validate the arguments of ``Rule.delta`` and return ``dt`` as a float.

    Checks: ``weight`` is floating point with shape ``(n_post, n_pre)`` or ``(B, n_post, n_pre)``;
    ``pre`` is ``(B, n_pre)`` and ``post`` is ``(B, n_post)`` with the same dtype and device as ``weight``;
    ``dt`` is finite and > 0; optionally every tensor is finite. Raises ``ValueError`` naming the argument.

    >>> import torch
    >>> check_inputs(torch.zeros(2, 3), torch.zeros(4, 3), torch.zeros(4, 2), dt=0.5)
    0.5
    """
    for name, t in (("weight", weight), ("pre", pre), ("post", post)):
        if not isinstance(t, Tensor):
            raise ValueError(f"{name} must be a torch.Tensor; got {type(t).__name__}")
        if not t.is_floating_point():
            raise ValueError(f"{name} must be a floating-point tensor; got dtype {t.dtype}")
    if weight.dim() not in (2, 3):
        raise ValueError(
            f"weight must have shape (n_post, n_pre) or (B, n_post, n_pre); got {tuple(weight.shape)}"
        )
    if pre.dim() != 2:
        raise ValueError(f"pre must have shape (B, n_pre); got {tuple(pre.shape)}")
    if post.dim() != 2:
        raise ValueError(f"post must have shape (B, n_post); got {tuple(post.shape)}")
    if pre.shape[0] != post.shape[0]:
        raise ValueError(f"pre and post must have the same batch size; got {pre.shape[0]} and {post.shape[0]}")
    n_post, n_pre = weight.shape[-2], weight.shape[-1]
    if pre.shape[1] != n_pre:
        raise ValueError(f"pre has {pre.shape[1]} columns but weight has n_pre = {n_pre}")
    if post.shape[1] != n_post:
        raise ValueError(f"post has {post.shape[1]} columns but weight has n_post = {n_post}")
    if weight.dim() == 3 and weight.shape[0] != pre.shape[0]:
        raise ValueError(
            f"per-stream weight has batch {weight.shape[0]} but pre/post have batch {pre.shape[0]}"
        )
    for name, t in (("pre", pre), ("post", post)):
        if t.dtype != weight.dtype or t.device != weight.device:
            raise ValueError(
                f"{name} must have the dtype and device of weight ({weight.dtype}, {weight.device}); "
                f"got ({t.dtype}, {t.device})"
            )
    dt = positive("dt", dt, what="float")
    if check_finite:
        for name, t in (("weight", weight), ("pre", pre), ("post", post)):
            finite_tensor(name, t, "; clean the input before computing a delta")
    return dt


def check_trace(name: str, trace: Any, shape: tuple[int, ...]) -> None:
    """Raise ``ValueError`` unless ``trace`` is a tensor of exactly ``shape`` (a state/shape mismatch).

    >>> import torch
    >>> check_trace("state.x_pre", torch.zeros(2, 3), (2, 3))
    """
    if not isinstance(trace, Tensor) or tuple(trace.shape) != tuple(shape):
        got = tuple(trace.shape) if isinstance(trace, Tensor) else type(trace).__name__
        raise ValueError(
            f"{name} has shape {got}, expected {tuple(shape)}; "
            "was the state made by init_state for this weight and batch size?"
        )


def resolve_batch(weight: Tensor, batch: int | None) -> int:
    """Batch size for ``init_state``: ``weight.shape[0]`` for a per-stream weight, else ``batch`` or 1.

    Raises ``ValueError`` for a weight that is not 2-D/3-D, a non-positive ``batch``, or a ``batch`` that
    contradicts a per-stream weight.

    >>> import torch
    >>> resolve_batch(torch.zeros(4, 2, 3), None), resolve_batch(torch.zeros(2, 3), 8)
    (4, 8)
    """
    if not isinstance(weight, Tensor) or weight.dim() not in (2, 3):
        shape = tuple(weight.shape) if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"weight must have shape (n_post, n_pre) or (B, n_post, n_pre); got {shape}")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise ValueError(f"batch must be a positive int; got {batch!r}")
    if weight.dim() == 3:
        if batch is not None and batch != weight.shape[0]:
            raise ValueError(f"batch={batch} but the per-stream weight has batch {weight.shape[0]}")
        return int(weight.shape[0])
    return 1 if batch is None else int(batch)


def decay_factor(dt: float, tau: float) -> float:
    r"""Exact one-step decay of a first-order trace, :math:`e^{-dt/\tau}` (a Python float64).

    >>> round(decay_factor(1.0, 1.0), 6)
    0.367879
    """
    return math.exp(-dt / tau)


# ----------------------------------------------------------------------------------------------
# layout helpers: per-stream quantities -> the layout of ``weight``
# ----------------------------------------------------------------------------------------------


def _reduce(t: Tensor, reduce: str) -> Tensor:
    return t.mean(0) if reduce == "mean" else t.sum(0)


def outer(post: Tensor, pre: Tensor, weight: Tensor, reduce: str = "mean") -> Tensor:
    r"""The Hebbian product :math:`y\,x^\top` in the layout of ``weight``.

    Per-stream weight ``(B, n_post, n_pre)``: :math:`[y_b x_b^\top]_b`. Shared weight ``(n_post, n_pre)``:
    :math:`\frac1B\sum_b y_b x_b^\top` (``reduce="mean"``) or the plain sum, computed as one matmul
    (no ``(B, n_post, n_pre)`` intermediate).

    >>> import torch
    >>> outer(torch.tensor([[1., 2.]]), torch.tensor([[3., 4., 5.]]), torch.zeros(2, 3))
    tensor([[ 3.,  4.,  5.],
            [ 6.,  8., 10.]])
    """
    if weight.dim() == 3:
        return post.unsqueeze(-1) * pre.unsqueeze(-2)
    prod = post.transpose(0, 1) @ pre
    return prod / post.shape[0] if reduce == "mean" else prod


def scale_rows(scale: Tensor, weight: Tensor, reduce: str = "mean") -> Tensor:
    r"""Row scaling :math:`s_i\,W_{ij}` in the layout of ``weight``, for ``scale`` of shape ``(B, n_post)``.

    Shared weight: :math:`(\mathrm{reduce}_b\, s_{bi})\,W_{ij}`.

    >>> import torch
    >>> scale_rows(torch.tensor([[2., 0.]]), torch.ones(2, 2))
    tensor([[2., 2.],
            [0., 0.]])
    """
    if weight.dim() == 3:
        return scale.unsqueeze(-1) * weight
    return _reduce(scale, reduce).unsqueeze(-1) * weight


def reduce_streams(dw_streams: Tensor, weight: Tensor, reduce: str = "mean") -> Tensor:
    """Bring a per-stream ``(B, n_post, n_pre)`` update into the layout of ``weight``.

    >>> import torch
    >>> reduce_streams(torch.ones(4, 1, 1), torch.zeros(1, 1), reduce="sum")
    tensor([[4.]])
    """
    return dw_streams if weight.dim() == 3 else _reduce(dw_streams, reduce)


def matvec(weight: Tensor, x: Tensor) -> Tensor:
    r""":math:`Wx` for every stream, ``(B, n_in) -> (B, n_out)``, with ``weight`` shared ``(n_out, n_in)`` or per
    stream ``(B, n_out, n_in)``: :math:`(Wx)_i = Σ_j W_{ij} x_j`.

    >>> import torch
    >>> matvec(torch.ones(2, 3, 2), torch.tensor([[1., 0.], [1., 1.]]))     # per-stream W (B=2)
    tensor([[1., 1., 1.],
            [2., 2., 2.]])
    """
    if weight.dim() == 2:
        return x @ weight.transpose(0, 1)
    return torch.bmm(weight, x.unsqueeze(-1)).squeeze(-1)


def matvec_t(weight: Tensor, y: Tensor) -> Tensor:
    r""":math:`Wᵀy` for every stream, ``(B, n_out) -> (B, n_in)`` (layouts as in :func:`matvec`):
    :math:`(Wᵀy)_j = Σ_i W_{ij} y_i`.

    >>> import torch
    >>> matvec_t(torch.tensor([[1., 0.], [0., 2.]]), torch.tensor([[3., 4.]]))
    tensor([[3., 8.]])
    """
    if weight.dim() == 2:
        return y @ weight
    return torch.bmm(y.unsqueeze(1), weight).squeeze(1)


# ----------------------------------------------------------------------------------------------
# the protocol
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Rule:
    r"""Base class of local learning rules (see the module docstring for the full protocol).

    Subclasses are frozen dataclasses holding their parameters and implement

    * ``init_state(weight, batch=None) -> NamedTuple`` — zero traces; dtype/device taken from ``weight``;
      ``batch`` defaults to ``weight.shape[0]`` for a per-stream weight and to 1 for a shared one;
    * ``delta(weight, pre, post, state, dt, **signals) -> (dw, new_state)`` — pure; ``dw`` has the shape
      of ``weight``;
    * optionally ``delta_parts(...) -> (dw_plus, dw_minus, new_state)`` with ``dw = dw_plus + dw_minus``,
      potentiation ``>= 0`` and depression ``<= 0``. The default splits ``dw`` by sign; spike rules
      override it with their exact potentiation/depression terms (used by :mod:`weight_dependence`).

    Parameters shared by every rule: ``reduce`` (``"mean"`` or ``"sum"`` over streams for a shared weight)
    and ``check_finite`` (scan inputs for NaN/inf; one device sync per call).

    >>> import torch
    >>> from plasticity import Hebb
    >>> isinstance(Hebb(eta=1.0), Rule)
    True
    """

    reduce: str = "mean"
    check_finite: bool = True

    #: names of the keyword signals this rule reads (documentation and validation of composites)
    signals: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        if self.reduce not in _REDUCTIONS:
            raise ValueError(f"reduce must be one of {_REDUCTIONS}; got {self.reduce!r}")

    def init_state(self, weight: Tensor, batch: int | None = None) -> NamedTuple:
        """Initial (zero) traces for ``weight`` and ``batch`` streams. The base rule keeps none."""
        resolve_batch(weight, batch)
        return EmptyState()

    def delta(self, weight: Tensor, pre: Tensor, post: Tensor, state: NamedTuple, dt: float, **signals: Any):
        """Return ``(dw, new_state)``; must be implemented by subclasses."""
        raise NotImplementedError(f"{type(self).__name__} must implement delta()")

    def delta_parts(self, weight: Tensor, pre: Tensor, post: Tensor, state: NamedTuple, dt: float, **signals: Any):
        r"""Return ``(dw_plus, dw_minus, new_state)`` with :math:`\Delta w = \Delta w^+ + \Delta w^-`.

        Default: split the net update by sign, :math:`\Delta w^\pm = \pm\max(\pm\Delta w, 0)`.
        """
        dw, new_state = self.delta(weight, pre, post, state, dt, **signals)
        return dw.clamp(min=0), dw.clamp(max=0), new_state


class SumState(NamedTuple):
    """State of :class:`Sum`: the states of its rules, in order.

    >>> import torch
    >>> from plasticity import BCM, Hebb
    >>> s = Sum(Hebb(eta=0.1), BCM(eta=0.1)).init_state(torch.zeros(2, 3))
    >>> [type(x).__name__ for x in s.states]
    ['EmptyState', 'BCMState']
    """

    states: tuple


@dataclass(frozen=True, init=False)
class Sum(Rule):
    r"""Several rules on one weight: :math:`\Delta W = \sum_k \Delta W_k(W)`.

    Every rule sees the *same* ``weight`` (the one before this step), so the result does not depend on
    the order of the rules — unlike applying one rule after the other. Signals are passed to every rule.
    ``reduce`` and ``check_finite`` are those of the inner rules.

    >>> import torch
    >>> from plasticity import Hebb, Sum
    >>> w = torch.ones(1, 1)
    >>> both = Sum(Hebb(eta=1.0), Hebb(eta=0.0, decay=1.0))   # Hebb + weight decay
    >>> dw, _ = both.delta(w, torch.ones(1, 1), torch.ones(1, 1), both.init_state(w), dt=0.1)
    >>> dw
    tensor([[0.]])
    """

    rules: tuple

    def __init__(self, *rules: Rule) -> None:
        if len(rules) == 0:
            raise ValueError("rules: Sum needs at least one rule")
        for i, r in enumerate(rules):
            if not (callable(getattr(r, "delta", None)) and callable(getattr(r, "init_state", None))):
                raise ValueError(f"rules[{i}] does not implement the rule protocol (init_state, delta)")
        object.__setattr__(self, "rules", tuple(rules))
        object.__setattr__(self, "signals", tuple(sorted({s for r in rules for s in getattr(r, "signals", ())})))

    def init_state(self, weight: Tensor, batch: int | None = None) -> SumState:
        return SumState(tuple(r.init_state(weight, batch) for r in self.rules))

    def _check_state(self, state: Any) -> None:
        if not isinstance(state, SumState) or len(state.states) != len(self.rules):
            raise ValueError(f"state must be a SumState with {len(self.rules)} entries (from Sum.init_state)")

    def delta(self, weight, pre, post, state, dt, **signals):
        self._check_state(state)
        dw = None
        new_states = []
        for rule, st in zip(self.rules, state.states):
            d, ns = rule.delta(weight, pre, post, st, dt, **signals)
            dw = d if dw is None else dw + d
            new_states.append(ns)
        return dw, SumState(tuple(new_states))

    def delta_parts(self, weight, pre, post, state, dt, **signals):
        self._check_state(state)
        plus = minus = None
        new_states = []
        for rule, st in zip(self.rules, state.states):
            if hasattr(rule, "delta_parts"):
                p, m, ns = rule.delta_parts(weight, pre, post, st, dt, **signals)
            else:
                d, ns = rule.delta(weight, pre, post, st, dt, **signals)
                p, m = d.clamp(min=0), d.clamp(max=0)
            plus = p if plus is None else plus + p
            minus = m if minus is None else minus + m
            new_states.append(ns)
        return plus, minus, SumState(tuple(new_states))
