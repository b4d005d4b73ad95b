"""``replay``: store P patterns in a GSEMM, cue one, simulate and decode the replayed sequence.

Defaults reproduce the authors' DSEM notebook run (N = 100, P = 7, Φ: 0→1→2→0 and 3→4→5→6→3,
α_s = 1, α_c = 4.9, β = 1, β_d = 1, T_f = 1, T_d = 20, split RK4 at dt = 0.01, 58,333 steps, cue ξ⁽⁴⁾
with its last 25 % zeroed); expected: order 4, 5, 6, 3, … with ≈ 48 transitions and dwell ≈ 12.1.
"""
from __future__ import annotations

from networks.gsemm import METHODS, MODELS, decode, masked_cue, order_follows_graph, simulate
from networks.gsemm.integrate import BACKENDS

from ..config import setting, with_defaults
from ..registry import Experiment
from .common import DTYPES, DecodeSettings, DSEMSettings, build_model, make_graph, make_patterns, plot_overlaps_energy


@with_defaults(alpha_c=4.9)
class Config(DecodeSettings, DSEMSettings):
    model: str = setting("dsem", "network", choices=tuple(MODELS))
    N: int = setting(100, "feature neurons (ignored for a .npy pattern file)", minimum=2)
    P: int = setting(7, "stored memories (ignored for a .npy pattern file)", minimum=2)
    patterns: str = setting("random", "random | hadamard | path/to/patterns.npy (one per row)")
    graph: str = setting("notebook", "Φ: cycle | chain | notebook | edge list like 0-1,1-2")
    gain: float = setting(1.0, "tanh gain γ (lisem)", positive=True)
    degree: int = setting(3, "polynomial degree n (dense_polynomial)", minimum=1)
    dt: float = setting(0.01, "integration step", positive=True)
    steps: int = setting(58333, "integration steps", minimum=1)
    method: str = setting("split", "integrator", choices=METHODS)
    backend: str = setting("auto", "integration backend", choices=BACKENDS)
    cue: int = setting(4, "index of the cued memory", minimum=0)
    mask: float = setting(0.25, "fraction of the cue's entries zeroed (the last ones)", minimum=0.0)
    dtype: str = setting("float64", "float32 or float64", choices=tuple(DTYPES))


def run(cfg: Config, ctx) -> dict:
    dtype = DTYPES[cfg.dtype]
    xi = make_patterns(cfg.patterns, cfg.N, cfg.P, generator=ctx.generator(), dtype=dtype, device=ctx.device)
    N, P = xi.shape
    if not 0 <= cfg.cue < P:
        raise ValueError(f"cue={cfg.cue} is out of range for P={P} memories")
    phi = make_graph(cfg.graph, P, dtype=dtype, device=ctx.device)
    net = build_model(cfg, xi, phi)
    cue = masked_cue(net.xi[:, cfg.cue], cfg.mask)
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


EXPERIMENT = Experiment(Config, run,
                        "store patterns, cue one, replay the sequence written in Φ (the authors' DSEM notebook run)",
                        quick=("steps=6000",))
