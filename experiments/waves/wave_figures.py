"""Figures shared by `wave_copy` and `wave_adding`: loss curves and hidden activity (time × neuron)."""
from __future__ import annotations

from ..context import pyplot


def loss_figure(curves: dict, ylabel: str, solved_level: float | None = None):
    """Training loss of each model on a log scale."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for name, vals in curves.items():
        ax.semilogy(vals, lw=0.8, label=name)
    if solved_level is not None:
        ax.axhline(solved_level, color="0.5", ls="--", lw=0.8, label=f"solved ({solved_level:g})")
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    return fig


def activity_figure(panels: dict, title: str):
    """One (time × neuron) image per model; a traveling wave shows as diagonal stripes."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2))
    axes = [axes] if len(panels) == 1 else axes
    for ax, (name, (act, power)) in zip(axes, panels.items()):
        ax.imshow(act.T.detach().cpu().numpy(), aspect="auto", cmap="viridis", interpolation="nearest")
        ax.set_xlabel("time step")
        ax.set_ylabel("neuron")
        ax.set_title(f"{name}: FFT diagonal power {power:.1f}", fontsize=8)
    fig.suptitle(title, fontsize=9)
    return fig
