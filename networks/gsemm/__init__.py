"""GSEMM energy networks: models, energy, integrators, Φ helpers, decoding and diagnostics.

>>> import torch
>>> from networks.gsemm import dsem, cycle, hadamard_patterns, simulate, decode
>>> xi = hadamard_patterns(64, 4, dtype=torch.float64)
>>> net = dsem(xi, cycle(4, dtype=torch.float64), alpha_s=0.5, alpha_c=1.0, beta=10.0, T_d=5.0)
>>> _, traj = simulate(net, net.init_state(xi[:, 0]), steps=6000, dt=0.01, record_every=10)
>>> decode(traj.overlaps[:, 0], 0.1).order[:5]
[0, 1, 2, 3, 0]
"""
from .decoding import (Decoded, argmax_labels, decode, decoded_order, dwell_times, memory_coords, memory_cosines,
                       order_follows_graph, smooth_labels, transitions)
from .diagnostics import energy_balance, escape_time, regime_indicator
from .integrate import METHODS, Trajectory, check_dt, simulate
from .lagrangians import Lagrangian, LogCosh, LogSumExp, Polynomial, Quadratic
from .model import GSEMM, MODELS, State, dense_polynomial, dsem, lisem, make_model
from .learner import Learner
from .learning import RULES, AuthorsRule, RecruitingRule, free_recall, register_rule, rule_from_settings
from .context import ContextGSEMM, ContextState, ContextTrajectory, contrastive_phi
from .streaming import StreamLearner, StreamOutput
from .patterns import (chain, cycle, cycles, from_edges, hadamard_patterns, load_patterns, masked_cue,
                       random_patterns)

__all__ = [
    # models and their energy
    "GSEMM", "MODELS", "State", "dense_polynomial", "dsem", "lisem", "make_model",
    "Lagrangian", "LogCosh", "LogSumExp", "Polynomial", "Quadratic",
    # integration
    "METHODS", "Trajectory", "check_dt", "simulate",
    # patterns and transition graphs
    "chain", "cycle", "cycles", "from_edges", "hadamard_patterns", "load_patterns", "masked_cue", "random_patterns",
    # decoding and diagnostics
    "Decoded", "argmax_labels", "decode", "decoded_order", "dwell_times", "memory_coords", "memory_cosines",
    "order_follows_graph", "smooth_labels", "transitions", "energy_balance", "escape_time", "regime_indicator",
    # online learning
    "Learner", "RULES", "AuthorsRule", "RecruitingRule", "free_recall", "register_rule", "rule_from_settings",
    # one-pass, high-order online learning (context GSEMM)
    "ContextGSEMM", "ContextState", "ContextTrajectory", "contrastive_phi", "StreamLearner", "StreamOutput",
]
