"""``time_cells``: hidden units as time cells and the slow population as ramping cells (EDEN Fig. 5 style).

Hidden softmax activity, ordered by peak time, tiles each visit; the slow population's overlap with
memory μ rises while μ is visited and then decays with time constant ≈ T_d. Metrics: the order of
peak times, the fraction of the trial tiled, and the fitted decay time of the ramps (compare with T_d).
"""
from __future__ import annotations

import math
import torch

from networks.gsemm import cycle, decode, simulate

from ..config import setting, with_defaults
from ..context import pyplot
from ..registry import Experiment
from .common import RatioSettings, dsem_at_ratio, make_patterns


@with_defaults(r=0.6)
class Config(RatioSettings):
    N: int = setting(128, "feature neurons", minimum=4)
    P: int = setting(5, "memories in the cycle", minimum=2)
    patterns: str = setting("hadamard", "hadamard (orthogonal) or random", choices=("hadamard", "random"))
    duration: float = setting(200.0, "simulated time (T_f units)", positive=True)


def run(cfg: Config, ctx) -> dict:
    dtype = torch.float64
    xi = make_patterns(cfg.patterns, cfg.N, cfg.P, generator=ctx.generator(), dtype=dtype, device=ctx.device)
    net = dsem_at_ratio(xi, cycle(cfg.P, dtype=dtype, device=ctx.device), cfg.r, beta=cfg.beta, T_d=cfg.T_d)
    steps = int(round(cfg.duration / cfg.dt))
    _, tr = simulate(net, net.init_state(xi[:, 0]), steps=steps, dt=cfg.dt, method="euler", record_every=10,
                     record=("overlaps", "hidden", "s"), progress=ctx.progress_flag("time_cells"))
    t = tr.t.numpy()
    hidden = tr.hidden[:, 0].cpu()                      # (T, P)
    ramps = (tr.s[:, 0].cpu() @ xi.cpu()) / cfg.N        # (T, P) slow-population overlaps
    d = decode(tr.overlaps[:, 0].cpu(), 10 * cfg.dt)
    # time cells: peak time of each hidden unit within the first full cycle
    first_cycle = hidden[: max(2, int(len(t) * min(1.0, (cfg.P + 0.5) / max(1, d.transitions + 1))))]
    peak_order = torch.argsort(first_cycle.argmax(0)).tolist()
    tiled = float((hidden.max(1).values > 0.5).double().mean())
    taus = _ramp_decay(t, ramps, d)
    tau = float(sum(taus) / len(taus)) if taus else math.nan
    _figure(ctx, t, hidden, ramps, peak_order, cfg)
    return {
        "decoded": d.order,
        "peak_order": peak_order,
        "fraction_tiled": tiled,
        "ramp_decay_tau": tau,
        "ramp_decay_over_T_d": tau / cfg.T_d if taus else math.nan,
        "summary": f"time cells peak in order {peak_order}; {100 * tiled:.0f} % of the trial tiled; "
                   f"slow ramps decay with τ ≈ {tau:.1f} (T_d = {cfg.T_d:g})",
    }


def _ramp_decay(t, ramps, d):
    """Fit the post-visit decay of each memory's slow overlap: log-slope over the next dwell."""
    import numpy as np
    taus = []
    labels = d.labels.numpy()
    for i in range(1, len(labels)):
        if labels[i] != labels[i - 1]:
            mu = labels[i - 1]
            seg = ramps[i:i + max(5, int(0.8 * (d.mean_dwell or 1) / (t[1] - t[0]))), mu].numpy()
            ts = t[i:i + len(seg)]
            ok = seg > 1e-3
            if ok.sum() >= 5:
                slope = np.polyfit(ts[ok], np.log(seg[ok]), 1)[0]
                if slope < 0:
                    taus.append(-1.0 / slope)
    return taus


def _figure(ctx, t, hidden, ramps, order, cfg):
    plt = pyplot()
    fig, (a0, a1) = plt.subplots(2, 1, figsize=(9, 5.5), sharex=True)
    a0.imshow(hidden[:, order].T.numpy(), aspect="auto", origin="lower", cmap="Greys",
              extent=[t[0], t[-1], -0.5, cfg.P - 0.5])
    a0.set_ylabel("hidden unit (sorted by peak)")
    a0.set_title("time cells: softmax hidden activity")
    for mu in range(cfg.P):
        a1.plot(t, ramps[:, mu].numpy(), lw=1.2, label=f"s·ξ{mu}/N")
    a1.set_ylabel("slow overlap")
    a1.set_xlabel("time (T_f)")
    a1.set_title(f"ramping cells: slow population (T_d = {cfg.T_d:g})")
    a1.legend(fontsize=7, ncol=cfg.P)
    fig.tight_layout()
    ctx.save_figure(fig, "time_cells")


EXPERIMENT = Experiment(Config, run,
                        "hidden time cells ordered by peak time and ramping slow population (EDEN Fig. 5 style)",
                        quick=("duration=120",))
