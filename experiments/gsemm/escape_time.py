"""``escape_time``: mean dwell against r and T_d, compared with the sharp-limit law
T_esc = −T_d ln(1 − √r) (EDEN), and a phase diagram.

Orthogonal (Hadamard) patterns in a cycle, sharp softmax (β = 10), α_s = β_d = 1 and α_c = 1/r so
that the library's transition ratio √α_s/(α_c β_d) equals r. Every r of one T_d runs as one batch.
Expected: |rel_err| ≤ 5 % for r < 1 and no transition for r > 1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from networks.gsemm import cycle, decode, escape_time, hadamard_patterns, order_follows_graph, simulate

from ..config import setting
from ..context import pyplot
from ..registry import Experiment
from .common import DTYPES, dsem_at_ratio


@dataclass(frozen=True)
class Config:
    r: list[float] = setting([0.3, 0.6, 0.8, 0.9, 0.95, 0.98, 1.02],
                             "transition ratios r = α_s/α_c at α_s = β_d = 1, i.e. transition_ratio() (comma list)")
    T_d: list[float] = setting([10.0, 20.0, 40.0], "slow time constants (comma list)")
    N: int = setting(128, "feature neurons (a power of two: Hadamard patterns)", minimum=4)
    P: int = setting(16, "memories in the cycle", minimum=3)
    beta: float = setting(10.0, "softmax inverse temperature (sharp regime needs β N |1 − r| ≫ 1)", positive=True)
    dt: float = setting(0.01, "Euler step", positive=True)
    visits: int = setting(6, "complete dwells to measure per point (after discarding the first two)", minimum=1)
    max_steps: int = setting(200000, "cap on steps per T_d", minimum=100)
    dtype: str = setting("float64", "float32 or float64", choices=tuple(DTYPES))


def run(cfg: Config, ctx) -> dict:
    dtype = DTYPES[cfg.dtype]
    xi = hadamard_patterns(cfg.N, cfg.P, dtype=dtype, device=ctx.device)
    phi = cycle(cfg.P, dtype=dtype, device=ctx.device)
    rs = torch.tensor(cfg.r, dtype=dtype, device=ctx.device)
    points = []
    for T_d in ctx.progress(cfg.T_d, desc="T_d"):
        finite = [escape_time(r, T_d) for r in cfg.r if r < 1]
        longest = max(finite) if finite else 10 * T_d
        steps = min(cfg.max_steps, int(math.ceil((cfg.visits + 3.5) * (longest + 2.0) / cfg.dt)))
        net = dsem_at_ratio(xi, phi, rs, beta=cfg.beta, T_d=T_d)
        _, tr = simulate(net, net.init_state(xi[:, 0].repeat(len(cfg.r), 1)), steps=steps, dt=cfg.dt,
                         method="euler", record_every=10, record=("overlaps",))
        for b, r in enumerate(cfg.r):
            d = decode(tr.overlaps[:, b].cpu(), 10 * cfg.dt)
            dwell = d.dwell[2:]
            measured = float(dwell.mean()) if dwell.numel() else math.inf
            pred = escape_time(r, T_d)
            if math.isinf(pred):
                rel = 0.0 if d.transitions == 0 else math.inf
            else:
                rel = (measured - pred) / pred if math.isfinite(measured) else math.inf
            points.append({"r": r, "T_d": T_d, "mean_dwell": measured, "predicted": pred, "rel_err": rel,
                           "transitions": d.transitions, "order_correct": order_follows_graph(d.order, phi.cpu()),
                           "regime_indicator": cfg.beta * cfg.N * abs(1 - r)})
    sharp = [p for p in points if p["r"] < 1]
    mean_abs = float(sum(abs(p["rel_err"]) for p in sharp) / max(1, len(sharp)))
    static_ok = all(p["transitions"] == 0 for p in points if p["r"] > 1)
    _figure(ctx, cfg, points)
    return {
        "points": points,
        "mean_abs_rel_err": mean_abs,
        "static_above_one": static_ok,
        "summary": f"mean |rel_err| = {100 * mean_abs:.2f} % over {len(sharp)} points with r < 1; "
                   f"no transition for r > 1: {static_ok}",
    }


def _figure(ctx, cfg, points):
    plt = pyplot()
    import numpy as np
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(11, 4.2))
    rr = np.linspace(0.01, 0.995, 200)
    for i, T_d in enumerate(cfg.T_d):
        c = plt.get_cmap("viridis")(i / max(1, len(cfg.T_d) - 1))
        a0.plot(rr, -T_d * np.log(1 - np.sqrt(rr)), color=c, lw=1, label=f"theory T_d={T_d:g}")
        pts = [p for p in points if p["T_d"] == T_d and math.isfinite(p["mean_dwell"])]
        a0.plot([p["r"] for p in pts], [p["mean_dwell"] for p in pts], "o", color=c, ms=5)
    a0.set_xlabel("r = α_s/α_c")
    a0.set_ylabel("mean dwell (T_f)")
    a0.set_title("escape time: simulation (dots) vs −T_d ln(1 − √r)")
    a0.legend(fontsize=8)
    grid = np.full((len(cfg.T_d), len(cfg.r)), np.nan)
    for p in points:
        i, j = cfg.T_d.index(p["T_d"]), cfg.r.index(p["r"])
        grid[i, j] = p["mean_dwell"] / p["T_d"] if math.isfinite(p["mean_dwell"]) else np.nan
    im = a1.imshow(grid, aspect="auto", origin="lower", cmap="magma")
    a1.set_xticks(range(len(cfg.r)), [f"{r:g}" for r in cfg.r])
    a1.set_yticks(range(len(cfg.T_d)), [f"{t:g}" for t in cfg.T_d])
    for p in points:
        if not math.isfinite(p["mean_dwell"]):
            a1.text(cfg.r.index(p["r"]), cfg.T_d.index(p["T_d"]), "static", ha="center", va="center",
                    color="w", fontsize=7)
    a1.set_xlabel("r")
    a1.set_ylabel("T_d / T_f")
    a1.set_title("phase diagram: dwell / T_d (blank = static memory)")
    fig.colorbar(im, ax=a1)
    fig.tight_layout()
    ctx.save_figure(fig, "escape_time")


EXPERIMENT = Experiment(Config, run,
                        "mean dwell vs r and T_d against T_esc = −T_d ln(1 − √r); phase diagram",
                        quick=("r=0.6,0.9,1.02", "T_d=20", "visits=3"))
