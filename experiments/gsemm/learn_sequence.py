"""``learn_sequence``: online learning of a sequence by a DSEM network, over many seeds at once.

Protocol (the authors' §2.3, gsemm.md): N = 100 neurons, L = 10 random ±1 patterns, N_h = 2L hidden
units, teacher-forced presentation (each item for ``item_steps`` steps, the state reset between epochs),
20 epochs; then free recall from the first pattern (v = x₀, s = 0). Success: the decoded order is exactly
0, 1, …, L−1. The seeds run as independent networks in one batch (per-stream weights (B, N, P)).
Structural checks per seed: a distinct hidden unit per pattern, Φ super-diagonal in memory coordinates,
mean energy per epoch decreasing. Retention: learn a second sequence B afterwards, recall A and B.

``rule=recruiting`` (default) is the reliable rule of :mod:`networks.gsemm.learning`; ``rule=authors``
runs the authors' rule with their constants (T_f = 0.008, T_d = 0.4, α_c = 1.52, dt = 1e-3, 1967 steps per
item, T_lξ = 1, T_lφ = 15, input as a raw current: :data:`AUTHORS`) — the model-parameter settings then do not
apply. The defaults of the recruiting rule: α_c = 2, so r = √α_s/(α_c β_d) = 0.5, deep in the dynamic phase;
T_f = 0.05 sets the recall speed; learning at dt = 0.05 for 60 steps per item (3 T_d). Results and the reasons
are in ``docs/learning.md``.
"""
from __future__ import annotations

import math
import time
from dataclasses import replace

import torch

from networks.gsemm import escape_time, memory_coords, memory_cosines, random_patterns
from networks.gsemm.learner import Learner
from networks.gsemm.learning import free_recall

from ..config import setting, with_defaults
from ..context import pyplot
from ..registry import Experiment
from .common import DSEMSettings, LearnSettings, RecallSettings, build_model, build_rule, present_sequence

#: the authors' protocol: with ``rule=authors`` these settings replace the configured ones
AUTHORS = dict(alpha_s=1.0, alpha_c=1.52, beta=1.0, beta_d=1.0, T_f=0.008, T_d=0.4, dt=1e-3, item_steps=1967,
               recall_dt=1e-3, record_every=50, min_dwell=5)


@with_defaults(alpha_c=2.0, T_f=0.05, T_d=1.0)
class Config(RecallSettings, LearnSettings, DSEMSettings):   # --help lists DSEM, learning, recall settings
    seeds: int = setting(20, "independent networks (seeds), batched", minimum=1)
    N: int = setting(100, "feature neurons", minimum=4)
    L: int = setting(10, "sequence length", minimum=2)
    energy_every: int = setting(10, "record the energy every k learning steps", minimum=1)
    retention: bool = setting(True, "also learn a second sequence and recall both")


def in_force(cfg: Config) -> Config:
    """The settings a run uses: ``cfg``, with the :data:`AUTHORS` protocol for ``rule=authors``.

    >>> in_force(Config(rule="authors")).item_steps, in_force(Config()).item_steps
    (1967, 60)
    """
    return replace(cfg, **AUTHORS) if cfg.rule == "authors" else cfg


def make_learner(cfg: Config, seed: int, dtype=torch.float64) -> Learner:
    """Per-seed initial weights Ξ ~ N(0, 1)/N (Φ = 0, or N(0, 1)/P for the authors' rule), batched as
    per-stream weights (B, N, P), with the settings ``cfg`` (see :func:`in_force`).

    >>> tuple(make_learner(Config(seeds=2, N=8, L=3), 0).xi.shape)
    (2, 8, 6)
    """
    B, N, L = cfg.seeds, cfg.N, cfg.L
    P = cfg.hidden_per_item * L
    xi = torch.empty(B, N, P, dtype=dtype)
    phi = torch.zeros(B, P, P, dtype=dtype)
    for b in range(B):
        g = torch.Generator().manual_seed(1_000_003 * (seed + b) + 17)
        xi[b] = torch.randn(N, P, generator=g, dtype=dtype) / N
        if cfg.rule == "authors":
            phi[b] = torch.randn(P, P, generator=g, dtype=dtype) / P
    return Learner(build_model(cfg, xi, phi), build_rule(cfg), dt=cfg.dt, monitors=("energy",),
                   monitor_every=cfg.energy_every, seed=seed)


def make_sequences(cfg: Config, seed: int, which: int, dtype=torch.float64) -> torch.Tensor:
    """(B, N, L) random ±1 patterns, one sequence per seed (``which`` = 0 for A, 1 for B).

    >>> make_sequences(Config(seeds=2, N=8, L=3), 0, 0).shape
    torch.Size([2, 8, 3])
    """
    out = torch.empty(cfg.seeds, cfg.N, cfg.L, dtype=dtype)
    for b in range(cfg.seeds):
        g = torch.Generator().manual_seed(7919 * (seed + b) + 104_729 * which + 1)
        out[b] = random_patterns(cfg.N, cfg.L, generator=g, dtype=dtype)
    return out


def _structure(xi, phi, X, energy) -> list[dict]:
    """Per-seed structural checks."""
    units = memory_coords(xi, X)
    res = []
    L = X.shape[-1]
    for b in range(X.shape[0]):
        u = units[b]
        pm = phi[b][u][:, u]
        sup = pm.diagonal(1)
        off = pm - torch.diag_embed(sup, 1)
        e = energy[:, b]
        res.append({
            "unique_units": len(set(u.tolist())) == L,
            "units": u.tolist(),
            "phi_superdiag_min": float(sup.min()),
            "phi_superdiag_mean": float(sup.mean()),
            "phi_off_max": float(off.abs().max()),
            "superdiag_dominant": bool(sup.min() > off.abs().max()),
            "energy_decreasing": bool(e[-1] < e[0] and (e[1:] <= e[:-1] + 1e-6 * e.abs().max()).all()),
        })
    return res


def _recall(learner: Learner, X: torch.Tensor, cfg: Config) -> list[list[int]]:
    """Free recall from each stream's first pattern; the horizon is (L + recall_items) predicted dwells
    (the training dwell for the authors' rule, whose timing is learned)."""
    L = X.shape[-1]
    if cfg.rule == "authors":
        dwell = cfg.item_steps * cfg.dt
    else:
        dwell = escape_time(float(learner.model.transition_ratio()), cfg.T_d)
    steps = int(math.ceil((L + cfg.recall_items) * dwell / cfg.recall_dt))
    orders, _ = free_recall(learner.model, X, steps=steps, dt=cfg.recall_dt, record_every=cfg.record_every,
                            min_dwell=cfg.min_dwell)
    return orders


def run(cfg: Config, ctx) -> dict:
    t0 = time.perf_counter()
    cfg = in_force(cfg)
    L = cfg.L
    learner = make_learner(cfg, ctx.seed)
    XA = make_sequences(cfg, ctx.seed, 0)
    energy = present_sequence(learner, XA, cfg.epochs, cfg.item_steps,
                              progress=lambda it: ctx.progress(it, desc="learn A"))
    t_learn = time.perf_counter() - t0
    ordersA = _recall(learner, XA, cfg)
    t_recall = time.perf_counter() - t0 - t_learn
    want = list(range(L))
    okA = [o == want for o in ordersA]
    st = _structure(learner.xi.detach(), learner.phi.detach(), XA, energy)
    per_seed = [{"seed": ctx.seed + b, "success": okA[b], "reached_end": ordersA[b][:L] == want,
                 "order": ordersA[b][:3 * L], **st[b]} for b in range(cfg.seeds)]
    xiA, phiA = learner.xi.detach().clone(), learner.phi.detach().clone()
    retention = None
    if cfg.retention:
        XB = make_sequences(cfg, ctx.seed, 1)
        present_sequence(learner, XB, cfg.epochs, cfg.item_steps, progress=lambda it: ctx.progress(it, desc="learn B"))
        after_A = _recall(learner, XA, cfg)
        after_B = _recall(learner, XB, cfg)
        retention = {
            "A_before_B": sum(okA) / cfg.seeds,
            "A_after_B": sum(o == want for o in after_A) / cfg.seeds,
            "B": sum(o == want for o in after_B) / cfg.seeds,
            "A_and_B": sum(a == want and b == want for a, b in zip(after_A, after_B)) / cfg.seeds,
            "units_shared_by_A_and_B": [len(set(memory_coords(learner.xi.detach(), XA)[b].tolist())
                                            & set(memory_coords(learner.xi.detach(), XB)[b].tolist()))
                                        for b in range(cfg.seeds)],
        }
    wall = time.perf_counter() - t0
    _figures(ctx, xiA, phiA, XA, energy, okA)
    rate = sum(okA) / cfg.seeds
    mean_e = energy.mean(1)
    r = float(learner.model.transition_ratio())
    return {
        "success_rate": rate,
        "seeds": cfg.seeds,
        "successes": sum(okA),
        "rule": cfg.rule,
        "params": {k: getattr(cfg, k) for k in AUTHORS},
        "transition_ratio": r,
        "escape_time": escape_time(r, cfg.T_d),
        "per_seed": per_seed,
        "retention": retention,
        "unique_units_rate": sum(s["unique_units"] for s in st) / cfg.seeds,
        "superdiag_dominant_rate": sum(s["superdiag_dominant"] for s in st) / cfg.seeds,
        "energy_decreasing_rate": sum(s["energy_decreasing"] for s in st) / cfg.seeds,
        "energy_per_epoch": mean_e.tolist(),
        "learning_steps_per_seed": cfg.epochs * L * cfg.item_steps,
        "learn_seconds": round(t_learn, 2),
        "recall_seconds": round(t_recall, 2),
        "wall_seconds": round(wall, 2),
        "summary": (f"{sum(okA)}/{cfg.seeds} seeds recall the whole sequence ({cfg.rule} rule, {cfg.epochs} epochs)"
                    + (f"; retention: A {retention['A_after_B']:.0%} and B {retention['B']:.0%} after learning B"
                       if retention else "") + f"; {wall:.0f} s"),
    }


def _figures(ctx, xi, phi, X, energy, ok):
    plt = pyplot()
    cos = memory_cosines(xi, X)
    units = cos.argmax(-1)
    b = 0
    u = units[b]
    fig, ax = plt.subplots(figsize=(4.6, 4))
    im = ax.imshow(phi[b][u][:, u].numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_title(f"Φ in memory coordinates (seed {ctx.seed}, {'recalled' if ok[b] else 'failed'})")
    ax.set_xlabel("to item ν")
    ax.set_ylabel("from item μ")
    fig.colorbar(im, ax=ax)
    ctx.save_figure(fig, "phi_memory_coords")

    nshow = min(8, xi.shape[0])
    fig, axes = plt.subplots(1, nshow, figsize=(2.2 * nshow, 2.6), squeeze=False)
    for j in range(nshow):
        a = axes[0, j]
        a.imshow(cos[j].numpy(), cmap="viridis", vmin=-0.2, vmax=1, aspect="auto")
        a.set_title(f"seed {ctx.seed + j} {'✓' if ok[j] else '✗'}", fontsize=8)
        a.set_xlabel("hidden unit", fontsize=7)
        if j == 0:
            a.set_ylabel("pattern", fontsize=7)
    fig.suptitle("hidden-unit assignment: cos(ξ_μ, x_k)")
    fig.tight_layout()
    ctx.save_figure(fig, "hidden_assignment")

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ep = torch.arange(1, energy.shape[0] + 1)
    ax.plot(ep, energy.numpy(), color="0.8", lw=0.7)
    ax.plot(ep, energy.mean(1).numpy(), color="k", lw=2, label="mean over seeds")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean energy during presentation")
    ax.legend()
    fig.tight_layout()
    ctx.save_figure(fig, "energy_per_epoch")


EXPERIMENT = Experiment(
    Config, run,
    "online learning of a 10-pattern sequence by DSEM over many seeds (success rate, structure, retention)",
    quick=("seeds=4", "epochs=3", "N=64", "L=5"),
    threads=1,  # small per-step tensors: one intra-op thread is fastest
)
