r"""Learning rules derived from an energy: :math:`\Delta W \propto -\partial E/\partial W` and its contrastive form.

Three layers, all pure tensor maths (nothing here imports a network):

* :func:`energy_grad` — the local update :math:`-\partial E/\partial W` of *any* energy
  ``E(weight, *activities) -> (B,)``, by ``torch.func.grad``; :func:`contrastive_grad` — the
  contrastive form :math:`[-\partial E/\partial W]_{target} - [-\partial E/\partial W]_{free}`.
* Rule objects in the protocol of :mod:`plasticity.rule` (``delta`` returns Δ, rates scale with ``dt``):
  :class:`EnergyGradient` (any energy, autograd) and :class:`Contrastive` (wraps any rule: the rule
  evaluated at the target activities minus the rule at the free activities).
* Closed forms for the GSEMM synapses, written from the interaction part of the GSEMM energy

  .. math::
      E = \dots - \sqrt{α_s}\,σ_fᵀΞσ_h - α_c\,sᵀΞΦσ_h ,

  :func:`gsemm_xi_grad` :math:`-\partial E/\partial Ξ = \sqrt{α_s}\,σ_fσ_hᵀ + α_c\,s\,(Φσ_h)ᵀ` and
  :func:`gsemm_phi_grad` :math:`-\partial E/\partial Φ = α_c\,(Ξᵀs)\,σ_hᵀ`, their rule objects
  :class:`GSEMMXi` / :class:`GSEMMPhi`, and :func:`authors_rule`, the contrastive rule of the GSEMM
  authors' code. Every closed form is tested equal to the autograd gradient of the energy
  (``tests/plasticity/test_energy_rules.py``).

Batch axis first: activities are ``(B, n)``; a weight is shared ``(n_out, n_in)`` (the per-stream
gradients are averaged, ``reduce="mean"``, or summed) or per stream ``(B, n_out, n_in)``.

Example
-------
>>> import torch
>>> from plasticity.energy import energy_grad
>>> E = lambda W, x, y: -(y * (x @ W.T)).sum(-1)          # E = -yᵀWx, so -∂E/∂W = y xᵀ (Hebb)
>>> energy_grad(E, torch.zeros(2, 3), torch.tensor([[1., 0., 2.]]), torch.tensor([[1., -1.]]))
tensor([[ 1.,  0.,  2.],
        [-1., -0., -2.]])
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import torch
from torch import Tensor

from .checks import finite_number
from .rule import Rule, check_inputs, matvec, matvec_t, reduce_streams, resolve_batch

__all__ = [
    "energy_grad",
    "contrastive_grad",
    "EnergyGradient",
    "Contrastive",
    "ContrastiveState",
    "gsemm_xi_grad",
    "gsemm_phi_grad",
    "GSEMMXi",
    "GSEMMPhi",
    "authors_rule",
]


# ----------------------------------------------------------------------------------------- generic
def energy_grad(energy: Callable[..., Tensor], weight: Tensor, *activities: Tensor, reduce: str = "mean",
                **kwargs: Any) -> Tensor:
    r"""The local update :math:`-\partial E/\partial W` of an energy, by ``torch.func.grad``.

    ``energy(weight, *activities, **kwargs)`` returns the per-stream energy, shape ``(B,)``. For a
    per-stream weight ``(B, ...)`` stream b's energy depends only on its own weight, so the gradient of
    :math:`\sum_b E_b` is the per-stream gradient. For a shared weight the gradient of the sum is divided
    by B when ``reduce="mean"`` (the convention of :mod:`plasticity.rule`).

    >>> import torch
    >>> E = lambda W, x: 0.5 * ((x @ W.T) ** 2).sum(-1)   # -∂E/∂W = -(Wx) xᵀ
    >>> energy_grad(E, torch.eye(1), torch.tensor([[2.]]))
    tensor([[-4.]])
    """
    if reduce not in ("mean", "sum"):
        raise ValueError(f"reduce must be 'mean' or 'sum'; got {reduce!r}")
    if not isinstance(weight, Tensor) or not weight.is_floating_point():
        raise ValueError("weight must be a floating-point tensor")

    def total(w):
        e = energy(w, *activities, **kwargs)
        if not isinstance(e, Tensor) or e.dim() != 1:
            raise ValueError(f"energy must return a (B,) tensor; got {getattr(e, 'shape', type(e))}")
        return e.sum(), torch.tensor(e.shape[0])

    g, batch = torch.func.grad(total, has_aux=True)(weight)
    g = -g
    if reduce == "mean" and weight.dim() == 2:
        g = g / int(batch)
    return g


def contrastive_grad(energy: Callable[..., Tensor], weight: Tensor, free: tuple, target: tuple, *,
                     reduce: str = "mean", **kwargs: Any) -> Tensor:
    r"""The contrastive update :math:`[-\partial E/\partial W]_{target} - [-\partial E/\partial W]_{free}`.

    ``free`` and ``target`` are tuples of activities passed to ``energy`` after the weight. The update
    vanishes when the free state already equals the target (contrastive Hebbian learning, Movellan 1991;
    the rule of the GSEMM authors' code).

    >>> import torch
    >>> E = lambda W, x, y: -(y * (x @ W.T)).sum(-1)
    >>> x = torch.ones(1, 2)
    >>> contrastive_grad(E, torch.zeros(1, 2), free=(x, torch.ones(1, 1)), target=(x, torch.ones(1, 1)))
    tensor([[0., 0.]])
    """
    return (energy_grad(energy, weight, *target, reduce=reduce, **kwargs)
            - energy_grad(energy, weight, *free, reduce=reduce, **kwargs))


@dataclass(frozen=True, kw_only=True)
class EnergyGradient(Rule):
    r"""Gradient descent of an energy on a synapse: :math:`dW/dt = -η\,\partial E/\partial W`, so
    :math:`\Delta W = η\,dt\,(-\partial E/\partial W)` (explicit Euler).

    ``energy(weight, pre, post, **signals) -> (B,)``; only the keyword signals listed in
    ``signal_names`` are forwarded to it (so that composed rules can share one signal bus). Locality is a
    property of the energy: for an interaction term :math:`-yᵀWx` the update is Hebbian.

    >>> import torch
    >>> rule = EnergyGradient(energy=lambda W, x, y: -(y * (x @ W.T)).sum(-1), eta=2.0)
    >>> w = torch.zeros(1, 2)
    >>> dw, _ = rule.delta(w, torch.tensor([[1., 2.]]), torch.ones(1, 1), rule.init_state(w), dt=0.5)
    >>> dw
    tensor([[1., 2.]])
    """

    energy: Callable[..., Tensor]
    eta: float = 1.0
    signal_names: tuple = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        if not callable(self.energy):
            raise ValueError("energy must be a callable energy(weight, pre, post, **signals) -> (B,)")
        finite_number("eta", self.eta)
        object.__setattr__(self, "signals", tuple(self.signal_names))

    def delta(self, weight: Tensor, pre: Tensor, post: Tensor, state, dt: float, **signals):
        dt = check_inputs(weight, pre, post, dt, check_finite=self.check_finite)
        missing = [n for n in self.signal_names if n not in signals]
        if missing:
            raise ValueError(f"signals {missing} are required by this energy; pass them as keywords")
        kw = {n: signals[n] for n in self.signal_names}
        g = energy_grad(self.energy, weight, pre, post, reduce=self.reduce, **kw)
        return (self.eta * dt) * g, state


class ContrastiveState(NamedTuple):
    """State of :class:`Contrastive`: the inner rule's state in the free and the target phase.

    >>> import torch
    >>> from plasticity import BCM
    >>> s = Contrastive(rule=BCM(eta=0.1)).init_state(torch.zeros(2, 3))
    >>> type(s.free).__name__, type(s.target).__name__          # two independent BCM thresholds
    ('BCMState', 'BCMState')
    """

    free: Any
    target: Any


@dataclass(frozen=True, kw_only=True)
class Contrastive(Rule):
    r"""The contrastive form of any rule: :math:`\Delta W = \Delta W_{rule}(target) - \Delta W_{rule}(free)`.

    The free activities are ``pre``/``post``; the target activities come as the keyword signals
    ``target_pre`` / ``target_post`` (either may be omitted: it then equals the free one). Any other
    signal is passed to both phases. With an energy-gradient inner rule this is
    :math:`η\,dt\,([-\partial E/\partial W]_{target} - [-\partial E/\partial W]_{free})`.

    >>> import torch
    >>> from plasticity import Hebb
    >>> rule = Contrastive(rule=Hebb(eta=1.0))
    >>> w = torch.zeros(1, 1); x = torch.ones(1, 1)
    >>> dw, _ = rule.delta(w, x, 0.25 * x, rule.init_state(w), dt=1.0, target_post=x)
    >>> dw                                                 # (1 - 0.25) * 1
    tensor([[0.7500]])
    """

    rule: Any

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (callable(getattr(self.rule, "delta", None)) and callable(getattr(self.rule, "init_state", None))):
            raise ValueError("rule must implement the rule protocol (init_state, delta)")
        object.__setattr__(self, "signals", tuple(getattr(self.rule, "signals", ())) + ("target_pre", "target_post"))

    def init_state(self, weight: Tensor, batch: int | None = None) -> ContrastiveState:
        resolve_batch(weight, batch)
        return ContrastiveState(self.rule.init_state(weight, batch), self.rule.init_state(weight, batch))

    def delta(self, weight: Tensor, pre: Tensor, post: Tensor, state, dt: float, **signals):
        if not isinstance(state, ContrastiveState):
            raise ValueError("state must be a ContrastiveState (from Contrastive.init_state)")
        t_pre = signals.pop("target_pre", None)
        t_post = signals.pop("target_post", None)
        t_pre = pre if t_pre is None else t_pre
        t_post = post if t_post is None else t_post
        dw_t, st_t = self.rule.delta(weight, t_pre, t_post, state.target, dt, **signals)
        dw_f, st_f = self.rule.delta(weight, pre, post, state.free, dt, **signals)
        return dw_t - dw_f, ContrastiveState(st_f, st_t)


# ----------------------------------------------------------------------------------- GSEMM closed forms
def _coef(a, like: Tensor):
    """A float or a per-stream (B,) tensor, shaped to broadcast against a (B, ...) tensor."""
    if isinstance(a, Tensor):
        a = a.reshape(-1)
        return a.reshape(-1, *([1] * (like.dim() - 1))).to(like)
    return float(a)


def _sqrt(a):
    return a.sqrt() if isinstance(a, Tensor) else math.sqrt(float(a))


def _check_gsemm(fn: str, xi: Tensor, phi: Tensor | None = None, **vectors: Tensor | None) -> None:
    """Shapes of the GSEMM closed forms: Ξ (N, P) or (B, N, P); Φ (P, P) or (B, P, P); feature vectors
    (``sigma_f``, ``s``) (B, N) and hidden vectors (``sigma_h``) (B, P), with one B throughout."""
    if not isinstance(xi, Tensor) or xi.dim() not in (2, 3):
        raise ValueError(f"{fn}: xi must be an (N, P) or (B, N, P) tensor, got {getattr(xi, 'shape', type(xi))}")
    N, P = xi.shape[-2:]
    B = xi.shape[0] if xi.dim() == 3 else None
    if phi is not None and (phi.dim() != xi.dim() or tuple(phi.shape[-2:]) != (P, P)
                            or (B is not None and phi.shape[0] != B)):
        want = f"({B}, {P}, {P})" if B is not None else f"({P}, {P})"
        raise ValueError(f"{fn}: phi must be {want} to match xi {tuple(xi.shape)}, got {tuple(phi.shape)}")
    for name, t in vectors.items():
        if t is None:
            continue
        n = P if name == "sigma_h" else N
        if t.dim() != 2 or t.shape[-1] != n or (B is not None and t.shape[0] != B):
            lead = B if B is not None else "B"
            raise ValueError(f"{fn}: {name} must be ({lead}, {n}) to match xi {tuple(xi.shape)}, got {tuple(t.shape)}")
        B = t.shape[0] if B is None else B


def gsemm_xi_grad(xi: Tensor, sigma_f: Tensor, sigma_h: Tensor, *, s: Tensor | None = None,
                  phi: Tensor | None = None, alpha_s=1.0, alpha_c=1.0, reduce: str = "mean") -> Tensor:
    r""":math:`-\partial E/\partial Ξ = \sqrt{α_s}\,σ_f σ_hᵀ + α_c\,s\,(Φσ_h)ᵀ` (Hebbian, feature × hidden).

    ``xi`` (N, P) shared or (B, N, P) per stream; ``sigma_f``, ``s`` (B, N); ``sigma_h`` (B, P);
    ``phi`` (P, P) or (B, P, P). Omit ``s``/``phi`` for the static part only (α_c term dropped).
    ``alpha_s``/``alpha_c``: floats or per-stream (B,) tensors. Result in the layout of ``xi``.

    >>> import torch
    >>> gsemm_xi_grad(torch.zeros(2, 1), torch.tensor([[1., -1.]]), torch.ones(1, 1), alpha_s=4.0)
    tensor([[ 2.],
            [-2.]])
    """
    _check_gsemm("gsemm_xi_grad", xi, phi, sigma_f=sigma_f, s=s, sigma_h=sigma_h)
    a_s = _coef(_sqrt(alpha_s), sigma_f)
    g = (a_s * sigma_f).unsqueeze(-1) * sigma_h.unsqueeze(-2)
    if s is not None:
        if phi is None:
            raise ValueError("phi is required with s (the cross term α_c s (Φσ_h)ᵀ)")
        g = g + (_coef(alpha_c, s) * s).unsqueeze(-1) * matvec(phi, sigma_h).unsqueeze(-2)
    return reduce_streams(g, xi, reduce)


def gsemm_phi_grad(phi: Tensor, xi: Tensor, s: Tensor, sigma_h: Tensor, *, alpha_c=1.0,
                   reduce: str = "mean") -> Tensor:
    r""":math:`-\partial E/\partial Φ = α_c\,(Ξᵀs)\,σ_hᵀ`: delayed memory overlap (pre, row μ) × current
    hidden activity (post, column ν) — causal, STDP-like (Φ_{μν} codes μ → ν).

    >>> import torch
    >>> xi = torch.eye(2); s = torch.tensor([[1., 0.]]); p = torch.tensor([[0., 1.]])
    >>> gsemm_phi_grad(torch.zeros(2, 2), xi, s, p)
    tensor([[0., 1.],
            [0., 0.]])
    """
    _check_gsemm("gsemm_phi_grad", xi, phi, s=s, sigma_h=sigma_h)
    pre = _coef(alpha_c, s) * matvec_t(xi, s)
    return reduce_streams(pre.unsqueeze(-1) * sigma_h.unsqueeze(-2), phi, reduce)


def _check_coef(name, a):
    if isinstance(a, Tensor):
        if a.dim() > 1 or not bool(torch.isfinite(a).all()):
            raise ValueError(f"{name} must be a finite float or a (B,) tensor")
        return
    finite_number(name, a)


@dataclass(frozen=True, kw_only=True)
class GSEMMXi(Rule):
    r"""Energy-gradient rule of the memory synapses Ξ (N × P), :math:`ΔΞ = η\,dt\,(-\partial E/\partial Ξ)`:

    .. math::  \frac{dΞ}{dt} = η\,\big(\sqrt{α_s}\,σ_f σ_hᵀ + α_c\,s\,(Φσ_h)ᵀ\big)

    Protocol mapping: ``weight`` = Ξ (rows = features = post, columns = hidden = pre), ``pre`` =
    :math:`σ_h` (B, P), ``post`` = :math:`σ_f` (B, N); signals ``s`` (B, N) and ``phi`` enable the delayed
    cross term (``cross=True``, the default when given). Wrap in :class:`Contrastive` for the authors'
    target-minus-free form.

    >>> import torch
    >>> rule = GSEMMXi(alpha_s=1.0, eta=1.0)
    >>> xi = torch.zeros(2, 1)
    >>> dw, _ = rule.delta(xi, torch.ones(1, 1), torch.tensor([[1., -1.]]), rule.init_state(xi), dt=0.1)
    >>> dw.squeeze(-1)
    tensor([ 0.1000, -0.1000])
    """

    alpha_s: Any = 1.0
    alpha_c: Any = 1.0
    eta: float = 1.0
    cross: bool = True

    signals = ("s", "phi")

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_coef("alpha_s", self.alpha_s)
        _check_coef("alpha_c", self.alpha_c)
        finite_number("eta", self.eta)

    def delta(self, weight: Tensor, pre: Tensor, post: Tensor, state, dt: float, **signals):
        dt = check_inputs(weight, pre, post, dt, check_finite=self.check_finite)
        s, phi = signals.get("s"), signals.get("phi")
        use_cross = self.cross and s is not None and phi is not None
        g = gsemm_xi_grad(weight, post, pre, s=s if use_cross else None, phi=phi if use_cross else None,
                          alpha_s=self.alpha_s, alpha_c=self.alpha_c, reduce=self.reduce)
        return (self.eta * dt) * g, state


@dataclass(frozen=True, kw_only=True)
class GSEMMPhi(Rule):
    r"""Energy-gradient rule of the transition synapses Φ (P × P), :math:`ΔΦ = η\,dt\,(-\partial E/\partial Φ)`:

    .. math::  \frac{dΦ_{μν}}{dt} = η\,α_c\,(ξ^{(μ)}·s)\;σ_h(h)_ν

    Protocol mapping: ``weight`` = Φ in the energy's orientation (row μ = presynaptic memory, column
    ν = postsynaptic hidden unit; Φ_{μν} = 1 codes μ → ν), ``pre`` = the delayed memory signal
    :math:`Ξᵀs` (B, P) (what arrives at the hidden layer through the delay), ``post`` = :math:`σ_h` (B, P);
    so ``dw[μ, ν] = η dt α_c pre_μ post_ν``. **This is the transpose of the (n_post, n_pre) layout of the
    other rules** (Φ is square, so no shape check can catch a mix-up): to combine ``GSEMMPhi`` with another
    rule acting on Φ, give that rule ``Φᵀ`` and transpose its Δ (``docs/custom_rule.md`` does this).

    >>> import torch
    >>> rule = GSEMMPhi(alpha_c=2.0, eta=1.0)
    >>> phi = torch.zeros(2, 2)
    >>> dw, _ = rule.delta(phi, torch.tensor([[1., 0.]]), torch.tensor([[0., 1.]]), rule.init_state(phi), dt=0.5)
    >>> dw
    tensor([[0., 1.],
            [0., 0.]])
    """

    alpha_c: Any = 1.0
    eta: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_coef("alpha_c", self.alpha_c)
        finite_number("eta", self.eta)

    def delta(self, weight: Tensor, pre: Tensor, post: Tensor, state, dt: float, **signals):
        dt = check_inputs(weight, pre, post, dt, check_finite=self.check_finite)
        g = (_coef(self.alpha_c, pre) * pre).unsqueeze(-1) * post.unsqueeze(-2)
        return (self.eta * dt) * reduce_streams(g, weight, self.reduce), state


def authors_rule(xi: Tensor, phi: Tensor, x: Tensor, v: Tensor, s: Tensor, target_h: Tensor, free_h: Tensor, *,
                 alpha_s=1.0, alpha_c=1.0, c_xi=None, xi_phi: Tensor | None = None,
                 reduce: str = "mean") -> tuple[Tensor, Tensor]:
    r"""Rates (dΞ/dt · T_lξ, dΦ/dt · T_lφ) of the contrastive rule in the GSEMM authors' released code
    (Karuvally et al., ICML 2023):

    .. math::
        T_{lξ}\,\dot Ξ &= c_ξ\,x\,ŷᵀ − \sqrt{α_s}\,v\,σᵀ + α_c\,s\,(Φ(ŷ − σ))ᵀ \\
        T_{lφ}\,\dot Φ &= α_c\,(Ξᵀs)(ŷ − σ)ᵀ

    with target code ``target_h`` ŷ (= softmax(√α_s Ξᵀx) in their code), free code ``free_h`` σ, presented
    pattern ``x``, free features ``v`` and delayed ``s``. With ``c_xi = √α_s`` (the default) this is
    exactly :math:`[-\partial E/\partial W]_{(x, ŷ)} − [-\partial E/\partial W]_{(v, σ)}`. Their code
    rescales the presented pattern before the Hebbian target term (x ← x + √α_s x), i.e.
    ``c_xi = 1 + √α_s`` on the target term only — which is what lets Ξ grow while the input current keeps
    v ≈ x + Ξσ (with c_ξ = √α_s the fixed point would need Ξσ = 0). The caller multiplies by ``dt / T_l``. Their
    code applies Ξ first and computes Φ's update with the new Ξ: pass it as ``xi_phi`` (default: ``xi``).

    >>> import torch
    >>> xi, phi = torch.zeros(3, 2), torch.zeros(2, 2)
    >>> x = torch.ones(1, 3); y = torch.tensor([[1., 0.]])
    >>> dxi, dphi = authors_rule(xi, phi, x, x, x, y, y)
    >>> float(dxi.abs().sum()), float(dphi.abs().sum())        # free state = target: no change
    (0.0, 0.0)
    """
    a_s = _coef(_sqrt(alpha_s), x)
    c = a_s if c_xi is None else _coef(c_xi, x)
    err = target_h - free_h
    g_xi = (c * x).unsqueeze(-1) * target_h.unsqueeze(-2) - (a_s * v).unsqueeze(-1) * free_h.unsqueeze(-2)
    g_xi = g_xi + (_coef(alpha_c, s) * s).unsqueeze(-1) * matvec(phi, err).unsqueeze(-2)
    g_phi = (_coef(alpha_c, s) * matvec_t(xi if xi_phi is None else xi_phi, s)).unsqueeze(-1) * err.unsqueeze(-2)
    return reduce_streams(g_xi, xi, reduce), reduce_streams(g_phi, phi, reduce)
