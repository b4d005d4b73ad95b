"""``replay``: store P patterns in a GSEMM, cue one, simulate and decode the replayed sequence.

Defaults reproduce the authors' DSEM notebook run (N = 100, P = 7, Φ: 0→1→2→0 and 3→4→5→6→3,
α_s = 1, α_c = 4.9, β = 1, β_d = 1, T_f = 1, T_d = 20, split RK4 at dt = 0.01, 58,333 steps, cue ξ⁽⁴⁾
with its last 25 % zeroed); expected: order 4, 5, 6, 3, … with ≈ 48 transitions and dwell ≈ 12.1.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from networks.gsemm import decode, make_model, masked_cue, order_follows_graph, simulate

from ..config import setting
from ..registry import Experiment
from .common import DTYPES, make_graph, make_patterns, plot_overlaps_energy


@dataclass(frozen=True)
class Config:
    model: str = setting("dsem", "network", choices=("dsem", "lisem", "dense_polynomial"))
    N: int = setting(100, "feature neurons (ignored for a .npy pattern file)", minimum=2)
    P: int = setting(7, "stored memories (ignored for a .npy pattern file)", minimum=2)
    patterns: str = setting("random", "random | hadamard | path/to/patterns.npy (one per row)")
    graph: str = setting("notebook", "Φ: cycle | chain | notebook | edge list like 0-1,1-2")
    alpha_s: float = setting(1.0, "self (symmetric) interaction strength α_s", minimum=0.0)
    alpha_c: float = setting(4.9, "cross (sequence) interaction strength α_c")
    beta: float = setting(1.0, "softmax inverse temperature β (dsem)", positive=True)
    beta_d: float = setting(1.0, "delay gain β_d")
    gain: float = setting(1.0, "tanh gain γ (lisem)", positive=True)
    degree: int = setting(3, "polynomial degree n (dense_polynomial)", minimum=1)
    T_f: float = setting(1.0, "feature time constant", positive=True)
    T_d: float = setting(20.0, "slow-population time constant", positive=True)
    dt: float = setting(0.01, "integration step", positive=True)
    steps: int = setting(58333, "integration steps", minimum=1)
    method: str = setting("split", "integrator", choices=("euler", "rk4", "split"))
    backend: str = setting("auto", "integration backend", choices=("auto", "dense", "subspace", "native"))
    cue: int = setting(4, "index of the cued memory", minimum=0)
    mask: float = setting(0.25, "fraction of the cue's entries zeroed (the last ones)", minimum=0.0)
    record_every: int = setting(10, "record every k steps", minimum=1)
    min_dwell: int = setting(5, "decoder: merge visits shorter than this many samples", minimum=1)
    dtype: str = setting("float64", "float32 or float64", choices=tuple(DTYPES))


def run(cfg: Config, ctx) -> dict:
    dtype = DTYPES[cfg.dtype]
    xi = make_patterns(cfg.patterns, cfg.N, cfg.P, generator=ctx.generator(), dtype=dtype, device=ctx.device)
    N, P = xi.shape
    if not 0 <= cfg.cue < P:
        raise ValueError(f"cue={cfg.cue} is out of range for P={P} memories")
    phi = make_graph(cfg.graph, P, dtype=dtype, device=ctx.device)
    kw = dict(alpha_s=cfg.alpha_s, alpha_c=cfg.alpha_c, beta_d=cfg.beta_d, T_f=cfg.T_f, T_d=cfg.T_d)
    if cfg.model == "dsem":
        kw["beta"] = cfg.beta
    elif cfg.model == "lisem":
        kw["gain"] = cfg.gain
        xi = xi / N ** 0.5  # unit-norm memories keep ΞΞᵀ a projector-like coupling
    else:
        kw["degree"] = cfg.degree
    net = make_model(cfg.model, xi, phi, **kw)
    cue = masked_cue(xi[:, cfg.cue], cfg.mask)
    state = net.init_state(cue)
    final, tr = simulate(net, state, steps=cfg.steps, dt=cfg.dt, method=cfg.method, backend=cfg.backend,
                         record_every=cfg.record_every, record=("overlaps", "energy"),
                         progress=ctx.progress_flag("replay"))
    sample_dt = cfg.dt * cfg.record_every
    d = decode(tr.overlaps[:, 0].cpu(), sample_dt, min_dwell=cfg.min_dwell)
    ok = order_follows_graph(d.order, phi.cpu())
    fig = plot_overlaps_energy(tr.t.numpy(), tr.overlaps[:, 0].double().cpu().numpy(),
                               tr.energy[:, 0].double().cpu().numpy(),
                               f"{cfg.model}: N={N}, P={P}, r={float(net.transition_ratio()):.3g}, "
                               f"{d.transitions} transitions")
    ctx.save_figure(fig, "overlaps_energy")
    return {
        "transitions": d.transitions,
        "mean_dwell": d.mean_dwell,
        "order_correct": ok,
        "decoded": d.order,
        "transition_ratio": float(net.transition_ratio()),
        "regime_indicator": float(net.regime()),
        "backend": tr.backend,
        "summary": f"{d.transitions} transitions, mean dwell {d.mean_dwell:.2f}, order follows Φ: {ok}; "
                   f"decoded {d.order[:8]}{'…' if len(d.order) > 8 else ''}",
    }


EXPERIMENT = Experiment("replay", Config, run,
                        "store patterns, cue one, replay the sequence written in Φ (the authors' DSEM notebook run)",
                        quick=("steps=6000",))
