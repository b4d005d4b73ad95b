"""Local learning rules as pure tensor maths (no network code).

A rule returns Δw and never mutates (see :mod:`plasticity.rule` for the protocol)::

    state = rule.init_state(weight, batch)
    dw, state = rule.delta(weight, pre, post, state, dt, **signals)
    weight = apply(weight, dw, bounds)         # or: to_grad(param, dw); optimizer.step()
"""

from .apply import apply, to_grad
from .bcm import BCM, BCMState
from .hebb import Hebb
from .oja import Oja
from .rule import EmptyState, Rule, Sum, SumState
from .stdp import PairSTDP, PairSTDPState
from .three_factor import Modulated, ModulatedState
from .triplet import TripletSTDP, TripletSTDPState
from .weight_dependence import Additive, Multiplicative
from . import energy as _energy
from .energy import (Contrastive, ContrastiveState, EnergyGradient, GSEMMPhi, GSEMMXi, authors_rule,
                     contrastive_grad, energy_grad, gsemm_phi_grad, gsemm_xi_grad)

__all__ = [
    "Rule",
    "Sum",
    "SumState",
    "EmptyState",
    "apply",
    "to_grad",
    "Hebb",
    "Oja",
    "BCM",
    "BCMState",
    "PairSTDP",
    "PairSTDPState",
    "TripletSTDP",
    "TripletSTDPState",
    "Additive",
    "Multiplicative",
    "Modulated",
    "ModulatedState",
    *_energy.__all__,
]
