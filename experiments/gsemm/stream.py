"""``stream``: the main job — stream a real sequence into a context GSEMM in one pass, then cue it and replay.

With no arguments, the sequence is the handwritten digits 0, 1, …, 9: the first image of each class in
scikit-learn's ``load_digits`` (8 × 8 images shipped inside the package; nothing is downloaded), binarised
to ±1 at half the maximum intensity, so N = 64. ``--set data=path.npy`` streams your own sequence instead
(one pattern per row; values that are not already ±1 are binarised at the midpoint of their range).

Each digit is shown **once** to a :class:`~networks.gsemm.streaming.StreamLearner` (one-shot local
imprinting of Ξ and Φ, no epochs, no resets). Then the network is cued with the first digit and replays —
twice: by the learner's discrete replay, and by the continuous-time dynamics of the context GSEMM energy
network (:class:`~networks.gsemm.context.ContextGSEMM`) built from the learned Ξ and Φ. The report holds
the learned Ξ as images (for square patterns), Φ, the overlaps and energy during the continuous replay, and
``metrics.json``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from networks.gsemm import memory_coords
from networks.gsemm.context import ContextGSEMM
from networks.gsemm.streaming import StreamLearner

from ..config import setting
from ..context import pyplot
from ..registry import Experiment
from .common import load_sequence


@dataclass(frozen=True)
class Config:
    data: str = setting("digits", "digits (scikit-learn's 0-9, 8x8) or path/to/sequence.npy (one pattern per row)")
    capacity: int = setting(64, "cells (hidden units) of the learner", minimum=1)
    beta: float = setting(1000.0, "bottom-up sharpness of the learner's settle", positive=True)
    theta: float = setting(0.9, "cosine that counts as the same item (surprise and decoding)", positive=True)
    replay_beta: float = setting(10.0, "inverse temperature β of the continuous-time replay", positive=True)
    T_d: float = setting(0.5, "trace time constant of the continuous-time replay (sets the dwell)", positive=True)
    gamma: float = setting(1.5, "context coupling γ of the continuous-time replay (linear drive)", positive=True)
    recall_dt: float = setting(0.01, "replay integration step", positive=True)
    recall_time: float = setting(4.0, "continuous replay duration per item", positive=True)
    record_every: int = setting(10, "record every k steps", minimum=1)


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
    t0 = time.perf_counter()
    X, desc = load_sequence(cfg.data)                     # (L, N)
    L, N = X.shape
    if cfg.capacity < L:
        raise ValueError(f"capacity={cfg.capacity} cells cannot hold {L} items; use --set capacity={L} or more")
    max_cos = max_pairwise_cosine(X)
    if max_cos > 1.0 - 20.0 / cfg.beta:
        ctx.log(f"warning: two patterns of {desc} have cosine {max_cos:.3f}; beta={cfg.beta:g} separates items only "
                f"up to cosine {1 - 20 / cfg.beta:.3f}. Raise --set beta= (or make the patterns less alike)")
    lrn = StreamLearner(N, capacity=cfg.capacity, beta=cfg.beta, theta=cfg.theta, dtype=torch.float64)
    out = lrn.run(X[:, None], progress=ctx.progress_flag("streaming"))     # one pass: each item shown once
    t_learn = time.perf_counter() - t0
    rep = lrn.replay(X[:1], L - 1)[:, 0]                                    # discrete replay from the cue
    Xn = X / X.norm(dim=1, keepdim=True)
    order = [0] + [int((r @ Xn.T).argmax()) if r.abs().sum() > 0 else -1 for r in rep]
    correct = order == list(range(L))

    used = lrn.used[0].nonzero().flatten()
    xi = lrn.xi[0, used]                                                    # (L', N) learned cell patterns
    phi = lrn.phi[0][used][:, used]
    units = memory_coords(xi.T, X.T).tolist()
    # the replay network sees the patterns centred (their mean removed), which decorrelates alike items such
    # as digits: the dwell on an item grows with how different the next item is
    mu = xi.mean(0, keepdim=True)
    net = ContextGSEMM(xi - mu, phi, beta=cfg.replay_beta, T_f=0.1, T_h=0.05, T_d=cfg.T_d, drive="linear",
                       gamma=cfg.gamma)
    steps = int(math.ceil(L * cfg.recall_time / cfg.recall_dt))
    tr = net.simulate(X[:1] - mu, steps=steps, dt=cfg.recall_dt, cue_steps=int(1.0 / cfg.recall_dt),
                      record_every=cfg.record_every)
    ov = tr.overlaps[:, 0][:, units]                                       # (R, L) overlap with each item's cell
    item_of = {u: k for k, u in enumerate(units)}
    visits = [item_of.get(int(c), -1) for c in torch.unique_consecutive(tr.cell[:, 0])]
    energy_correct = visits[:L] == list(range(L))
    wall = time.perf_counter() - t0
    _figures(ctx, X, xi, units, phi, tr.t, ov, tr.energy[:, 0])
    return {
        "recall_correct": bool(correct),
        "recall_order": order,
        "energy_replay_order": visits,
        "energy_replay_correct": bool(energy_correct),
        "presentations": L,
        "items": L,
        "N": N,
        "cells_used": int(lrn.cells_used[0]),
        "capacity": cfg.capacity,
        "data": desc,
        "max_pattern_cosine": max_cos,
        "mean_surprise": float(out.surprise.mean()),
        "learn_seconds": round(t_learn, 3),
        "wall_seconds": round(wall, 2),
        "summary": (f"learned {desc} in one pass ({L} presentations); cued with item 0 it replays {order} — "
                    f"{'the whole sequence in order' if correct else 'NOT the taught order'}; the energy "
                    f"network's free dynamics visit {visits[:2 * L]} ({wall:.1f} s)"),
    }


def _figures(ctx, X, xi, units, phi, t, ov, energy):
    plt = pyplot()
    L, N = X.shape
    side = int(round(math.sqrt(N)))
    if side * side == N:
        fig, axes = plt.subplots(2, L, figsize=(1.1 * L, 3.0), squeeze=False)
        for k in range(L):
            axes[0, k].imshow(X[k].reshape(side, side).numpy(), cmap="gray_r", vmin=-1, vmax=1)
            axes[1, k].imshow(xi[units[k]].reshape(side, side).numpy(), cmap="gray_r")
            axes[0, k].set_title(f"item {k}", fontsize=7)
            axes[1, k].set_title(f"ξ cell {units[k]}", fontsize=7)
            for a in axes[:, k]:
                a.set_xticks([])
                a.set_yticks([])
        fig.suptitle("presented items, each shown once (top), and the cells Ξ imprinted for them (bottom)", fontsize=9)
        fig.tight_layout()
        ctx.save_figure(fig, "xi_images")
    fig, ax = plt.subplots(figsize=(4.6, 4))
    im = ax.imshow(phi[units][:, units].T.numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_title("Φ in item order (from row to column)")
    ax.set_xlabel("to item")
    ax.set_ylabel("from item")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    ctx.save_figure(fig, "phi")
    cmap = plt.get_cmap("tab10" if L <= 10 else "tab20")
    fig, (b0, b1) = plt.subplots(2, 1, figsize=(10, 4.6), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    for k in range(L):
        b0.plot(t.numpy(), ov[:, k].numpy(), color=cmap(k % cmap.N), lw=1, label=str(k))
    b0.set_ylabel("overlap with item's cell")
    b0.set_title("free replay of the context GSEMM energy network, cued with item 0")
    b0.legend(ncol=min(L, 10), fontsize=6, loc="lower right")
    b1.plot(t.numpy(), energy.numpy(), color="k", lw=0.8)
    b1.set_ylabel("energy E")
    b1.set_xlabel("time")
    fig.tight_layout()
    ctx.save_figure(fig, "overlaps_energy_recall")


EXPERIMENT = Experiment(
    Config, run,
    "stream the digits 0-9 (or --set data=seq.npy) once into a context GSEMM, then cue it and replay",
    quick=("recall_time=3.0",),
    threads=1,  # small per-step tensors: one intra-op thread is fastest
)
