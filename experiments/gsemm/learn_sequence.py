"""``learn_sequence``: online learning of a sequence by a DSEM network, over many seeds at once.

Protocol (the authors' §2.3, gsemm.md): N = 100 neurons, L = 10 random ±1 patterns, N_h = 2L hidden
units, teacher-forced presentation (each item for ``item_steps`` steps, the state reset between epochs),
20 epochs; then free recall from the first pattern (v = x₀, s = 0). Success: the decoded order is exactly
0, 1, …, L−1. The seeds run as independent networks in one batch (per-stream weights (B, N, P)).
Structural checks per seed: a distinct hidden unit per pattern, Φ super-diagonal in memory coordinates,
mean energy per epoch decreasing. Retention: learn a second sequence B afterwards, recall A and B.

``rule=recruiting`` (default) is the reliable rule of :mod:`networks.gsemm.learning`; ``rule=authors``
runs the authors' rule with their constants (T_f = 0.008, T_d = 0.4, α_c = 1.52, dt = 1e-3, 1967 steps per
item, T_lξ = 1, T_lφ = 15, input as a raw current) — the model-parameter settings below then do not apply.
Results and the reasons are in ``docs/learning.md``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from networks.gsemm import dsem, escape_time, random_patterns
from networks.gsemm.learner import Learner
from networks.gsemm.learning import free_recall, rule_from_settings

from ..config import setting
from ..registry import Experiment
from ..threads import cpu_threads

AUTHORS = dict(alpha_s=1.0, alpha_c=1.52, beta=1.0, beta_d=1.0, T_f=0.008, T_d=0.4, dt=1e-3, item_steps=1967,
               recall_dt=1e-3, record_every=50, min_dwell=5)


@dataclass(frozen=True)
class Config:
    seeds: int = setting(20, "independent networks (seeds), batched", minimum=1)
    N: int = setting(100, "feature neurons", minimum=4)
    L: int = setting(10, "sequence length", minimum=2)
    hidden_per_item: int = setting(2, "hidden units per item (N_h = hidden_per_item * L)", minimum=1)
    epochs: int = setting(20, "presentations of the whole sequence", minimum=1)
    rule: str = setting("recruiting", "learning rule", choices=("recruiting", "authors"))
    alpha_s: float = setting(1.0, "α_s", positive=True)
    alpha_c: float = setting(2.0, "α_c (r = √α_s/(α_c β_d) = 0.5: deep in the dynamic phase)", positive=True)
    beta: float = setting(1.0, "softmax inverse temperature β", positive=True)
    beta_d: float = setting(1.0, "delay gain β_d", positive=True)
    T_f: float = setting(0.05, "feature time constant (recall)", positive=True)
    T_d: float = setting(1.0, "slow-population time constant", positive=True)
    dt: float = setting(0.05, "learning step (v clamped, so only T_d limits it)", positive=True)
    item_steps: int = setting(60, "steps per presented item (60 × 0.05 = 3 T_d)", minimum=1)
    eta_xi: float = setting(2.0, "Ξ learning rate (recruiting)", positive=True)
    eta_phi: float = setting(2.0, "Φ learning rate (recruiting)", positive=True)
    theta: float = setting(0.5, "cosine needed to reuse a committed hidden unit (recruiting)")
    tau_y: float = setting(0.1, "lag of the hidden trace (recruiting)", positive=True)
    beta_z: float = setting(1.0, "inverse temperature of the delayed code (recruiting)", positive=True)
    pre_code: str = setting("sharp", "presynaptic code of the Φ rule (recruiting)", choices=("sharp", "linear"))
    recall_dt: float = setting(0.005, "recall integration step", positive=True)
    recall_items: float = setting(3.0, "recall length: (L + this) predicted dwells", positive=True)
    record_every: int = setting(10, "recall: sample every k steps", minimum=1)
    min_dwell: int = setting(5, "recall decoder: merge visits shorter than this many samples", minimum=1)
    energy_every: int = setting(10, "record the energy every k learning steps", minimum=1)
    retention: bool = setting(True, "also learn a second sequence and recall both")


def _params(cfg: Config) -> dict:
    if cfg.rule == "authors":
        return dict(AUTHORS)
    return dict(alpha_s=cfg.alpha_s, alpha_c=cfg.alpha_c, beta=cfg.beta, beta_d=cfg.beta_d, T_f=cfg.T_f, T_d=cfg.T_d,
                dt=cfg.dt, item_steps=cfg.item_steps, recall_dt=cfg.recall_dt, record_every=cfg.record_every,
                min_dwell=cfg.min_dwell)


def dwell_of(alpha_s: float, alpha_c: float, beta_d: float, T_d: float) -> float:
    """The escape time :func:`networks.gsemm.escape_time` of a network with these parameters:
    T_esc = −T_d ln(1 − √r), r = √α_s/(α_c β_d) (inf in the static phase r ≥ 1).

    >>> round(dwell_of(1.0, 2.0, 1.0, 1.0), 3)
    1.228
    """
    return escape_time(math.sqrt(alpha_s) / (alpha_c * beta_d), T_d)


def make_learner(cfg: Config, seed: int, dtype=torch.float64):
    """Per-seed initial weights Ξ ~ N(0, 1)/N (Φ = 0, or N(0, 1)/P for the authors' rule), batched as
    per-stream weights (B, N, P); returns (learner, params).

    >>> lrn, p = make_learner(Config(seeds=2, N=8, L=3), 0)
    >>> tuple(lrn.xi.shape), p["item_steps"]
    ((2, 8, 6), 60)
    """
    p = _params(cfg)
    B, N, L = cfg.seeds, cfg.N, cfg.L
    P = cfg.hidden_per_item * L
    xi = torch.empty(B, N, P, dtype=dtype)
    phi = torch.zeros(B, P, P, dtype=dtype)
    for b in range(B):
        g = torch.Generator().manual_seed(1_000_003 * (seed + b) + 17)
        xi[b] = torch.randn(N, P, generator=g, dtype=dtype) / N
        if cfg.rule == "authors":
            phi[b] = torch.randn(P, P, generator=g, dtype=dtype) / P
    net = dsem(xi, phi, alpha_s=p["alpha_s"], alpha_c=p["alpha_c"], beta=p["beta"], beta_d=p["beta_d"],
               T_f=p["T_f"], T_d=p["T_d"])
    rule = rule_from_settings(cfg.rule, cfg)
    return Learner(net, rule, dt=p["dt"], monitors=("energy",), monitor_every=cfg.energy_every, seed=seed), p


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


def train(learner: Learner, X: torch.Tensor, epochs: int, item_steps: int, progress=None) -> torch.Tensor:
    """Teacher-forced presentation (each item x_k for ``item_steps`` steps, state reset between epochs);
    returns the mean energy E(v = x, s) per epoch, (epochs, B).

    >>> cfg = Config(seeds=2, N=8, L=3)
    >>> lrn, _ = make_learner(cfg, 0)
    >>> train(lrn, make_sequences(cfg, 0, 0), epochs=2, item_steps=5).shape
    torch.Size([2, 2])
    """
    B, N, L = X.shape
    out = []
    it = range(epochs) if progress is None else progress(range(epochs))
    for _ in it:
        learner.reset_state()
        n0 = learner.monitor("energy").shape[0] if learner.steps else 0
        for k in range(L):
            learner.run(X[:, :, k].unsqueeze(0).expand(item_steps, B, N))
        e = learner.monitor("energy")[n0:]
        out.append(e.mean(0))
    return torch.stack(out)


def memory_coords(xi: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """Hidden unit assigned to each pattern: argmax_μ cos(ξ_μ, x_k), (B, L).

    >>> memory_coords(torch.eye(3)[None], torch.eye(3)[None]).tolist()
    [[0, 1, 2]]
    """
    cos = torch.einsum("bnp,bnl->blp", xi, X) / (xi.norm(dim=1).unsqueeze(1) * X.norm(dim=1).unsqueeze(-1) + 1e-12)
    return cos.argmax(-1)


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


def _recall(learner: Learner, X: torch.Tensor, p: dict, recall_items: float, rule: str) -> list[list[int]]:
    """Free recall from each stream's first pattern; the horizon is (L + recall_items) predicted dwells
    (the training dwell for the authors' rule, whose timing is learned)."""
    L = X.shape[-1]
    if rule == "authors":
        horizon = (L + recall_items) * p["item_steps"] * p["dt"]
    else:
        horizon = (L + recall_items) * dwell_of(p["alpha_s"], p["alpha_c"], p["beta_d"], p["T_d"])
    steps = int(math.ceil(horizon / p["recall_dt"]))
    orders, _ = free_recall(learner.model, X, steps=steps, dt=p["recall_dt"], record_every=p["record_every"],
                            min_dwell=p["min_dwell"])
    return orders


def run(cfg: Config, ctx) -> dict:
    with cpu_threads(1):  # small per-step tensors: one intra-op thread is fastest
        return _run(cfg, ctx)


def _run(cfg: Config, ctx) -> dict:
    t0 = time.perf_counter()
    L = cfg.L
    learner, p = make_learner(cfg, ctx.seed)
    XA = make_sequences(cfg, ctx.seed, 0)
    energy = train(learner, XA, cfg.epochs, p["item_steps"], progress=lambda it: ctx.progress(it, desc="learn A"))
    t_learn = time.perf_counter() - t0
    ordersA = _recall(learner, XA, p, cfg.recall_items, cfg.rule)
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
        train(learner, XB, cfg.epochs, p["item_steps"], progress=lambda it: ctx.progress(it, desc="learn B"))
        after_A = _recall(learner, XA, p, cfg.recall_items, cfg.rule)
        after_B = _recall(learner, XB, p, cfg.recall_items, cfg.rule)
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
    return {
        "success_rate": rate,
        "seeds": cfg.seeds,
        "successes": sum(okA),
        "rule": cfg.rule,
        "params": p,
        "transition_ratio": math.sqrt(p["alpha_s"]) / (p["alpha_c"] * p["beta_d"]),
        "escape_time": dwell_of(p["alpha_s"], p["alpha_c"], p["beta_d"], p["T_d"]),
        "per_seed": per_seed,
        "retention": retention,
        "unique_units_rate": sum(s["unique_units"] for s in st) / cfg.seeds,
        "superdiag_dominant_rate": sum(s["superdiag_dominant"] for s in st) / cfg.seeds,
        "energy_decreasing_rate": sum(s["energy_decreasing"] for s in st) / cfg.seeds,
        "energy_per_epoch": mean_e.tolist(),
        "learning_steps_per_seed": cfg.epochs * L * p["item_steps"],
        "learn_seconds": round(t_learn, 2),
        "recall_seconds": round(t_recall, 2),
        "wall_seconds": round(wall, 2),
        "summary": (f"{sum(okA)}/{cfg.seeds} seeds recall the whole sequence ({cfg.rule} rule, {cfg.epochs} epochs)"
                    + (f"; retention: A {retention['A_after_B']:.0%} and B {retention['B']:.0%} after learning B"
                       if retention else "") + f"; {wall:.0f} s"),
    }


def _figures(ctx, xi, phi, X, energy, ok):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    units = memory_coords(xi, X)
    b = 0
    u = units[b]
    fig, ax = plt.subplots(figsize=(4.6, 4))
    im = ax.imshow(phi[b][u][:, u].numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_title(f"Φ in memory coordinates (seed {ctx.seed}, {'recalled' if ok[b] else 'failed'})")
    ax.set_xlabel("to item ν")
    ax.set_ylabel("from item μ")
    fig.colorbar(im, ax=ax)
    ctx.save_figure(fig, "phi_memory_coords")

    cos = torch.einsum("bnp,bnl->blp", xi, X) / (xi.norm(dim=1).unsqueeze(1) * X.norm(dim=1).unsqueeze(-1) + 1e-12)
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
    "learn_sequence", Config, run,
    "online learning of a 10-pattern sequence by DSEM over many seeds (success rate, structure, retention)",
    quick=("seeds=4", "epochs=3", "N=64", "L=5"),
)
