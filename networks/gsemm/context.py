r"""The context (high-order) GSEMM: one hidden unit per stored event, a delayed trace of the hidden layer
feeding the transition synapses Φ, and the energy that defines both its dynamics and its learning rule.

Populations (per stream): features :math:`v ∈ ℝ^N` with :math:`g = σ_f(v)` (any
:class:`~networks.gsemm.lagrangians.Lagrangian`, quadratic by default); hidden *cells*
:math:`u ∈ ℝ^K` with :math:`h = \mathrm{softmax}(β u)`; and the trace :math:`d ∈ ℝ^K`, a delayed copy of
the hidden layer, :math:`T_d\,\dot d = h − d`. Each cell :math:`i` stores one event: the unit-norm pattern
:math:`\hat ξ_i` (row of ``xi``) and at most one outgoing transition :math:`Φ_{ki}` to the cell of the
event that followed it. Several cells may hold the same item (in different contexts): they differ only
by the context drive :math:`Φ d`, which is how shared and repeated items are told apart.

Energy, with the trace as a (slow) parameter and external input :math:`I`:

.. math::

    E(v, u; d) = [vᵀg − L_f(v)] + [uᵀh − L_h(u)] − \sqrt{α_s}\, hᵀ\hat Ξ g
                 − \tfrac1β\, hᵀ\log(ε + Φ d) − gᵀI .

Its flow (``ContextGSEMM.flow``; the tests check it against autograd of ``energy``):

.. math::

    T_f ∇²L_f\,\dot v = −∂E/∂v:\quad T_f \dot v = \sqrt{α_s}\hat Ξᵀh + I − v \ \ (\text{quadratic } L_f),\qquad
    T_h ∇²L_h\,\dot u = −∂E/∂u:\quad T_h \dot u = \sqrt{α_s}\hat Ξ g + \tfrac1β \log(ε + Φ d) − u .

With the features clamped to an element (:math:`g = \hat x`) the cells settle at

.. math:: h^+ = \mathrm{softmax}\big(β\sqrt{α_s}\,\hat Ξ \hat x + \log(ε + Φ d)\big),

a product of experts: the bottom-up match picks the cells holding the item, the context term picks among
them the ones predicted by the trace (a *burst* over all of them when none is predicted). Without input
(:math:`g = 0`, the free phase) they settle at the prediction :math:`h^- ∝ ε + Φ d`.

Learning is the contrastive −∂E/∂Φ of the two phases, with weight-dependent (multiplicative) synapses, so
that only existing transitions change:

.. math::

    −∂E/∂Φ_{ij} = \tfrac1β\,\frac{h_i d_j}{ε + (Φd)_i},\qquad
    ΔΦ_{ij} = η\,Φ_{ij}\,\frac{d_j\,(h^+_i − h^-_i)}{ε + (Φ d)_i}

(the factor β is absorbed into η): a transition that predicted a cell of the wrong item
(:math:`h^+_i = 0`) is depressed in proportion to how confidently it was predicted; a confirmed one is
potentiated (clipped at 1). New events are *imprinted* one-shot into a recruited cell:
:math:`\hat ξ_w ← \hat x`, :math:`Φ_{w,w'} ← 1` from the previously recruited cell :math:`w'` — the
clamped phase with the recruited units as sharp targets, as for the recruiting rule of the first-order
models (:class:`~networks.gsemm.learning.RecruitingRule`).

:class:`~networks.gsemm.streaming.StreamLearner` runs this model in the sharp-presentation limit (one
settle per element, :math:`T_d` = one element so :math:`d_t = h^+_{t−1}`), with a bounded pool of cells.

Example
-------
>>> import torch
>>> net = ContextGSEMM(torch.eye(3, dtype=torch.float64), torch.tensor([[0., 0, 1], [1, 0, 0], [0, 1, 0]],
...                    dtype=torch.float64), beta=50.0)
>>> d = torch.tensor([[1.0, 0, 0]], dtype=torch.float64)             # the trace sits on cell 0
>>> net.settle(torch.tensor([[0.0, 1, 0]], dtype=torch.float64), d).argmax(-1)   # cell 1 follows cell 0
tensor([1])
>>> net.predict(d).argmax(-1)                                          # and is predicted without input
tensor([1])
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import Tensor

from .lagrangians import Lagrangian, LogSumExp, Quadratic

__all__ = ["ContextGSEMM", "ContextState", "ContextTrajectory", "contrastive_phi", "clamped_phase"]


class ContextState(NamedTuple):
    """Dynamic state of :class:`ContextGSEMM`: features ``v`` (B, N), cell inputs ``u`` (B, K), trace ``d`` (B, K).

    >>> ContextState(torch.zeros(1, 4), torch.zeros(1, 3), torch.zeros(1, 3)).u.shape
    torch.Size([1, 3])
    """

    v: Tensor
    u: Tensor
    d: Tensor


class ContextTrajectory(NamedTuple):
    """Recorded free dynamics: times (R,), feature overlaps with the cells' patterns (R, B, K), the most active
    cell (R, B) and the energy (R, B).

    >>> tr = ContextGSEMM(torch.eye(2), torch.zeros(2, 2)).simulate(torch.eye(2)[:1], steps=20, dt=0.01)
    >>> tr.overlaps.shape, tr.cell.shape
    (torch.Size([2, 1, 2]), torch.Size([2, 1]))
    """

    t: Tensor
    overlaps: Tensor
    cell: Tensor
    energy: Tensor


def contrastive_phi(phi: Tensor, d: Tensor, h_plus: Tensor, h_minus: Tensor, *, eps: float, eta: float) -> Tensor:
    r"""The rule's closed form :math:`ΔΦ_{ij} = η Φ_{ij} d_j (h^+_i − h^-_i)/(ε + (Φd)_i)` (the contrastive
    −∂E/∂Φ with multiplicative synapses), shape of ``phi`` (B, K, K) or (K, K).

    >>> phi = torch.tensor([[0., 0], [1, 0]])                    # cell 0 -> cell 1
    >>> contrastive_phi(phi, torch.tensor([1., 0]), torch.tensor([0., 0]), torch.tensor([0., 1]),
    ...                 eps=1e-6, eta=1.0) + 0.0
    tensor([[ 0.0000,  0.0000],
            [-1.0000,  0.0000]])
    """
    q = (phi @ d.unsqueeze(-1)).squeeze(-1)
    return eta * phi * ((h_plus - h_minus) / (eps + q)).unsqueeze(-1) * d.unsqueeze(-2)


def clamped_phase(match: Tensor, prior: Tensor, *, beta: float, top: Tensor | None = None, on: Tensor | None = None,
                  floor: float = 0.0) -> Tensor:
    r"""The clamped-phase cells :math:`h^+ = \mathrm{softmax}(β\,m + \log p)` for bottom-up matches ``m`` and
    context prior ``p = ε + Φd`` (B, K), computed as the product of experts
    :math:`h^+_i ∝ e^{β(m_i − m_{top})}\,p_i` (no logarithm; exponents floored at −80, far below any cut-off).

    ``top`` (default: the largest match) only sets the scale; cells where the bool mask ``on`` (B, K) is False
    are off (as is a cell with ``p_i = 0``). With ``floor``
    > 0, cells below ``floor`` times the most active one are silenced before normalising (the sharp limit
    of :class:`~networks.gsemm.streaming.StreamLearner`). Used by :meth:`ContextGSEMM.settle` and the
    streaming learner.

    >>> clamped_phase(torch.tensor([[1.0, 1.0, 0.0]]), torch.tensor([[1e-6, 1.0, 1.0]]), beta=50.0)
    tensor([[1.0000e-06, 1.0000e+00, 1.9287e-22]])
    """
    top = match.amax(-1, keepdim=True) if top is None else top
    h = torch.exp((beta * (match - top)).clamp_min(-80.0)) * prior
    if on is not None:
        h = torch.where(on, h, torch.zeros_like(h))
    if floor > 0:
        h = torch.where(h >= floor * h.amax(-1, keepdim=True), h, torch.zeros_like(h))
    return h / h.sum(-1, keepdim=True)


@dataclass(frozen=True)
class ContextGSEMM:
    r"""The context GSEMM energy network (see the module docstring for E, the flow and the rule).

    ``xi`` (K, N): cell patterns (rows are normalised to unit length internally); ``phi`` (K, K):
    :math:`Φ_{ij}` = transition from cell j to cell i, non-negative.

    >>> import torch
    >>> net = ContextGSEMM(torch.eye(2, dtype=torch.float64), torch.zeros(2, 2, dtype=torch.float64))
    >>> st = ContextState(torch.zeros(1, 2, dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64),
    ...                   torch.zeros(1, 2, dtype=torch.float64))
    >>> net.energy(st).shape
    torch.Size([1])
    """

    xi: Tensor
    phi: Tensor
    beta: float = 20.0
    alpha_s: float = 1.0
    eps: float = 1e-6
    T_f: float = 1.0
    T_h: float = 0.1
    T_d: float = 5.0
    feature: Lagrangian = field(default_factory=Quadratic)
    drive: str = "log"
    gamma: float = 1.0

    def __post_init__(self):
        if self.xi.dim() != 2 or self.phi.shape != (self.xi.shape[0], self.xi.shape[0]):
            raise ValueError(f"xi must be (K, N) and phi (K, K); got {tuple(self.xi.shape)} "
                             f"and {tuple(self.phi.shape)}")
        if bool((self.phi < 0).any()):
            raise ValueError("phi must be non-negative (it holds transition strengths)")
        if self.drive not in ("log", "linear"):
            raise ValueError(f"drive must be 'log' or 'linear', got {self.drive!r}")
        for name in ("beta", "alpha_s", "eps", "T_f", "T_h", "T_d", "gamma"):
            val = getattr(self, name)
            if not val > 0:
                raise ValueError(f"{name} must be > 0, got {val}")

    @property
    def hidden(self) -> LogSumExp:
        """The cells' Lagrangian :math:`L_h = \\tfrac1β\\log Σ e^{βu}` (softmax activation)."""
        return LogSumExp(self.beta)

    @property
    def xi_unit(self) -> Tensor:
        """Rows of Ξ normalised to unit length, :math:`\\hat Ξ` (K, N)."""
        return self.xi / self.xi.norm(dim=-1, keepdim=True).clamp_min(1e-12)

    def context_drive(self, d: Tensor) -> Tensor:
        """β times the context term of the cells' input, shape (B, K): :math:`\\log(ε + Φ d)` for
        ``drive="log"`` (the product of experts of the streaming learner) or :math:`βγ\\,Φ d` for
        ``drive="linear"`` (the classic GSEMM coupling; its dwell grows smoothly with how different
        consecutive items are, which makes it the robust choice for free replay of alike items)."""
        q = d @ self.phi.T
        return torch.log(self.eps + q) if self.drive == "log" else self.beta * self.gamma * q

    def flow(self, state: ContextState, inputs: Tensor | None = None) -> ContextState:
        """Time derivatives (dv/dt, du/dt, dd/dt)."""
        v, u, d = state
        h = self.hidden.act(u)
        g = self.feature.act(v)
        a = self.alpha_s ** 0.5
        dv = a * h @ self.xi_unit - v + (inputs if inputs is not None else 0.0)
        # T_f ∇²L_f v̇ = −∂E/∂v = ∇²L_f (√α_s Ξ̂ᵀh + I − v) for any L_f: v̇ = (√α_s Ξ̂ᵀh + I − v)/T_f
        du = a * g @ self.xi_unit.T + self.context_drive(d) / self.beta - u
        return ContextState(dv / self.T_f, du / self.T_h, (h - d) / self.T_d)

    def energy(self, state: ContextState, inputs: Tensor | None = None) -> Tensor:
        """The dynamic energy E(v, u; d), shape (B,)."""
        v, u, d = state
        h = self.hidden.act(u)
        g = self.feature.act(v)
        e = self.feature.legendre(v) + self.hidden.legendre(u)
        e = e - self.alpha_s ** 0.5 * (h * (g @ self.xi_unit.T)).sum(-1)
        e = e - (h * self.context_drive(d)).sum(-1) / self.beta
        if inputs is not None:
            e = e - (g * inputs).sum(-1)
        return e

    def settle(self, x: Tensor, d: Tensor) -> Tensor:
        """Clamped-phase fixed point :math:`h^+ = \\mathrm{softmax}(β\\sqrt{α_s}\\hat Ξ\\hat x + \\log(ε+Φd))`
        (B, K), by :func:`clamped_phase`; with ``drive="linear"`` the context term is :math:`βγΦd`."""
        xh = x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        match = self.alpha_s ** 0.5 * xh @ self.xi_unit.T
        if self.drive == "log":
            return clamped_phase(match, self.eps + d @ self.phi.T, beta=self.beta)
        return torch.softmax(self.beta * match + self.context_drive(d), dim=-1)

    def predict(self, d: Tensor) -> Tensor:
        """Free-phase fixed point (no input): :math:`h^- ∝ ε + Φ d` (B, K), the prediction over cells."""
        return torch.softmax(self.context_drive(d), dim=-1)

    def rule(self, d: Tensor, x: Tensor, *, eta: float = 1.0) -> Tensor:
        """ΔΦ (B, K, K) for trace ``d`` (B, K) and the element ``x`` (B, N) that arrived: :func:`contrastive_phi`
        of the clamped and free phases."""
        return contrastive_phi(self.phi, d, self.settle(x, d), self.predict(d), eps=self.eps, eta=eta)

    def simulate(self, cue: Tensor, *, steps: int, dt: float, cue_steps: int = 0,
                 record_every: int = 10) -> ContextTrajectory:
        r"""Euler-integrate the flow from :math:`v = \hat x_{cue}`, u = d = 0, with the cue also applied as input
        :math:`I` for the first ``cue_steps`` steps; then the network runs freely and replays what Φ holds.

        >>> import torch
        >>> X = torch.eye(4, dtype=torch.float64)
        >>> net = ContextGSEMM(X, torch.diag(torch.ones(3, dtype=torch.float64), -1), beta=10.0, T_f=0.1,
        ...                    T_h=0.05, T_d=0.5)
        >>> tr = net.simulate(X[:1], steps=3000, dt=0.01, cue_steps=100)
        >>> torch.unique_consecutive(tr.cell[:, 0]).tolist()
        [0, 1, 2, 3]
        """
        if not (isinstance(steps, int) and steps >= 1 and isinstance(record_every, int) and record_every >= 1):
            raise ValueError("steps and record_every must be integers >= 1")
        if not (isinstance(dt, (int, float)) and 0 < dt <= 0.5 * min(self.T_f, self.T_h, self.T_d)):
            raise ValueError(f"dt={dt} must be > 0 and <= half the smallest time constant "
                             f"({0.5 * min(self.T_f, self.T_h, self.T_d)}) for a stable Euler step")
        cue = cue[None] if cue.dim() == 1 else cue
        xh = cue / cue.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        B, K = xh.shape[0], self.xi.shape[0]
        st = ContextState(xh.clone(), torch.zeros(B, K, dtype=xh.dtype), torch.zeros(B, K, dtype=xh.dtype))
        ts, ov, cell, en = [], [], [], []
        with torch.no_grad():
            for k in range(steps):
                inp = xh if k < cue_steps else None
                f = self.flow(st, inp)
                st = ContextState(st.v + dt * f.v, st.u + dt * f.u, st.d + dt * f.d)
                if k % record_every == 0:
                    ts.append(k * dt)
                    ov.append(st.v @ self.xi_unit.T)
                    cell.append(self.hidden.act(st.u).argmax(-1))
                    en.append(self.energy(st, inp))
        return ContextTrajectory(torch.tensor(ts), torch.stack(ov), torch.stack(cell), torch.stack(en))
