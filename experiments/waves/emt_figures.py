"""Figures of the `emt` experiment (matplotlib, imported on first use through :func:`experiments.context.pyplot`)."""
from __future__ import annotations

import math

import torch

from ..context import pyplot


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t


def spectrum_figure(res: dict, title: str):
    """Eigenvalues of W_hh over the eigenvalues of Φ, with the unit circle."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    th = torch.linspace(0, 2 * math.pi, 200)
    ax.plot(_np(th.cos()), _np(th.sin()), color="0.7", lw=1)
    ew, ep = res["_eig_W"], res["_eig_phi"]
    ax.scatter(_np(ep.real), _np(ep.imag), s=60, facecolors="none", edgecolors="tab:red", label="Φ (theory)")
    ax.scatter(_np(ew.real), _np(ew.imag), s=8, color="tab:blue", label="W_hh (trained)")
    ax.set_aspect("equal")
    ax.set_title(f"{title}\n{res['eig_count']} eigenvalues |λ|>0.8, spectral error {res['spectral_error']:.2e} rad",
                 fontsize=8)
    ax.legend(fontsize=7, loc="lower left")
    return fig


def basis_matrix_figure(res: dict, s: int, title: str):
    """Ψ⁺ W_hh Ψ as an image (shift blocks appear as identity blocks)."""
    plt = pyplot()
    A = res["_W_basis"]
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    lim = float(A.abs().quantile(0.995).clamp_min(1e-6))
    im = ax.imshow(_np(A), cmap="RdBu_r", vmin=-lim, vmax=lim)
    n = A.shape[0]
    for k in range(1, s):
        ax.axhline(k * n / s - 0.5, color="0.6", lw=0.4)
        ax.axvline(k * n / s - 0.5, color="0.6", lw=0.4)
    ax.set_title(f"W_hh in the wave basis (Ψ⁺WΨ)\n{title}", fontsize=8)
    fig.colorbar(im, ax=ax, shrink=0.8)
    return fig


def wave_figure(res: dict, s: int, title: str, frames: int = 12):
    """Ψ*h(t) as an s×d grid for consecutive t: the stored variables travel one block per step."""
    plt = pyplot()
    z = res["_z"]
    t0 = max(0, s - 2)
    frames = min(frames, z.shape[0] - t0)
    fig, axes = plt.subplots(1, frames, figsize=(1.3 * frames, 2.2))
    lim = float(z.abs().quantile(0.99).clamp_min(1e-6))
    for j, ax in enumerate(axes):
        ax.imshow(_np(z[t0 + j]), cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(f"t={t0 + j}", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].set_ylabel("block (oldest→newest)", fontsize=6)
    fig.suptitle(f"Ψ*h(t) (rows: s blocks, cols: d dims); wave-shift score {res['wave_shift_score']:.3f} — {title}",
                 fontsize=8)
    return fig


def training_figure(runs: list[dict]):
    """Training loss and bit accuracy of every run."""
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.2))
    for r in runs:
        lab = f"{r['task']} L2={r['l2']:g}" + (f" s{r['seed']}" if "seed" in r else "")
        st, lo = zip(*r["history"]["loss"])
        a1.semilogy(st, lo, label=lab, lw=1)
        st, ac = zip(*r["history"]["acc"])
        a2.plot(st, ac, label=lab, lw=1)
    a1.set_xlabel("step")
    a1.set_ylabel("train MSE")
    a2.set_xlabel("step")
    a2.set_ylabel("train bit accuracy")
    a2.legend(fontsize=6)
    return fig


def table_figure(cells: list[dict]):
    """Test bit accuracy at the test horizon per task and L2 (the EMT-table pattern).

    ``cells`` are :func:`experiments.waves.emt.aggregate_cells` rows: solid bars are the mean over seeds of the
    final model's accuracy, hatched bars (when checkpoints were taken) the mean of each seed's best kept
    checkpoint (the paper's statistic).
    """
    plt = pyplot()
    tasks = sorted({c["task"] for c in cells}, key=[c["task"] for c in cells].index)
    l2s = sorted({c["l2"] for c in cells})
    has_best = any(c.get("test_acc_best_ckpt_mean") is not None for c in cells)
    fig, ax = plt.subplots(figsize=(1.8 + 1.6 * len(tasks), 3))
    w = 0.8 / max(len(l2s), 1)

    def val(t, l2, key):
        v = next((c.get(key) for c in cells if c["task"] == t and c["l2"] == l2), None)
        return float("nan") if v is None else v

    for j, l2 in enumerate(l2s):
        xs = [i + j * w for i in range(len(tasks))]
        bars = ax.bar(xs, [val(t, l2, "test_acc_mean") for t in tasks], width=w * (0.5 if has_best else 1),
                      label=f"L2={l2:g}", align="edge" if has_best else "center")
        if has_best:
            ax.bar([x + w * 0.5 for x in xs], [val(t, l2, "test_acc_best_ckpt_mean") for t in tasks], width=w * 0.5,
                   align="edge", color=bars[0].get_facecolor(), alpha=0.5, hatch="//")
    ax.axhline(0.5, color="0.5", ls="--", lw=0.8)
    ax.axhline(0.94, color="tab:green", ls=":", lw=0.8)
    ax.set_xticks([i + w * (len(l2s) - 1) / 2 + (w / 2 if has_best else 0) for i in range(len(tasks))], tasks,
                  fontsize=7)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("test bit accuracy (mean over seeds)")
    ax.set_title("solid: final model; hatched: best of the kept checkpoints" if has_best else "final model",
                 fontsize=7)
    ax.legend(fontsize=7)
    return fig
