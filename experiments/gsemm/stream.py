"""``stream``: the main job — stream a real sequence into a DSEM network, learn it online, then cue and replay.

With no arguments, the sequence is the handwritten digits 0, 1, …, 9: the first image of each class in
scikit-learn's ``load_digits`` (8 × 8 images shipped inside the package; nothing is downloaded), binarised
to ±1 at half the maximum intensity, so N = 64. ``--set data=path.npy`` streams your own sequence instead
(one pattern per row; values that are not already ±1 are binarised at the midpoint of their range).

Each epoch presents the items in order (teacher forcing, ``item_steps`` steps each, state reset between
epochs) to a :class:`~networks.gsemm.learner.Learner` with the recruiting energy rule
(:mod:`networks.gsemm.learning`, ``docs/learning.md``). Then the network is cued with the first item
(v = x₀, s = 0) and runs freely. The report holds the learned Ξ as images (for square patterns), Φ,
overlaps and energy over time during learning and recall, and ``metrics.json``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from networks.gsemm import decode, dsem, simulate
from networks.gsemm.learner import Learner
from networks.gsemm.learning import RecruitingRule

from ..config import setting
from ..registry import Experiment
from ..threads import cpu_threads
from .learn_sequence import dwell_of, memory_coords


@dataclass(frozen=True)
class Config:
    data: str = setting("digits", "digits (scikit-learn's 0-9, 8x8) or path/to/sequence.npy (one pattern per row)")
    epochs: int = setting(10, "presentations of the whole sequence", minimum=1)
    item_steps: int = setting(60, "learning steps per item", minimum=1)
    dt: float = setting(0.05, "learning step", positive=True)
    hidden_per_item: int = setting(2, "hidden units per item (spares for later sequences)", minimum=1)
    alpha_s: float = setting(1.0, "α_s", positive=True)
    alpha_c: float = setting(2.0, "α_c (r = √α_s/(α_c β_d))", positive=True)
    beta: float = setting(1.0, "softmax inverse temperature β", positive=True)
    beta_d: float = setting(1.0, "delay gain β_d", positive=True)
    T_f: float = setting(0.05, "feature time constant", positive=True)
    T_d: float = setting(1.0, "slow-population time constant", positive=True)
    eta_xi: float = setting(2.0, "Ξ learning rate", positive=True)
    eta_phi: float = setting(2.0, "Φ learning rate", positive=True)
    theta: float = setting(0.9, "cosine needed to reuse a hidden unit (above the data's largest pattern correlation)")
    tau_y: float = setting(0.1, "lag of the hidden trace", positive=True)
    recall_dt: float = setting(0.005, "recall integration step", positive=True)
    recall_items: float = setting(4.0, "recall length: (L + this) predicted dwells", positive=True)
    record_every: int = setting(10, "record every k steps", minimum=1)
    min_dwell: int = setting(5, "decoder: merge visits shorter than this many samples", minimum=1)


def load_sequence(spec: str) -> tuple[torch.Tensor, str]:
    """(L, N) ±1 float64 patterns and a description: x = sign(img − 8) for the 0–16 digit images, or a
    .npy file (binarised at the midpoint of its range unless already ±1).

    >>> load_sequence("digits")[0].shape
    torch.Size([10, 64])
    """
    if spec == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError as e:
            raise ModuleNotFoundError("data=digits needs scikit-learn (pip install 'seqplastic[data]'), "
                                      "or pass --set data=path.npy") from e
        d = load_digits()
        idx = [int(np.flatnonzero(d.target == k)[0]) for k in range(10)]
        img = d.images[idx].reshape(10, -1)
        x = np.where(img > 0.5 * 16.0, 1.0, -1.0)
        return torch.tensor(x, dtype=torch.float64), "scikit-learn digits 0-9 (8x8, binarised)"
    path = Path(spec)
    if path.suffix != ".npy":
        raise ValueError(f"data={spec!r}: use 'digits' or a path to a .npy file (one pattern per row)")
    if not path.exists():
        raise ValueError(f"data={spec}: file not found")
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as e:
        raise ValueError(f"data={spec}: cannot read as a .npy array ({e})") from e
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise ValueError(f"data={spec}: need a 2-D array with >= 2 patterns (rows) of >= 2 values, got {arr.shape}")
    arr = np.asarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"data={spec}: contains NaN or inf")
    if not np.isin(arr, (-1.0, 1.0)).all():
        mid = 0.5 * (arr.min() + arr.max())
        arr = np.where(arr > mid, 1.0, -1.0)
    return torch.tensor(arr), f"{path.name} ({arr.shape[0]} patterns of {arr.shape[1]})"


def max_pairwise_cosine(X: torch.Tensor) -> float:
    """Largest cosine between two different rows of ``X`` (L, N): items closer than the rule's ``theta`` share
    a hidden unit.

    >>> max_pairwise_cosine(torch.tensor([[1., 1.], [1., -1.], [1., 0.9]]))
    0.9986...
    """
    Xn = X / X.norm(dim=1, keepdim=True).clamp_min(1e-12)
    c = Xn @ Xn.T
    c.fill_diagonal_(-1.0)
    return float(c.max())


def run(cfg: Config, ctx) -> dict:
    with cpu_threads(1):  # small per-step tensors: one intra-op thread is fastest
        return _run(cfg, ctx)


def _run(cfg: Config, ctx) -> dict:
    t0 = time.perf_counter()
    X, desc = load_sequence(cfg.data)                     # (L, N)
    L, N = X.shape
    max_cos = max_pairwise_cosine(X)
    if max_cos >= cfg.theta:
        ctx.log(f"warning: two patterns of {desc} have cosine {max_cos:.3f} >= theta={cfg.theta}; the recruiting "
                f"rule will store them in one hidden unit and the replay cannot separate them. Raise --set theta= "
                f"above {max_cos:.3f} (or make the patterns less alike)")
    P = cfg.hidden_per_item * L
    g = ctx.generator()
    xi0 = torch.randn(N, P, generator=g, dtype=torch.float64) / N
    net = dsem(xi0, torch.zeros(P, P, dtype=torch.float64), alpha_s=cfg.alpha_s, alpha_c=cfg.alpha_c,
               beta=cfg.beta, beta_d=cfg.beta_d, T_f=cfg.T_f, T_d=cfg.T_d)
    rule = RecruitingRule(eta_xi=cfg.eta_xi, eta_phi=cfg.eta_phi, theta=cfg.theta, tau_y=cfg.tau_y)
    every = max(1, cfg.item_steps // 20)
    learner = Learner(net, rule, dt=cfg.dt, monitors=("v", "energy"), monitor_every=every, seed=ctx.seed)
    bar = ctx.progress(total=cfg.epochs * L, desc="streaming")
    for _ in range(cfg.epochs):
        learner.reset_state()
        for k in range(L):
            learner.run(X[k].expand(cfg.item_steps, 1, N))
            bar.update(1)
    bar.close()
    t_learn = time.perf_counter() - t0

    model = learner.model
    T_esc = dwell_of(cfg.alpha_s, cfg.alpha_c, cfg.beta_d, cfg.T_d)
    if not math.isfinite(T_esc):
        raise ValueError(f"alpha_s={cfg.alpha_s}, alpha_c={cfg.alpha_c}, beta_d={cfg.beta_d} give r >= 1 (static "
                         "memory phase): no replay. Use r = sqrt(alpha_s)/(alpha_c*beta_d) < 1, e.g. alpha_c=2")
    steps = int(math.ceil((L + cfg.recall_items) * T_esc / cfg.recall_dt))
    _, tr = simulate(model, model.init_state(X[0][None]), steps=steps, dt=cfg.recall_dt, method="euler",
                     record=("v", "energy"), record_every=cfg.record_every, backend="dense",
                     progress="recall" if not ctx.quiet else False)
    ov_rec = (tr.v[:, 0] @ X.T) / N                              # (T, L) overlaps with the true items
    d = decode(ov_rec, cfg.recall_dt * cfg.record_every, min_dwell=cfg.min_dwell)
    order = d.order
    correct = order == list(range(L))
    units = memory_coords(learner.xi.detach()[None], X.T[None])[0]
    pm = learner.phi.detach()[units][:, units]
    wall = time.perf_counter() - t0

    learn_v = learner.monitor("v")[:, 0]
    ov_learn = (learn_v @ X.T) / N
    e_learn = learner.monitor("energy")[:, 0]
    _figures(ctx, cfg, X, learner, units, pm, ov_learn, e_learn, tr.t, ov_rec, tr.energy[:, 0], every)
    return {
        "recall_correct": bool(correct),
        "recall_order": order,
        "presentations": cfg.epochs * L,
        "learning_steps": learner.steps,
        "items": L,
        "N": N,
        "hidden_units": P,
        "data": desc,
        "max_pattern_cosine": max_cos,
        "distinct_units": len(set(units.tolist())) == L,
        "phi_superdiag_min": float(pm.diagonal(1).min()),
        "phi_off_max": float((pm - torch.diag_embed(pm.diagonal(1), 1)).abs().max()),
        "transition_ratio": math.sqrt(cfg.alpha_s) / (cfg.alpha_c * cfg.beta_d),
        "predicted_dwell": T_esc,
        "mean_dwell": d.mean_dwell,
        "learn_seconds": round(t_learn, 2),
        "wall_seconds": round(wall, 2),
        "summary": (f"learned {desc} online in {cfg.epochs * L} presentations; cued with item 0 it replays "
                    f"{order[:2 * L]} — {'the whole sequence in order' if correct else 'NOT the taught order'}"
                    f" ({wall:.0f} s)"),
    }


def _figures(ctx, cfg, X, learner, units, pm, ov_learn, e_learn, t_rec, ov_rec, e_rec, every):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    L, N = X.shape
    side = int(round(math.sqrt(N)))
    xi = learner.xi.detach()
    if side * side == N:
        fig, axes = plt.subplots(2, L, figsize=(1.1 * L, 3.0), squeeze=False)
        for k in range(L):
            axes[0, k].imshow(X[k].reshape(side, side).numpy(), cmap="gray_r", vmin=-1, vmax=1)
            col = xi[:, units[k]]
            axes[1, k].imshow(col.reshape(side, side).numpy(), cmap="gray_r")
            axes[0, k].set_title(f"item {k}", fontsize=7)
            axes[1, k].set_title(f"ξ unit {int(units[k])}", fontsize=7)
            for a in axes[:, k]:
                a.set_xticks([])
                a.set_yticks([])
        fig.suptitle("presented items (top) and learned memory columns Ξ (bottom)", fontsize=9)
        fig.tight_layout()
        ctx.save_figure(fig, "xi_images")
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(9, 4))
    im = a0.imshow(learner.phi.detach().numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    a0.set_title("Φ (all hidden units)")
    a0.set_xlabel("to unit ν")
    a0.set_ylabel("from unit μ")
    fig.colorbar(im, ax=a0, fraction=0.046)
    im = a1.imshow(pm.numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    a1.set_title("Φ in memory coordinates (item order)")
    a1.set_xlabel("to item")
    a1.set_ylabel("from item")
    fig.colorbar(im, ax=a1, fraction=0.046)
    fig.tight_layout()
    ctx.save_figure(fig, "phi")

    cmap = plt.get_cmap("tab10" if L <= 10 else "tab20")
    for name, t, ov, e, title in (
            ("learning", np.arange(ov_learn.shape[0]) * every * cfg.dt, ov_learn, e_learn,
             "during learning (teacher-forced)"),
            ("recall", t_rec.numpy(), ov_rec, e_rec, "free recall cued with item 0")):
        fig, (b0, b1) = plt.subplots(2, 1, figsize=(10, 4.6), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
        for k in range(L):
            b0.plot(t, ov[:, k].numpy(), color=cmap(k % cmap.N), lw=1, label=str(k))
        b0.set_ylabel("overlap x_k·v / N")
        b0.set_title(f"overlaps and energy {title}")
        b0.legend(ncol=min(L, 10), fontsize=6, loc="lower right")
        b1.plot(t, e.numpy(), color="k", lw=0.8)
        b1.set_ylabel("energy E")
        b1.set_xlabel("time")
        fig.tight_layout()
        ctx.save_figure(fig, f"overlaps_energy_{name}")


EXPERIMENT = Experiment(
    "stream", Config, run,
    "stream the digits 0-9 (or --set data=seq.npy) into a DSEM network online, then cue it and replay",
    quick=("epochs=5",),
)
