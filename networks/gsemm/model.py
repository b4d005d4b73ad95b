r"""The General Sequential Episodic Memory Model (GSEMM) and its reduced forms.

Three populations: features :math:`v = V_f` (fast), hidden :math:`h = V_h` (one unit per memory) and
a slow/delay population :math:`s = V_d`. With convex Lagrangians :math:`L_f, L_h`
(:math:`σ_f = ∇L_f`, :math:`σ_h = ∇L_h`), memories as the columns of Ξ (N × P) and transitions in Φ
(P × P, :math:`Φ_{μν} = 1` encodes μ → ν):

.. math::

    T_f \dot v &= \sqrt{α_s}\,Ξ\,σ_h(h) − v + I \\
    T_h \dot h &= \sqrt{α_s}\,Ξᵀσ_f(v) + α_c\,ΦᵀΞᵀ s − h \\
    T_d \dot s &= β_d\,σ_f(v) − s

and the dynamic energy

.. math::

    E = [vᵀσ_f − L_f] + [hᵀσ_h − L_h] − \sqrt{α_s}\,σ_fᵀΞσ_h − α_c\,sᵀΞΦσ_h − σ_fᵀI .

With ``T_h = 0`` (the forms simulated in the papers) the hidden layer is algebraic,
:math:`h = \sqrt{α_s}Ξᵀσ_f(v) + α_cΦᵀΞᵀs`, and the energy reduces to
:math:`E(v; s) = [vᵀσ_f − L_f] − L_h(h(v, s)) − σ_fᵀI`. In both cases
:math:`T_f ∇²L_f\,\dot v = −∂E/∂v` (and :math:`T_h∇²L_h\dot h = −∂E/∂h`), so with s frozen E is a
Lyapunov function; the slow population adds :math:`S = (∂E/∂s)·\dot s = O(1/T_d)`.

Batch axis first: ``v, s`` are ``(B, N)``, ``h`` is ``(B, P)``. Ξ/Φ may be shared (``(N, P)``/``(P, P)``)
or per stream (``(B, N, P)``/``(B, P, P)``). α_s, α_c and β_d may be floats or per-stream tensors
of shape ``(B,)``. Time is in one unit system throughout (the papers use T_f = 1).

Example
-------
>>> import torch
>>> from networks.gsemm import dsem, cycle, random_patterns
>>> xi = random_patterns(100, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
>>> net = dsem(xi, cycle(5, dtype=torch.float64), alpha_s=0.5, alpha_c=1.0, beta=1.0, T_d=20.0)
>>> state = net.init_state(xi[:, 0].unsqueeze(0))
>>> net.energy(state).shape
torch.Size([1])
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import NamedTuple, Optional

import torch
from torch import Tensor

from plasticity.checks import finite_number, finite_tensor, positive

from .lagrangians import Lagrangian, LogCosh, LogSumExp, Polynomial, Quadratic
from .linalg import phi_m, phi_t, xi_m, xi_t


class State(NamedTuple):
    """Dynamic state: features ``v`` (B, N), slow population ``s`` (B, N), hidden ``h`` (B, P) or
    ``None`` when the hidden layer is instantaneous (``T_h = 0``).

    A named tuple, so ``v, s, h = state`` works. Build it with :meth:`GSEMM.init_state`, which checks
    shapes and casts the cue to the weights' dtype and device.

    >>> import torch
    >>> st = State(torch.ones(2, 4), torch.zeros(2, 4))
    >>> st.v.shape, st.h is None
    (torch.Size([2, 4]), True)
    """

    v: Tensor
    s: Tensor
    h: Optional[Tensor] = None


#: the signals :meth:`GSEMM.signals` computes (``simulate(record=...)``, the learner's monitors)
SIGNALS = ("v", "s", "hidden", "overlaps", "energy", "F", "S")
_FINITE = "; pass finite values"


def _as_coef(name: str, x):
    """A float, or a per-stream tensor stored as (B, 1) (given as (B,), a scalar tensor, or already (B, 1)).
    Shapes only: the values are scanned by :meth:`GSEMM.check`."""
    if isinstance(x, Tensor):
        if x.dim() == 0:
            x = x.reshape(1)
        if x.dim() == 2 and x.shape[-1] == 1:       # the stored form (a replace() of a per-stream model)
            return x
        if x.dim() != 1:
            raise ValueError(f"{name} must be a float or a 1-D per-stream tensor of shape (B,), got {tuple(x.shape)}")
        return x.unsqueeze(-1)
    return finite_number(name, float(x))


@dataclass(frozen=True, eq=False)
class GSEMM:
    r"""A GSEMM network (the module docstring derives the equations).

    .. math::

        T_f \dot v = \sqrt{α_s}\,Ξ\,σ_h(h) − v + I,\quad
        T_h \dot h = \sqrt{α_s}\,Ξᵀσ_f(v) + α_c\,ΦᵀΞᵀ s − h,\quad
        T_d \dot s = β_d\,σ_f(v) − s,

        E = [vᵀσ_f − L_f] + [hᵀσ_h − L_h] − \sqrt{α_s}\,σ_fᵀΞσ_h − α_c\,sᵀΞΦσ_h − σ_fᵀI

    (with ``T_h = 0``: :math:`h = \sqrt{α_s}Ξᵀσ_f(v) + α_cΦᵀΞᵀs` and
    :math:`E = [vᵀσ_f − L_f] − L_h(h) − σ_fᵀI`).

    Parameters: ``xi`` Ξ (N, P) or (B, N, P); ``phi`` Φ (P, P) or (B, P, P); ``feature`` / ``hidden``
    Lagrangians; ``alpha_s``, ``alpha_c`` interaction strengths; ``beta_d`` delay gain; ``T_f``,
    ``T_h``, ``T_d`` time constants (``T_h = 0`` for an instantaneous hidden layer). Ξ and Φ must be
    finite floating-point tensors of one dtype and device; bad shapes and plain numbers raise a ValueError
    naming the field at construction, non-finite tensor values at :meth:`check` (which :meth:`init_state`,
    ``simulate`` and the factories call). Frozen: use :meth:`replace` for changed weights. The factories :func:`dsem`,
    :func:`lisem` and :func:`dense_polynomial` pick the Lagrangians.

    >>> import torch
    >>> from networks.gsemm import LogSumExp, Quadratic, cycle, hadamard_patterns
    >>> xi = hadamard_patterns(8, 3, dtype=torch.float64)
    >>> net = GSEMM(xi, cycle(3, dtype=torch.float64), Quadratic(), LogSumExp(4.0), alpha_c=2.0, T_d=10.0)
    >>> net.N, net.P, net.instantaneous, net.transition_ratio()
    (8, 3, True, 0.5)
    >>> st = net.init_state(xi[:, 0])
    >>> net.flow(st).v.shape, net.energy(st).shape
    (torch.Size([1, 8]), torch.Size([1]))
    """

    xi: Tensor
    phi: Tensor
    feature: Lagrangian = field(default_factory=Quadratic)
    hidden: Lagrangian = field(default_factory=LogSumExp)
    alpha_s: float | Tensor = 1.0
    alpha_c: float | Tensor = 1.0
    beta_d: float | Tensor = 1.0
    T_f: float = 1.0
    T_d: float = 20.0
    T_h: float = 0.0

    def __post_init__(self):
        xi, phi = self.xi, self.phi
        if not isinstance(xi, Tensor) or xi.dim() not in (2, 3):
            raise ValueError(f"xi must be a tensor of shape (N, P) or (B, N, P), got {getattr(xi, 'shape', type(xi))}")
        if not isinstance(phi, Tensor) or phi.dim() not in (2, 3):
            raise ValueError(f"phi must be a tensor of shape (P, P) or (B, P, P), "
                             f"got {getattr(phi, 'shape', type(phi))}")
        P = xi.shape[-1]
        if phi.shape[-2:] != (P, P):
            raise ValueError(f"phi must be ({P}, {P}) to match xi's {P} memories, got {tuple(phi.shape[-2:])}")
        if xi.dim() == 3 and phi.dim() == 3 and xi.shape[0] != phi.shape[0]:
            raise ValueError(f"per-stream xi and phi need the same batch size, got {xi.shape[0]} and {phi.shape[0]}")
        if not xi.is_floating_point() or not phi.is_floating_point():
            raise ValueError("xi and phi must be floating-point tensors (float32 or float64)")
        if xi.dtype != phi.dtype or xi.device != phi.device:
            raise ValueError(f"xi and phi must share dtype and device, got {xi.dtype}/{xi.device} "
                             f"and {phi.dtype}/{phi.device}")
        for name in ("T_f", "T_d"):
            positive(name, float(getattr(self, name)), note=" (a time constant)")
        positive("T_h", float(self.T_h), strict=False, note=" (0 = instantaneous hidden layer)")
        for name in ("alpha_s", "alpha_c", "beta_d"):
            object.__setattr__(self, name, _as_coef(name, getattr(self, name)))
        if not isinstance(self.alpha_s, Tensor) and self.alpha_s < 0:
            raise ValueError("alpha_s must be >= 0 (it enters as sqrt(alpha_s))")
        if not isinstance(self.feature, Lagrangian) or not isinstance(self.hidden, Lagrangian):
            raise ValueError("feature and hidden must be Lagrangian instances "
                             "(Quadratic, LogCosh, LogSumExp, Polynomial)")

    def check(self) -> "GSEMM":
        """Scan the values (the constructor checks only shapes, types and plain numbers, so that building a
        model, e.g. a :meth:`replace` per learning step, never syncs a GPU): Ξ, Φ and per-stream α_s, α_c,
        β_d must be finite and α_s ≥ 0. Raises a ValueError naming the field; returns the model.
        :meth:`init_state`, :func:`~networks.gsemm.integrate.simulate`, the factories (:func:`dsem`, ...)
        and the :class:`~networks.gsemm.learner.Learner` call it.

        >>> import torch
        >>> from networks.gsemm import cycle
        >>> xi = torch.ones(4, 2, dtype=torch.float64); xi[0, 0] = float("nan")
        >>> net = GSEMM(xi, cycle(2, dtype=torch.float64))          # the shapes are fine
        >>> net.check()
        Traceback (most recent call last):
        ...
        ValueError: xi contains NaN or inf; pass finite values
        """
        finite_tensor("xi", self.xi, _FINITE)
        finite_tensor("phi", self.phi, _FINITE)
        for name in ("alpha_s", "alpha_c", "beta_d"):
            a = getattr(self, name)
            if isinstance(a, Tensor):
                finite_tensor(name, a, _FINITE)
        if isinstance(self.alpha_s, Tensor) and bool((self.alpha_s < 0).any()):
            raise ValueError("alpha_s must be >= 0 (it enters as sqrt(alpha_s))")
        return self

    # ----------------------------------------------------------------------------------------- shapes
    @property
    def N(self) -> int:
        """Number of feature neurons."""
        return self.xi.shape[-2]

    @property
    def P(self) -> int:
        """Number of hidden units (stored memories)."""
        return self.xi.shape[-1]

    @property
    def instantaneous(self) -> bool:
        """True when the hidden layer is algebraic (``T_h = 0``)."""
        return float(self.T_h) == 0.0

    @property
    def sqrt_alpha_s(self):
        a = self.alpha_s
        return a.sqrt() if isinstance(a, Tensor) else math.sqrt(a)

    def replace(self, **changes) -> "GSEMM":
        """A copy with some fields changed (e.g. new weights after learning)."""
        return replace(self, **changes)

    # ------------------------------------------------------------------------------------------ state
    def init_state(self, v0: Tensor, s0: Tensor | None = None, h0: Tensor | None = None) -> State:
        """Initial state from a cue ``v0`` (B, N) (or (N,)); ``s0`` defaults to 0 and ``h0`` to the
        instantaneous hidden input when ``T_h > 0``.

        The cue is data: ``v0`` and ``s0`` are cast to the weights' dtype and device (a float32 cue
        for a float64 network is upcast exactly), so the returned state always matches the network,
        as :func:`~networks.gsemm.integrate.simulate` requires. Shapes and finiteness (of the cue and, with
        :meth:`check`, of the weights) are checked.

        >>> import torch
        >>> from networks.gsemm import cycle, dsem
        >>> net = dsem(torch.eye(4, 2, dtype=torch.float64), cycle(2, dtype=torch.float64))
        >>> net.init_state(torch.ones(4)).v.dtype
        torch.float64
        """
        self.check()
        v0 = self._check_vec("v0", v0)
        s0 = torch.zeros_like(v0) if s0 is None else self._check_vec("s0", s0, batch=v0.shape[0])
        if self.instantaneous:
            if h0 is not None:
                raise ValueError("h0 given but T_h = 0 (instantaneous hidden layer has no state)")
            return State(v0, s0, None)
        if h0 is None:
            h0 = self.hidden_input(v0, s0)
        elif h0.shape != (v0.shape[0], self.P):
            raise ValueError(f"h0 must have shape (B, P) = ({v0.shape[0]}, {self.P}), got {tuple(h0.shape)}")
        return State(v0, s0, h0)

    def _check_vec(self, name: str, x: Tensor, batch: int | None = None) -> Tensor:
        if not isinstance(x, Tensor):
            raise ValueError(f"{name} must be a torch tensor")
        if x.dim() == 1:
            x = x.unsqueeze(0)
        if x.dim() != 2 or x.shape[-1] != self.N:
            raise ValueError(f"{name} must have shape (B, N) with N = {self.N}, got {tuple(x.shape)}")
        if batch is not None and x.shape[0] != batch:
            raise ValueError(f"{name} has batch {x.shape[0]} but the cue has batch {batch}")
        if self.xi.dim() == 3 and x.shape[0] != self.xi.shape[0]:
            raise ValueError(f"{name} batch {x.shape[0]} must equal the per-stream weight batch {self.xi.shape[0]}")
        if x.dtype != self.xi.dtype or x.device != self.xi.device:
            x = x.to(dtype=self.xi.dtype, device=self.xi.device)
        return finite_tensor(name, x, _FINITE)

    # ----------------------------------------------------------------------------------- dynamics
    # The right-hand side is defined here once: cross (the delayed drive), fast (v and h with s frozen)
    # and slow (s). flow composes them; the integrators, the learner and the monitors call them.
    def cross(self, s: Tensor) -> Tensor:
        r"""The delayed drive of the hidden layer, :math:`α_cΦᵀΞᵀs`, shape (B, P).

        >>> import torch
        >>> from networks.gsemm import chain, dsem
        >>> dsem(torch.eye(2), chain(2), alpha_c=3.0).cross(torch.tensor([[1., 0.]]))   # memory 0 drives 1
        tensor([[0., 3.]])
        """
        return self.alpha_c * phi_t(self.phi, xi_t(self.xi, s))

    def hidden_input(self, v: Tensor, s: Tensor | None = None, *, cross: Tensor | None = None) -> Tensor:
        r""":math:`\sqrt{α_s}Ξᵀσ_f(v) + α_cΦᵀΞᵀs`, shape (B, P); pass ``cross`` (= :meth:`cross` of s)
        instead of ``s`` to reuse it."""
        return self.sqrt_alpha_s * xi_t(self.xi, self.feature.act(v)) + (self.cross(s) if cross is None else cross)

    def hidden_rate(self, h_in: Tensor, h: Tensor | None) -> tuple[Tensor, Tensor | None]:
        r"""The hidden layer for a hidden input ``h_in``: :math:`(σ_h(h), \dot h)` with
        :math:`T_h\dot h = h_{in} − h`; with ``h = None`` (``T_h = 0``) it is algebraic,
        :math:`(σ_h(h_{in}), \text{None})`. Shared by the full-space and the reduced right-hand sides."""
        if h is None:
            return self.hidden.act(h_in), None
        return self.hidden.act(h), (h_in - h) / self.T_h

    def fast(self, v: Tensor, h: Tensor | None, cross: Tensor,
             inputs: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        r"""The fast populations with the slow one frozen (its drive given as ``cross``, see :meth:`cross`):

        .. math:: T_f\dot v = \sqrt{α_s}\,Ξ\,σ_h(h) − v + I,\qquad
                  T_h\dot h = \sqrt{α_s}\,Ξᵀσ_f(v) + \mathrm{cross} − h

        returned as ``(dv/dt, dh/dt)``; with ``T_h = 0`` (``h = None``) h is that input and dh/dt is None.

        >>> import torch
        >>> from networks.gsemm import cycle, dsem
        >>> net = dsem(torch.eye(4, 2), cycle(2))
        >>> dv, dh = net.fast(torch.zeros(1, 4), None, net.cross(torch.ones(1, 4)))
        >>> dv.shape, dh
        (torch.Size([1, 4]), None)
        """
        p, dh = self.hidden_rate(self.hidden_input(v, cross=cross), h)
        dv = self.sqrt_alpha_s * xi_m(self.xi, p) - v
        if inputs is not None:
            dv = dv + inputs
        return dv / self.T_f, dh

    def slow(self, v: Tensor, s: Tensor) -> Tensor:
        r"""The slow population, :math:`\dot s = (β_dσ_f(v) − s)/T_d`, shape (B, N).

        >>> import torch
        >>> from networks.gsemm import cycle, dsem
        >>> dsem(torch.eye(4, 2), cycle(2), T_d=2.0).slow(torch.zeros(1, 4), torch.ones(1, 4))
        tensor([[-0.5000, -0.5000, -0.5000, -0.5000]])
        """
        return (self.beta_d * self.feature.act(v) - s) / self.T_d

    def hidden_activity(self, state: State) -> Tensor:
        """:math:`σ_h(h)` (the softmax "time cells" for DSEM), shape (B, P)."""
        h = self.hidden_input(state.v, state.s) if state.h is None else state.h
        return self.hidden.act(h)

    def flow(self, state: State, inputs: Tensor | None = None) -> State:
        """Time derivatives (dv/dt, ds/dt, dh/dt): :meth:`fast` and :meth:`slow` at one state."""
        v, s, h = state
        dv, dh = self.fast(v, h, self.cross(s), inputs)
        return State(dv, self.slow(v, s), dh)

    def energy(self, state: State, inputs: Tensor | None = None) -> Tensor:
        """The dynamic energy E(v, h; s), shape (B,)."""
        v, s, h = state
        g = self.feature.act(v)
        e = self.feature.legendre(v)
        if h is None:
            e = e - self.hidden.value(self.hidden_input(v, s))
        else:
            p = self.hidden.act(h)
            e = e + self.hidden.legendre(h)
            e = e - (self.sqrt_alpha_s * (xi_t(self.xi, g) * p)).sum(-1)
            e = e - (self.alpha_c * (xi_t(self.xi, s) * phi_m(self.phi, p))).sum(-1)
        if inputs is not None:
            e = e - (g * inputs).sum(-1)
        return e

    def dissipation(self, state: State, flow: State | None = None) -> Tensor:
        """:math:`F = −T_f \\dot vᵀ∇²L_f\\dot v − T_h \\dot hᵀ∇²L_h\\dot h ≤ 0`, shape (B,)."""
        flow = self.flow(state) if flow is None else flow
        F = -self.T_f * self.feature.hess_quad(state.v, flow.v)
        if state.h is not None:
            F = F - self.T_h * self.hidden.hess_quad(state.h, flow.h)
        return F

    def slow_drive(self, state: State, flow: State | None = None) -> Tensor:
        """:math:`S = (∂E/∂s)·\\dot s = −α_c (ΞΦσ_h)·\\dot s`, the only term that can raise E; O(1/T_d)."""
        flow = self.flow(state) if flow is None else flow
        p = self.hidden_activity(state)
        return -(self.alpha_c * (xi_m(self.xi, phi_m(self.phi, p)) * flow.s)).sum(-1)

    def signals(self, state: State, names, inputs: Tensor | None = None) -> dict:
        """The named quantities of :data:`SIGNALS` at ``state`` (what ``simulate(record=...)`` and the
        learner's monitors store): ``v``, ``s``, ``hidden`` (:meth:`hidden_activity`), ``overlaps``,
        ``energy``, ``F`` (:meth:`dissipation`) and ``S`` (:meth:`slow_drive`). Unknown names are ignored.

        >>> import torch
        >>> from networks.gsemm import cycle, dsem
        >>> net = dsem(torch.eye(4, 2), cycle(2))
        >>> {k: tuple(x.shape) for k, x in net.signals(net.init_state(torch.ones(4)), ("overlaps", "F")).items()}
        {'overlaps': (1, 2), 'F': (1,)}
        """
        v, s, _ = state
        out = {}
        if "v" in names:
            out["v"] = v
        if "s" in names:
            out["s"] = s
        if "hidden" in names:
            out["hidden"] = self.hidden_activity(state)
        if "overlaps" in names:
            out["overlaps"] = self.overlaps(v)
        if "energy" in names:
            out["energy"] = self.energy(state, inputs)
        if "F" in names or "S" in names:
            fl = self.flow(state, inputs)
            if "F" in names:
                out["F"] = self.dissipation(state, fl)
            if "S" in names:
                out["S"] = self.slow_drive(state, fl)
        return out

    def overlaps(self, v: Tensor) -> Tensor:
        """Mattis overlaps :math:`m_μ = ξ^{(μ)}·v / N`, shape (B, P)."""
        return xi_t(self.xi, v) / self.N

    def transition_ratio(self) -> Tensor | float:
        """The ratio r that decides static (r > 1) versus sequence (r < 1) memory.

        In this √α_s-symmetric parametrisation a retrieved memory has v ≈ √α_s ξ, so the self term of
        the hidden input is α_s N and the delayed cross term α_c β_d √α_s N: r = √α_s/(α_c β_d).
        With α_s = 1 and β_d = 1 this is the α_s/α_c of EDEN's parametrisation (h = α_sΞᵀv + …),
        which the escape-time law T_esc = −T_d ln(1 − √r) is written in.
        """
        return self.sqrt_alpha_s / (self.alpha_c * self.beta_d)

    def regime(self) -> Tensor | float:
        """Regime indicator :math:`β N |1 − r|` with r = :meth:`transition_ratio` (β of a softmax
        hidden layer, else 1). The escape-time law needs it ≫ 1 (a sharp softmax)."""
        beta = getattr(self.hidden, "beta", 1.0)
        r = self.transition_ratio()
        return beta * self.N * abs(1 - r)


# ------------------------------------------------------------------------------------------ factories
def dsem(xi: Tensor, phi: Tensor, *, alpha_s=1.0, alpha_c=1.0, beta: float = 1.0, beta_d=1.0,
         T_f: float = 1.0, T_d: float = 20.0, T_h: float = 0.0) -> GSEMM:
    r"""DSEM / EDEN: identity features, softmax hidden layer (exponential capacity).

    :math:`T_f\dot v = \sqrt{α_s}Ξ\,\mathrm{softmax}(βh) − v + I`, :math:`T_d\dot s = β_d v − s`, with
    :math:`h = \sqrt{α_s}Ξᵀv + α_cΦᵀΞᵀs` (``T_h = 0``) or :math:`T_h\dot h = \sqrt{α_s}Ξᵀv + α_cΦᵀΞᵀs − h`.
    The energy implemented by :meth:`GSEMM.energy` is, for ``T_h > 0``,

    .. math::

        E = ½‖v‖² + \big[hᵀ\mathrm{softmax}(βh) − β^{-1}\log\textstyle\sum_μ e^{βh_μ}\big]
            − \sqrt{α_s}\,vᵀΞ\,\mathrm{softmax}(βh) − α_c\,sᵀΞΦ\,\mathrm{softmax}(βh) − vᵀI ,

    and for ``T_h = 0`` (h algebraic, the bracket and the two coupling terms combine into −L_h(h))

    .. math::

        E(v; s) = ½‖v‖² − β^{-1}\log\sum_μ \exp\!\big(β[\sqrt{α_s}Ξᵀv + α_cΦᵀΞᵀs]_μ\big) − vᵀI ,

    so the delayed term :math:`−α_c\,sᵀΞΦσ_h` is inside the log-sum-exp. ``beta`` is the softmax
    inverse temperature β; the other arguments are those of :class:`GSEMM`.

    >>> import torch; from networks.gsemm import cycle
    >>> net = dsem(torch.ones(4, 2), cycle(2), beta=2.0)
    >>> net.P, net.hidden.beta
    (2, 2.0)
    """
    return GSEMM(xi, phi, Quadratic(), LogSumExp(beta), alpha_s, alpha_c, beta_d, T_f, T_d, T_h).check()


def lisem(xi: Tensor, phi: Tensor, *, alpha_s=1.0, alpha_c=1.0, gain: float = 1.0, beta_d=1.0,
          T_f: float = 1.0, T_d: float = 20.0, T_h: float = 0.0) -> GSEMM:
    r"""LISEM: tanh features, linear hidden layer (a delayed Hebbian Hopfield net, linear capacity).

    Integrating out h: :math:`T_f\dot v = α_sΞΞᵀ\tanh(γv) + \sqrt{α_s}α_cΞΦᵀΞᵀs − v`.

    >>> import torch; from networks.gsemm import chain
    >>> lisem(torch.ones(4, 3), chain(3)).N
    4
    """
    return GSEMM(xi, phi, LogCosh(gain), Quadratic(), alpha_s, alpha_c, beta_d, T_f, T_d, T_h).check()


def dense_polynomial(xi: Tensor, phi: Tensor, *, degree: int = 3, scale: float | None = None, alpha_s=1.0,
                     alpha_c=1.0, beta_d=1.0, T_f: float = 1.0, T_d: float = 20.0, T_h: float = 0.0) -> GSEMM:
    r"""Dense GSEMM: identity features, rectified-polynomial hidden layer :math:`σ_h(x) = \max(κx, 0)^n`.

    ``scale`` κ defaults to 1/N so that the hidden input is an overlap in [−1, 1] for ±1 patterns.

    >>> import torch; from networks.gsemm import cycle
    >>> dense_polynomial(torch.ones(4, 2), cycle(2), degree=2).hidden.scale
    0.25
    """
    kappa = 1.0 / xi.shape[-2] if scale is None else scale
    return GSEMM(xi, phi, Quadratic(), Polynomial(degree, kappa), alpha_s, alpha_c, beta_d, T_f, T_d, T_h).check()


#: the factories by name, as used by :func:`make_model` and the experiments' ``model=`` setting
MODELS = {"dsem": dsem, "lisem": lisem, "dense_polynomial": dense_polynomial}


def make_model(name: str, xi: Tensor, phi: Tensor, **kwargs) -> GSEMM:
    """Build a model by name (``dsem``, ``lisem``, ``dense_polynomial``: the keys of :data:`MODELS`);
    ``kwargs`` go to that factory. Unknown names raise a ValueError listing the choices.

    >>> import torch
    >>> from networks.gsemm import chain
    >>> make_model("lisem", torch.ones(4, 3), chain(3), gain=2.0).feature
    LogCosh(gain=2.0)
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name](xi, phi, **kwargs)
