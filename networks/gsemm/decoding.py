"""Decoding recorded overlaps into memory sequences.

The memory visited at sample t is :math:`\\arg\\max_μ m_μ(t)` of the Mattis overlaps
:math:`m_μ = ξ^{(μ)}·v/N`. Short excursions ("blips", e.g. the mixture state during a transition)
are removed by merging runs shorter than ``min_dwell`` samples into their neighbours.

Example
-------
>>> import torch
>>> labels = torch.tensor([0, 0, 0, 2, 1, 1, 1, 1, 0, 0, 0])
>>> smooth_labels(labels, min_dwell=2).tolist()
[0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0]
>>> decoded_order(smooth_labels(labels, min_dwell=2))
[0, 1, 0]
>>> order_follows_graph([0, 1, 0], torch.tensor([[0., 1.], [1., 0.]]))
True
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


def argmax_labels(overlaps: Tensor) -> Tensor:
    """Labels ``argmax_μ m_μ`` over the last axis: ``(T, P) -> (T,)`` or ``(T, B, P) -> (T, B)``."""
    return overlaps.argmax(dim=-1)


def _runs(labels: Tensor):
    lab = labels.tolist()
    runs = []  # [label, start, length]
    for i, x in enumerate(lab):
        if runs and runs[-1][0] == x:
            runs[-1][2] += 1
        else:
            runs.append([x, i, 1])
    return runs


def smooth_labels(labels: Tensor, min_dwell: int = 1) -> Tensor:
    """Merge runs shorter than ``min_dwell`` samples into the preceding run (the first run into the
    following one). ``labels`` is 1-D (one stream)."""
    if labels.dim() != 1:
        raise ValueError(f"smooth_labels takes one stream, a 1-D tensor; got shape {tuple(labels.shape)}")
    if min_dwell <= 1 or labels.numel() == 0:
        return labels.clone()
    runs = _runs(labels)
    out = []
    for r in runs:
        if r[2] < min_dwell and out:
            out[-1][2] += r[2]
        elif out and out[-1][0] == r[0]:
            out[-1][2] += r[2]
        else:
            out.append(list(r))
    if len(out) > 1 and out[0][2] < min_dwell:
        out[1][2] += out[0][2]
        out = out[1:]
    res = torch.empty_like(labels)
    pos = 0
    for lab, _, n in out:
        res[pos:pos + n] = lab
        pos += n
    return res


def decoded_order(labels: Tensor) -> list[int]:
    """The sequence of visited memories (consecutive repeats collapsed)."""
    return [r[0] for r in _runs(labels)]


def transitions(labels: Tensor) -> list[tuple[int, int, int]]:
    """``(sample_index, from, to)`` for every change of label."""
    runs = _runs(labels)
    return [(runs[i][1], runs[i - 1][0], runs[i][0]) for i in range(1, len(runs))]


def dwell_times(labels: Tensor, sample_dt: float, *, drop_edges: bool = True) -> Tensor:
    """Durations (in time units) of the visits; by default the first and last (censored) visits are
    dropped."""
    runs = _runs(labels)
    if drop_edges:
        runs = runs[1:-1]
    return torch.tensor([r[2] * sample_dt for r in runs], dtype=torch.float64)


def order_follows_graph(order: list[int], phi: Tensor) -> bool:
    """True when every decoded transition μ → ν is an edge of Φ (``Φ[μ, ν] > 0``)."""
    return all(bool(phi[a, b] > 0) for a, b in zip(order[:-1], order[1:]))


@dataclass
class Decoded:
    """Summary of one stream: ``labels`` (smoothed), ``order``, ``transitions`` count, ``dwell``
    times, ``mean_dwell`` (nan when fewer than one complete visit)."""

    labels: Tensor
    order: list
    transitions: int
    dwell: Tensor
    mean_dwell: float


def decode(overlaps: Tensor, sample_dt: float, *, min_dwell: int = 1) -> Decoded:
    """Decode one stream's overlaps ``(T, P)`` into labels, order, transitions and dwell times."""
    if overlaps.dim() != 2:
        raise ValueError(f"decode takes one stream's overlaps (T, P); got {tuple(overlaps.shape)} "
                         "(index the batch axis first, e.g. traj.overlaps[:, b])")
    labels = smooth_labels(argmax_labels(overlaps).cpu(), min_dwell)
    order = decoded_order(labels)
    dw = dwell_times(labels, sample_dt)
    mean = float(dw.mean()) if dw.numel() else float("nan")
    return Decoded(labels, order, len(order) - 1, dw, mean)
