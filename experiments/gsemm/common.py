"""Shared pieces of the GSEMM experiments: pattern sets, Φ graphs by name, dtype parsing, plots."""
from __future__ import annotations

import torch

from networks.gsemm import chain, cycle, cycles, from_edges, hadamard_patterns, load_patterns, random_patterns

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def make_patterns(kind: str, N: int, P: int, *, generator: torch.Generator, dtype, device) -> torch.Tensor:
    """``random`` (±1), ``hadamard`` (orthogonal ±1, N a power of two) or a path to a ``.npy`` file
    (one pattern per row; N and P are then taken from the file)."""
    if kind == "random":
        return random_patterns(N, P, generator=generator, dtype=dtype, device=device)
    if kind == "hadamard":
        return hadamard_patterns(N, P, dtype=dtype, device=device)
    if kind.endswith(".npy"):
        return load_patterns(kind, dtype=dtype, device=device)
    raise ValueError(f"patterns={kind!r}: use 'random', 'hadamard' or a path to a .npy file")


def make_graph(spec: str, P: int, *, dtype, device) -> torch.Tensor:
    """Φ from a name: ``cycle``, ``chain``, ``notebook`` (0→1→2→0 and 3→4→…→P−1→3, the authors' DSEM
    graph) or an edge list such as ``"0-1,1-2,2-0"``."""
    kw = dict(dtype=dtype, device=device)
    if spec == "cycle":
        return cycle(P, **kw)
    if spec == "chain":
        return chain(P, **kw)
    if spec == "notebook":
        if P < 6:
            raise ValueError("graph=notebook needs P >= 6 (two cycles 0-1-2 and 3..P-1)")
        return cycles([0, 1, 2], list(range(3, P)), P=P, **kw)
    try:
        edges = [tuple(int(x) for x in e.split("-")) for e in spec.split(",") if e.strip()]
    except ValueError:
        raise ValueError(f"graph={spec!r}: use cycle, chain, notebook or edges like 0-1,1-2") from None
    return from_edges(P, edges, **kw)


def plot_overlaps_energy(t, overlaps, energy, title: str, labels=None):
    """Figure: overlaps of every memory over time (top) and the energy (bottom)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a0, a1) = plt.subplots(2, 1, figsize=(9, 5), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    P = overlaps.shape[-1]
    cmap = plt.get_cmap("tab20" if P > 10 else "tab10")
    for mu in range(P):
        a0.plot(t, overlaps[:, mu], color=cmap(mu % cmap.N), lw=1.2, label=f"ξ{mu}" if P <= 12 else None)
    a0.set_ylabel("overlap  ξ·v / N")
    a0.set_title(title)
    if P <= 12:
        a0.legend(ncol=min(P, 7), fontsize=7, loc="upper right")
    if energy is not None:
        a1.plot(t, energy, color="k", lw=1)
    a1.set_ylabel("energy E")
    a1.set_xlabel("time (units of T_f)")
    fig.tight_layout()
    return fig
