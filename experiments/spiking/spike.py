"""``spike``: build the spiking (Brian2) mirror of a torch DSEM network, replay a stored sequence with spikes.

``--set source=``

* ``stored`` (default) — a **stored DSEM** (Hadamard ±1 patterns, cyclic Φ 0 → 1 → … → P−1 → 0). Kept as the
  default (the issue asks for the stream-learned one) because it runs in seconds on the numpy target and its
  cycle gives ≥ 20 transitions in one replay, which the ≥ 90 % order-agreement criterion needs;
* ``stream`` — the network the ``stream`` job learns (handwritten digits 0–9, N = 64, 20 hidden units, the
  torch ``RecruitingRule``; its defaults), learned here first (≈ 10–20 s), then mirrored. Its open chain of
  10 items replays at most 9 transitions, and with T_f = 0.05 the spiking replay is ≈ 20× more time steps.

The decoding bin and the replay duration are in units of the network's T_f (``bin``) and of model time. Both
the torch model (explicit Euler) and the spiking network are cued with memory 0; the spiking order is decoded
from feature population rates and compared transition by transition with the torch order (``order_agreement``).
Writes a raster plot, population rates with the decoded sequence, and ``metrics.json``.
"""
from __future__ import annotations

import time
from dataclasses import replace

import torch

from networks.gsemm import cycle, decode, escape_time, hadamard_patterns, simulate
from networks.gsemm.learner import Learner
from networks.spiking import TARGETS

from ..config import setting, with_defaults
from ..context import pyplot
from ..gsemm.common import (DSEMSettings, LearnSettings, RecallSettings, build_model, build_rule, load_sequence,
                            present_sequence)
from ..registry import Experiment


@with_defaults(alpha_s=0.5, alpha_c=1.0, beta=4.0, T_d=2.0)
class Config(DSEMSettings):
    N: int = setting(32, "feature neurons (a power of two)", minimum=4)
    P: int = setting(4, "stored memories (cycle)", minimum=2)
    duration: float = setting(100.0, "replay length (model units; T_f = 1 unit = 10 ms)", positive=True)
    M: int = setting(8, "hidden neurons per memory", minimum=1)
    r_h: float = setting(100.0, "peak rate of one hidden neuron (Hz)", positive=True)
    r_f: float = setting(400.0, "peak feature rate (Hz)", positive=True)
    bin: float = setting(0.5, "decoding bin (in units of the network's T_f)", positive=True)
    min_dwell: int = setting(3, "decoder: merge runs shorter than this many bins", minimum=1)
    target: str = setting("runtime", "Brian2 target", choices=TARGETS)
    source: str = setting("stored", "torch network: stored DSEM cycle, or the one the stream job learns",
                          choices=("stored", "stream"))


def run(cfg: Config, ctx) -> dict:
    from networks.spiking import SpikeConfig, SpikingGSEMM, order_agreement, reset_device
    if cfg.N & (cfg.N - 1) or cfg.P >= cfg.N:
        raise ValueError(f"N={cfg.N} must be a power of two and P={cfg.P} < N (Hadamard patterns)")
    if cfg.source == "stream":
        net, xi, desc, duration, learn_s = _stream_network(ctx)
    else:
        xi = hadamard_patterns(cfg.N, cfg.P, dtype=torch.float64)
        net = build_model(cfg, xi, cycle(cfg.P, dtype=torch.float64))
        desc, duration, learn_s = f"stored DSEM, Hadamard N={cfg.N}, P={cfg.P} cycle", cfg.duration, 0.0
    cfg = replace(cfg, duration=duration, bin=cfg.bin * float(net.T_f))
    cue = xi[:, 0]
    dt_t = 0.01 * float(net.T_f)
    _, tr = simulate(net, net.init_state(cue), steps=int(round(cfg.duration / dt_t)), dt=dt_t, method="euler",
                     record_every=10, backend="dense")
    ref = decode(tr.overlaps[:, 0], 10 * dt_t, min_dwell=3 * max(1, int(round(cfg.bin / (10 * dt_t)))))
    directory = None  # standalone targets build in a fresh temporary folder (kept out of the run folder)
    try:
        sim = SpikingGSEMM(net, duration=cfg.duration, config=SpikeConfig(M=cfg.M, r_h=cfg.r_h, r_f=cfg.r_f),
                           target=cfg.target, directory=directory, seed=ctx.seed)
        res = sim.run(cue)
        build_s, run_s = sim.build_seconds, sim.last_run_seconds
    finally:
        reset_device()
    t, m = res.overlaps(xi.numpy(), cfg.bin)
    d = decode(torch.tensor(m), cfg.bin, min_dwell=cfg.min_dwell)
    agree, n = order_agreement(d.order, ref.order)
    _figures(ctx, cfg, res, t, m, d, tr, ref)
    ok = n >= 1 and agree >= 0.9
    return {
        "decoded": d.order,
        "torch_order": ref.order,
        "order_agreement": agree,
        "transitions": n,
        "target": cfg.target,
        "build_seconds": round(build_s, 3),
        "run_seconds": round(run_s, 3),
        "feature_spikes": int(res.feature_i.size),
        "hidden_spikes": int(res.hidden_i.size),
        "mean_dwell_spiking": d.mean_dwell,
        "mean_dwell_torch": ref.mean_dwell,
        "network": desc,
        "source": cfg.source,
        "learn_seconds": round(learn_s, 3),
        "summary": (f"spiking DSEM ({net.xi.shape[0]} feature + {net.xi.shape[1]}x{cfg.M} hidden Poisson neurons, "
                    f"{cfg.target}) "
                    f"replayed {n} transitions, {100 * agree:.0f}% in the torch order "
                    f"({'OK' if ok else 'BELOW 90%'}); build {build_s:.1f} s, run {run_s:.1f} s"),
    }


@with_defaults(alpha_c=2.0, T_f=0.05, T_d=1.0, epochs=10, theta=0.9, recall_items=4.0)
class StreamDSEM(RecallSettings, LearnSettings, DSEMSettings):
    """The epoch-based DSEM protocol the ``stream`` job used before it moved to one-pass learning with the
    context GSEMM (which the Brian2 mirror does not build yet): the digits, 10 epochs x 60 steps per digit,
    the recruiting rule."""


def _stream_network(ctx):
    """Learn the ``stream`` job's network (:class:`StreamDSEM`) with the torch learner; return
    ``(model, patterns (N, L), description, replay duration, seconds)``."""
    sc = StreamDSEM()
    t0 = time.perf_counter()
    X, desc = load_sequence("digits")
    L, N = X.shape
    P = sc.hidden_per_item * L
    xi0 = torch.randn(N, P, generator=ctx.generator(), dtype=torch.float64) / N
    learner = Learner(build_model(sc, xi0, torch.zeros(P, P, dtype=torch.float64)), build_rule(sc), dt=sc.dt,
                      seed=ctx.seed)
    present_sequence(learner, X.T[None], sc.epochs, sc.item_steps)
    duration = (L + sc.recall_items) * escape_time(float(learner.model.transition_ratio()), sc.T_d)
    return (learner.model, X.T.contiguous(), f"stream-learned DSEM ({desc}; N={N}, {P} hidden units)", duration,
            time.perf_counter() - t0)


def _figures(ctx, cfg, res, t, m, d, tr, ref):
    plt = pyplot()
    tu_ms = res.time_unit * 1e3
    fig, (a0, a1) = plt.subplots(2, 1, figsize=(10, 5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    a0.plot(res.feature_t * tu_ms, res.feature_i, ",k")
    a0.plot(res.hidden_t * tu_ms, res.N + 2 + res.hidden_i, ",r")
    a0.set_ylabel("neuron (features black, hidden red)")
    a0.set_title("spike raster")
    tb, rates = res.hidden_rates(cfg.bin)
    for k in range(res.P):
        a1.plot(tb * tu_ms, rates[:, k], lw=1, label=f"memory {k}")
    a1.set_ylabel("hidden population rate (Hz)")
    a1.set_xlabel("time (ms)")
    a1.legend(fontsize=6, ncol=min(res.P, 8))
    fig.tight_layout()
    ctx.save_figure(fig, "raster")
    fig, (b0, b1) = plt.subplots(2, 1, figsize=(10, 4.5), sharex=True)
    for k in range(m.shape[1]):
        b0.plot(t * tu_ms, m[:, k], lw=1, label=str(k))
        b1.plot(tr.t.numpy() * tu_ms, tr.overlaps[:, 0, k].numpy(), lw=1)
    b0.set_title(f"spiking: overlaps of feature population rates; decoded {d.order[:24]}", fontsize=8)
    b1.set_title(f"torch DSEM (Euler): decoded {ref.order[:24]}", fontsize=8)
    b0.legend(fontsize=6, ncol=m.shape[1])
    b1.set_xlabel("time (ms)")
    fig.tight_layout()
    ctx.save_figure(fig, "population_rates")


EXPERIMENT = Experiment(
    Config, run,
    "spiking (Brian2) mirror of a stored DSEM: replay by spikes, decoded order vs the torch model",
    quick=("duration=40",),
    threads=1,  # the torch side steps small tensors: one intra-op thread is fastest
)
