r"""Online learning rules of GSEMM, built on the energy-derived rules of :mod:`plasticity.energy`,
and free recall.

Both rules take one integration step's worth of information and return ``(ΔΞ, ΔΦ, new_rule_state)``;
they never mutate (the :class:`~networks.gsemm.learner.Learner` applies Δ, or writes −Δ into ``.grad``).

:class:`AuthorsRule` — the contrastive rule of the GSEMM authors' released code (Karuvally et al., ICML 2023), faithful:

.. math::
    T_{lξ}\dot Ξ = c_ξ xŷᵀ − \sqrt{α_s} vσᵀ + α_c s(Φ(ŷ−σ))ᵀ,\qquad T_{lφ}\dot Φ = α_c(Ξ_{new}ᵀs)(ŷ−σ)ᵀ,

ŷ = σ_h(√α_s Ξᵀx), σ = σ_h(h) of the free network before the step, c_ξ = 1 + √α_s (their code rescales
the presented pattern, x ← x + √α_s x, in the target term only).

:class:`RecruitingRule` — the reliable variant (see ``docs/learning.md``). Still
"[−∂E/∂W]_target − [−∂E/∂W]_free", with three changes:

1. **Recruitment (sharp target).** ŷ is one-hot: the committed unit whose column matches x
   (cosine ≥ θ), else the first free unit, which is then committed and imprinted with x/√α_s (the
   fixed point of the Ξ rule below, reached at once: the η_ξ → ∞ limit for that one unit) — the β → ∞
   limit of the energy's hidden code restricted to an ART-like candidate set. Distinct patterns get distinct units,
   and a new sequence takes fresh units instead of overwriting old ones.
2. **Ξ: contrastive gradient of the static energy** (α_c term dropped), target (x, ŷ) against the free
   relaxed state (v̂ = √α_s Ξσ, σ = σ_h(√α_s Ξᵀx)):
   :math:`\dot Ξ = η_ξ\sqrt{α_s}(xŷᵀ − v̂σᵀ)`, whose fixed point is ξ_μ = x/√α_s, the norm that makes the
   escape-time law apply.
3. **Φ: contrastive −∂E/∂Φ with a sharp delayed code and soft bounds.** Presynaptic: the delayed
   memory signal through the hidden softmax, weighted by how much of each memory is present in s,
   :math:`z_μ = \mathrm{softmax}(β_z Ξᵀs)_μ\,\mathrm{clip}(ξ_μ·s / (β_d\sqrt{α_s}‖ξ_μ‖²), 0, 1)`
   (crosstalk removed; z = 0 when s = 0);
   postsynaptic error: target minus a lagging hidden trace ȳ (τ_y ≪ T_d, i.e. the hidden layer with a
   finite T_h): :math:`\dot Φ = η_φ α_c\,[z(ŷ − ȳ)ᵀ]^+ (1 − Φ) + η_φ α_c\,[z(ŷ − ȳ)ᵀ]^-\,Φ` (Φ ∈ [0, 1]).
   The update is non-zero only just after the presented item changes (an STDP-like causal window):
   μ → ν is potentiated when μ was active before ν, and the diagonal is depressed.

The timing is not learned: the operating point is set by r = √α_s/(α_c β_d) through the escape-time law
T_esc = −T_d ln(1 − √r) (deep inside the dynamic phase, e.g. r = 0.5 → T_esc ≈ 1.23 T_d).

Example
-------
>>> import torch
>>> from networks.gsemm import dsem, random_patterns
>>> from networks.gsemm.learning import RecruitingRule
>>> X = random_patterns(32, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
>>> net = dsem(torch.zeros(32, 6, dtype=torch.float64), torch.zeros(6, 6, dtype=torch.float64), alpha_c=2.0)
>>> rule = RecruitingRule()
>>> st = rule.init_state(net, 1)
>>> z = torch.zeros(1, 32, dtype=torch.float64)
>>> dxi, dphi, st = rule.update(net, X[:, 0][None], None, State(X[:, 0][None], z, None), st, 0.05)
>>> st.committed.tolist()
[[True, False, False, False, False, False]]
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import Tensor

from plasticity import Contrastive, GSEMMPhi, Multiplicative, gsemm_phi_grad, gsemm_xi_grad
from plasticity.checks import known, positive
from plasticity.energy import authors_rule

from .linalg import xi_m, xi_t
from .model import GSEMM, State

__all__ = ["RecruitState", "RecruitingRule", "AuthorsState", "AuthorsRule", "RULES", "RULE_PROTOCOL", "PRE_CODES",
           "check_rule", "register_rule", "rule_from_settings", "free_recall"]


class RecruitState(NamedTuple):
    """Rule traces: ``committed`` (B, P) bool (recruited units) and ``ybar`` (B, P) (lagging hidden code)."""

    committed: Tensor
    ybar: Tensor


@dataclass(frozen=True)
class RecruitingRule:
    r"""Recruiting contrastive energy rule: "[−∂E/∂W]_target − [−∂E/∂W]_free" with a one-hot target.

    Input mode ``clamp`` (teacher forcing: v = x, the presented pattern (B, N); s is the delayed
    population after the step). One call of :meth:`update` with step ``dt`` computes:

    * target ŷ (one-hot, :meth:`target`): the committed unit μ with the largest cosine
      :math:`ξ_μ·x/(‖ξ_μ‖‖x‖) ≥ θ`, else the first free unit, which becomes committed;
    * free relaxed code :math:`σ = σ_h(\sqrt{α_s}Ξᵀx)` and state :math:`\hat v = \sqrt{α_s}Ξσ`;
    * Ξ (static-energy gradient, α_c term dropped):

      .. math:: ΔΞ = η_ξ\,dt\,\sqrt{α_s}\,(x ŷᵀ − \hat v σᵀ),

      except that a newly recruited unit ν is imprinted at once, :math:`ξ_ν ← x/\sqrt{α_s}` (the fixed
      point of the rule above; with shared Ξ the streams' imprints are averaged);
    * Φ (contrastive −∂E/∂Φ with a sharp delayed code and soft bounds in [0, φ_max]):

      .. math::

          z_μ = \mathrm{softmax}(β_z Ξᵀs)_μ\;\mathrm{clip}\!\Big(\frac{ξ_μ·s}{β_d\sqrt{α_s}‖ξ_μ‖²}, 0, 1\Big),
          \qquad D = η_φ\,α_c\,dt\; z\,(ŷ − \bar y)ᵀ,

          ΔΦ = (φ_{max} − Φ)\,[D]^+ + Φ\,[D]^- ,

      (``pre_code="linear"`` drops the softmax factor of z: the energy gradient's own presynaptic factor,
      an ablation);
    * the lagging hidden trace :math:`\bar y ← \bar y + (dt/τ_y)(ŷ − \bar y)`.

    Parameters: ``eta_xi`` η_ξ, ``eta_phi`` η_φ (rates per unit time), ``theta`` θ (cosine needed to
    reuse a committed unit, in [−1, 1]), ``tau_y`` τ_y (lag of the hidden trace), ``beta_z`` β_z
    (inverse temperature of the delayed code), ``phi_max`` φ_max (soft upper bound), ``pre_code``
    (``"sharp"`` or ``"linear"``). Rates, τ_y, β_z and φ_max must be positive and finite (ValueError).
    The rule is pure: it returns ``(ΔΞ, ΔΦ, new_state)`` and the :class:`~networks.gsemm.learner.Learner`
    applies them. The module docstring explains the choices.

    >>> import torch
    >>> from networks.gsemm import dsem
    >>> D = torch.float64
    >>> x = torch.tensor([[1., -1., 1., 1., -1., 1., -1., -1.]], dtype=D)       # one stream, N = 8
    >>> net = dsem(torch.zeros(8, 3, dtype=D), torch.zeros(3, 3, dtype=D), alpha_s=4.0)
    >>> rule = RecruitingRule(theta=0.6)
    >>> st = rule.init_state(net, 1)
    >>> dxi, dphi, st = rule.update(net, x, None, State(x, torch.zeros(1, 8, dtype=D), None), st, 0.05)
    >>> st.committed.tolist(), torch.equal(dxi[:, 0], x[0] / 2)   # unit 0 recruited, ξ_0 = x/√α_s
    ([[True, False, False]], True)
    >>> float(dphi.abs().max())          # s = 0: no delayed memory, so no transition is learned yet
    0.0
    """

    eta_xi: float = 2.0
    eta_phi: float = 2.0
    theta: float = 0.5
    tau_y: float = 0.1
    beta_z: float = 1.0
    phi_max: float = 1.0
    pre_code: str = "sharp"

    name = "recruiting"
    input_mode = "clamp"

    def __post_init__(self):
        for k in ("eta_xi", "eta_phi", "tau_y", "beta_z", "phi_max"):
            positive(k, getattr(self, k))
        known("pre_code", (self.pre_code,), PRE_CODES)
        if not -1.0 <= float(self.theta) <= 1.0:
            raise ValueError(f"theta must be a cosine in [-1, 1], got {self.theta}")

    def config(self) -> dict:
        return {"name": self.name, **asdict(self)}

    def init_state(self, model: GSEMM, batch: int) -> RecruitState:
        z = model.xi.new_zeros(batch, model.P)
        return RecruitState(torch.zeros(batch, model.P, dtype=torch.bool, device=z.device), z)

    def reset_transient(self, state: RecruitState) -> RecruitState:
        """Between presentations: forget the lagging hidden trace, keep the recruited units."""
        return RecruitState(state.committed, torch.zeros_like(state.ybar))

    def target(self, model: GSEMM, x: Tensor, committed: Tensor, ov: Tensor | None = None,
               norms: Tensor | None = None) -> Tensor:
        """One-hot target code ŷ (B, P): best committed unit if its cosine ≥ θ, else the first free unit.
        ``ov`` = Ξᵀx and ``norms`` = ‖ξ_μ‖ may be passed when already computed."""
        ov = xi_t(model.xi, x) if ov is None else ov
        norms = model.xi.norm(dim=-2) if norms is None else norms
        cos = ov / (norms * x.norm(dim=-1, keepdim=True) + 1e-12)
        best, arg = torch.where(committed, cos, torch.full_like(cos, -3.0)).max(-1)
        free = ~committed
        first_free = free.to(torch.int64).argmax(-1)
        use_old = (best >= self.theta) | ~free.any(-1)
        win = torch.where(use_old, torch.where(committed.any(-1), arg, cos.argmax(-1)), first_free)
        return torch.nn.functional.one_hot(win, model.P).to(x.dtype)

    def _phi_rule(self, model):
        inner = Contrastive(rule=GSEMMPhi(alpha_c=_flat(model.alpha_c), eta=self.eta_phi, check_finite=False),
                            check_finite=False)
        return Multiplicative(rule=inner, w_min=0.0, w_max=self.phi_max, check_finite=False)

    def update(self, model: GSEMM, x: Tensor, old: State | None, new: State, state: RecruitState, dt: float):
        """One step with v clamped to ``x`` (B, N); ``new`` is the State after the step (its delayed population
        ``new.s`` is used). Returns ``(dxi, dphi, new_state)``."""
        s = new.s
        sa = model.sqrt_alpha_s
        ov = xi_t(model.xi, x)
        sq = model.xi.square().sum(-2)                                          # ‖ξ_μ‖²
        yh = self.target(model, x, state.committed, ov, sq.sqrt())
        sigma = model.hidden.act(sa * ov)
        vhat = sa * xi_m(model.xi, sigma)
        # Ξ: [-∂E_static/∂Ξ]_(x, ŷ) − [-∂E_static/∂Ξ]_(v̂, σ)
        a_s = _flat(model.alpha_s)
        dxi = (self.eta_xi * dt) * (gsemm_xi_grad(model.xi, x, yh, alpha_s=a_s)
                                    - gsemm_xi_grad(model.xi, vhat, sigma, alpha_s=a_s))
        # a newly recruited unit is imprinted at once (the η_ξ → ∞ limit of the same rule for that unit,
        # whose fixed point is x/√α_s): recruitment then does not depend on dt
        fresh = (yh.bool() & ~state.committed).unsqueeze(-2)                    # (B, 1, P)
        if bool(fresh.any()):                                                      # rare: skip on most steps
            x_col = (x / sa).unsqueeze(-1)                                      # (B, N, 1)
            xi_b = model.xi if model.xi.dim() == 3 else model.xi.expand(x.shape[0], *model.xi.shape)
            imprint = torch.where(fresh, x_col - xi_b, torch.zeros_like(xi_b))
            if model.xi.dim() == 3:
                dxi = torch.where(fresh, imprint, dxi)
            else:  # shared Ξ: streams' imprints averaged, as the rule's reduce="mean"
                dxi = torch.where(fresh.any(0), imprint.mean(0), dxi)
        ovs = xi_t(model.xi, s)
        full = (model.beta_d * sa) * sq                                         # ξ_μ·s when s holds memory μ
        presence = (ovs / (full + 1e-12)).clamp(0.0, 1.0)
        z = presence if self.pre_code == "linear" else torch.softmax(self.beta_z * ovs, -1) * presence
        rule = self._phi_rule(model)
        dphi, _ = rule.delta(model.phi, z, state.ybar, rule.init_state(model.phi, x.shape[0]), dt, target_post=yh)
        ybar = state.ybar + (dt / self.tau_y) * (yh - state.ybar)
        return dxi, dphi, RecruitState(state.committed | yh.bool(), ybar)


class AuthorsState(NamedTuple):
    """The authors' rule keeps no traces (an empty marker tensor keeps checkpoints uniform)."""

    steps: Tensor


@dataclass(frozen=True)
class AuthorsRule:
    r"""The GSEMM authors' contrastive rule, faithful. ``T_lxi``, ``T_lphi``: learning
    time constants; ``c_xi``: Hebbian factor (None = their 1 + √α_s). Input mode: ``current`` (the
    pattern added raw to dv/dt, gain 1).

    With the presented pattern x, the state before the step (v₀, s₀) and after it (v, s):

    .. math::

        ŷ = σ_h(\sqrt{α_s}Ξᵀx),\qquad σ = σ_h(\sqrt{α_s}Ξᵀv₀ + α_cΦᵀΞᵀs₀),

        ΔΞ = \frac{dt}{T_{lξ}}\big(c_ξ\,xŷᵀ − \sqrt{α_s}\,vσᵀ + α_c\,s\,(Φ(ŷ − σ))ᵀ\big),\qquad
        ΔΦ = \frac{dt}{T_{lφ}}\,α_c\,\big((Ξ + ΔΞ)ᵀs\big)(ŷ − σ)ᵀ .

    ``T_lxi`` and ``T_lphi`` must be positive and finite (ValueError). Pure: returns
    ``(ΔΞ, ΔΦ, new_state)``; the state only counts steps.

    >>> import torch
    >>> from networks.gsemm import dsem
    >>> D = torch.float64
    >>> net = dsem(torch.zeros(8, 2, dtype=D), torch.zeros(2, 2, dtype=D), T_f=0.008, T_d=0.4)
    >>> rest = net.init_state(torch.zeros(8, dtype=D))
    >>> rule = AuthorsRule()
    >>> dxi, dphi, st = rule.update(net, torch.ones(1, 8, dtype=D), rest, rest, rule.init_state(net, 1), 1e-3)
    >>> dxi[0].tolist(), float(dphi.abs().max()), st.steps.tolist()   # ŷ = σ = (½, ½), c_ξ = 2
    ([0.001, 0.001], 0.0, [1])
    """

    T_lxi: float = 1.0
    T_lphi: float = 15.0
    c_xi: float | None = None

    name = "authors"
    input_mode = "current"

    def __post_init__(self):
        positive("T_lxi", self.T_lxi)
        positive("T_lphi", self.T_lphi)

    def config(self) -> dict:
        return {"name": self.name, **asdict(self)}

    def init_state(self, model: GSEMM, batch: int) -> AuthorsState:
        return AuthorsState(torch.zeros(batch, dtype=torch.int64, device=model.xi.device))

    def update(self, model: GSEMM, x: Tensor, old: State, new: State, state: AuthorsState, dt: float):
        sa = model.sqrt_alpha_s
        yh = model.hidden.act(sa * xi_t(model.xi, x))
        sigma = model.hidden.act(model.hidden_input(old.v, old.s))
        c = (1.0 + sa) if self.c_xi is None else self.c_xi
        a_s, a_c = _flat(model.alpha_s), _flat(model.alpha_c)
        c = _flat(c) if isinstance(c, Tensor) else c
        gxi, _ = authors_rule(model.xi, model.phi, x, new.v, new.s, yh, sigma, alpha_s=a_s, alpha_c=a_c, c_xi=c)
        dxi = (dt / self.T_lxi) * gxi
        # Φ with the updated Ξ (their order); = authors_rule(..., xi_phi=Ξ + ΔΞ)[1] without recomputing ΔΞ
        gphi = gsemm_phi_grad(model.phi, model.xi + dxi, new.s, yh - sigma, alpha_c=a_c)
        return dxi, (dt / self.T_lphi) * gphi, AuthorsState(state.steps + 1)


#: the rule classes by ``name``: :meth:`Learner.load` rebuilds a checkpoint's rule from here (see :func:`register_rule`)
RULES = {"recruiting": RecruitingRule, "authors": AuthorsRule}

#: what :class:`~networks.gsemm.learner.Learner` calls on a rule (``reset_transient(state)`` is optional)
#: the presynaptic codes of :class:`RecruitingRule`'s Φ rule (``pre_code``)
PRE_CODES = ("sharp", "linear")
RULE_PROTOCOL = ("name", "input_mode", "init_state", "update", "config")


def check_rule(rule) -> None:
    """Raise ``ValueError`` unless ``rule`` (a class or an instance) implements the network-rule protocol.

    The protocol (see ``docs/custom_rule.md``, *Using a rule inside a GSEMM network*):

    * ``name`` (str) and ``input_mode`` (``"clamp"``: v is set to the pattern; ``"current"``: the pattern is
      added to dv/dt);
    * ``init_state(model, batch) -> NamedTuple`` of tensors (the rule's traces);
    * ``update(model, x, old, new, state, dt) -> (dΞ, dΦ, new_state)``: ``x`` (B, N) the presented pattern,
      ``old`` and ``new`` the :class:`~networks.gsemm.State` before and after the step, in both input modes
      (with ``clamp``, ``new.v`` is ``x``). Pure: it returns Δ and never writes into the weights;
    * ``config() -> dict`` with ``"name"`` and the constructor's keyword arguments (for checkpoints).

    >>> check_rule(RecruitingRule())
    >>> check_rule(object())          # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: rule object lacks name, input_mode, init_state, update, config
    (see networks.gsemm.learning.RULE_PROTOCOL)
    """
    missing = [a for a in RULE_PROTOCOL if not hasattr(rule, a)]
    if missing:
        raise ValueError(f"rule {type(rule).__name__} lacks {', '.join(missing)} "
                         f"(see networks.gsemm.learning.RULE_PROTOCOL)")
    if not isinstance(rule.name, str) or not rule.name:
        raise ValueError(f"rule.name must be a non-empty string, got {rule.name!r}")
    if rule.input_mode not in ("clamp", "current"):
        raise ValueError(f"rule.input_mode must be 'clamp' or 'current', got {rule.input_mode!r}")


def rule_from_settings(name: str, settings) -> object:
    """``RULES[name](**kw)`` with ``kw`` the entries of ``settings`` (a dict, or an object such as an experiment
    Config) named like the rule's constructor fields; other entries are ignored. One way to build any registered
    rule from settings, with no per-rule branches.

    >>> rule_from_settings("recruiting", {"theta": 0.7, "unrelated": 1}).theta
    0.7
    """
    import dataclasses
    if name not in RULES:
        raise ValueError(f"unknown rule {name!r}; registered: {sorted(RULES)}")
    cls = RULES[name]
    names = [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []
    get = settings.get if isinstance(settings, dict) else (lambda k, d=None: getattr(settings, k, d))
    missing = object()
    return cls(**{k: v for k in names if (v := get(k, missing)) is not missing})


def register_rule(cls):
    """Register a network rule class under ``cls.name`` so that :meth:`Learner.load` can rebuild it as
    ``cls(**config)`` (``config()`` without ``"name"``). Returns ``cls``, so it works as a decorator.
    Registering a different class under a taken name is an error; registering the same class again, or a
    re-definition of it (same module and qualified name, e.g. a re-run notebook cell), replaces the entry.

    >>> register_rule(RecruitingRule) is RecruitingRule
    True
    """
    check_rule(cls)
    other = RULES.get(cls.name)
    same = other is not None and (other.__module__, other.__qualname__) == (cls.__module__, cls.__qualname__)
    if other is not None and not same:
        raise ValueError(f"a different rule ({other.__name__}) is already registered as {cls.name!r}")
    RULES[cls.name] = cls
    return cls


def _flat(a):
    return a.reshape(-1) if isinstance(a, Tensor) else a


def free_recall(model: GSEMM, patterns: Tensor, *, steps: int, dt: float, record_every: int = 10,
                min_dwell: int = 5, method: str = "euler") -> tuple[list[list[int]], Tensor]:
    r"""Cue each stream with its first pattern (v = x₀, s = 0), run freely and decode the order.

    The visited item at a sample is :math:`\arg\max_k x_kᵀv` over the true patterns ``patterns``
    (B, N, L) (not the learned columns); runs shorter than ``min_dwell`` samples are merged. Returns the
    per-stream orders and the overlaps (T, B, L). A stream succeeds when its order is ``[0, 1, …, L−1]``.
    ``patterns`` are data and are cast to the network's dtype and device (a float32 stream for a float64
    network is upcast exactly); the simulation uses the ``dense`` backend with ``method``.

    >>> import torch
    >>> from networks.gsemm import dsem, chain, hadamard_patterns
    >>> X = hadamard_patterns(64, 4, dtype=torch.float64)
    >>> net = dsem(X, chain(4, dtype=torch.float64), alpha_c=2.0, T_f=0.05, T_d=1.0)
    >>> free_recall(net, X[None], steps=1500, dt=0.005)[0]
    [[0, 1, 2, 3]]
    """
    from .decoding import decode
    from .integrate import simulate

    if patterns.dim() != 3:
        raise ValueError(f"patterns must be (B, N, L), got {tuple(patterns.shape)}")
    patterns = patterns.to(dtype=model.xi.dtype, device=model.xi.device)
    state = model.init_state(patterns[:, :, 0])
    _, traj = simulate(model, state, steps=steps, dt=dt, method=method, record=("v",), record_every=record_every,
                       backend="dense")
    N = patterns.shape[1]
    ov = torch.einsum("tbn,bnl->tbl", traj.v, patterns) / N
    orders = [decode(ov[:, b], dt * record_every, min_dwell=min_dwell).order for b in range(ov.shape[1])]
    return orders, ov
