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

from plasticity.rule import check_time_constant

from .patterns import _count


def _check_labels(name: str, labels) -> None:
    if not isinstance(labels, Tensor) or labels.dim() != 1:
        raise ValueError(f"{name} takes one stream of labels, a 1-D tensor; got "
                         f"{tuple(labels.shape) if isinstance(labels, Tensor) else type(labels).__name__}")


def argmax_labels(overlaps: Tensor) -> Tensor:
    r"""Labels ``argmax_μ m_μ`` over the last axis: ``(T, P) -> (T,)`` or ``(T, B, P) -> (T, B)``.

    :math:`\ell(t) = \arg\max_μ m_μ(t)` (ties go to the lowest index).

    >>> import torch
    >>> argmax_labels(torch.tensor([[0.9, 0.1], [0.2, 0.7], [0.5, 0.5]])).tolist()
    [0, 1, 0]
    """
    if not isinstance(overlaps, Tensor) or overlaps.dim() < 1 or overlaps.shape[-1] == 0:
        raise ValueError("overlaps must be a tensor (..., P) with P >= 1 memories, got "
                         f"{tuple(overlaps.shape) if isinstance(overlaps, Tensor) else type(overlaps).__name__}")
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
    following one). ``labels`` is 1-D (one stream); ``min_dwell`` an integer >= 1 (1: no smoothing).

    Removes blips such as the mixture state crossed during a transition; the output has the same
    length as the input.

    >>> import torch
    >>> smooth_labels(torch.tensor([0, 0, 0, 2, 1, 1, 1]), min_dwell=2).tolist()
    [0, 0, 0, 0, 1, 1, 1]
    """
    _check_labels("smooth_labels", labels)
    min_dwell = _count("min_dwell (samples; 1 = no smoothing)", min_dwell)
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
    """The sequence of visited memories (consecutive repeats collapsed); ``labels`` is 1-D.

    >>> import torch
    >>> decoded_order(torch.tensor([3, 3, 1, 1, 1, 3]))
    [3, 1, 3]
    """
    _check_labels("decoded_order", labels)
    return [r[0] for r in _runs(labels)]


def transitions(labels: Tensor) -> list[tuple[int, int, int]]:
    """``(sample_index, from, to)`` for every change of label; ``sample_index`` is the first sample
    with the new label. ``labels`` is 1-D.

    >>> import torch
    >>> transitions(torch.tensor([0, 0, 1, 1, 1, 2]))
    [(2, 0, 1), (5, 1, 2)]
    """
    _check_labels("transitions", labels)
    runs = _runs(labels)
    return [(runs[i][1], runs[i - 1][0], runs[i][0]) for i in range(1, len(runs))]


def dwell_times(labels: Tensor, sample_dt: float, *, drop_edges: bool = True) -> Tensor:
    r"""Durations (in time units) of the visits; by default the first and last (censored) visits are
    dropped.

    A visit of n consecutive samples lasts :math:`n\,Δt_s` with ``sample_dt`` :math:`Δt_s` the time
    between samples (``dt * record_every`` of :func:`~networks.gsemm.integrate.simulate`), which must
    be positive and finite. Returns a float64 tensor (empty when there are fewer than three visits and
    ``drop_edges``).

    >>> import torch
    >>> dwell_times(torch.tensor([0, 0, 1, 1, 1, 2, 2, 2, 2, 0]), 0.5)
    tensor([1.5000, 2.0000], dtype=torch.float64)
    """
    _check_labels("dwell_times", labels)
    sample_dt = check_time_constant("sample_dt (time between samples, e.g. dt * record_every)", sample_dt)
    runs = _runs(labels)
    if drop_edges:
        runs = runs[1:-1]
    return torch.tensor([r[2] * sample_dt for r in runs], dtype=torch.float64)


def order_follows_graph(order: list[int], phi: Tensor) -> bool:
    """True when every decoded transition μ → ν is an edge of Φ (``Φ[μ, ν] > 0``).

    ``phi`` is one ``(P, P)`` graph and every label in ``order`` must be a memory index in ``[0, P)``
    (ValueError otherwise). An order with fewer than two items is trivially True.

    >>> from networks.gsemm import cycle
    >>> order_follows_graph([0, 1, 2, 0], cycle(3)), order_follows_graph([0, 2], cycle(3))
    (True, False)
    """
    if not isinstance(phi, Tensor) or phi.dim() != 2 or phi.shape[0] != phi.shape[1]:
        raise ValueError("phi must be one (P, P) transition graph, got "
                         f"{tuple(phi.shape) if isinstance(phi, Tensor) else type(phi).__name__}")
    bad = [m for m in order if not 0 <= int(m) < phi.shape[0]]
    if bad:
        raise ValueError(f"order holds labels {bad} outside [0, {phi.shape[0]}) for a {phi.shape[0]}-memory phi")
    return all(bool(phi[a, b] > 0) for a, b in zip(order[:-1], order[1:]))


@dataclass
class Decoded:
    r"""Summary of one stream, as returned by :func:`decode`.

    Fields:

    * ``labels`` — (T,) int64, the smoothed argmax labels :math:`\ell(t)` (CPU);
    * ``order`` — list of the visited memories, consecutive repeats collapsed (:func:`decoded_order`);
    * ``transitions`` — number of changes of memory, ``len(order) − 1``;
    * ``dwell`` — float64 durations (time units) of the complete visits, i.e. without the first and
      the last (censored) visit (:func:`dwell_times`);
    * ``mean_dwell`` — ``dwell.mean()``, nan when there is no complete visit.

    >>> import torch
    >>> d = Decoded(torch.tensor([0, 1, 1, 0]), [0, 1, 0], 2, torch.tensor([0.2], dtype=torch.float64), 0.2)
    >>> d.order, d.transitions
    ([0, 1, 0], 2)
    """

    labels: Tensor
    order: list
    transitions: int
    dwell: Tensor
    mean_dwell: float


def decode(overlaps: Tensor, sample_dt: float, *, min_dwell: int = 1) -> Decoded:
    r"""Decode one stream's overlaps ``(T, P)`` into labels, order, transitions and dwell times.

    Steps: labels :math:`\ell(t) = \arg\max_μ m_μ(t)` (:func:`argmax_labels`); runs shorter than
    ``min_dwell`` samples merged into their neighbours (:func:`smooth_labels`; 1 = keep every run);
    then the visited ``order``, the number of ``transitions`` and the ``dwell`` times of the complete
    visits, :math:`n\,Δt_s` for a run of n samples (first and last visit dropped as censored).

    Parameters: ``overlaps`` — one stream, ``(T, P)`` (index a batch first: ``traj.overlaps[:, b]``);
    ``sample_dt`` — time between two samples, ``dt * record_every`` of the simulation, positive and
    finite (it only scales ``dwell``/``mean_dwell``); ``min_dwell`` — integer >= 1, in samples.
    Returns a :class:`Decoded`. Bad arguments raise a ValueError naming them.

    >>> import torch
    >>> ov = torch.tensor([[.9, .1, 0.], [.8, .2, 0.], [.3, .3, .4], [.1, .9, 0.], [.4, .5, .3],
    ...                    [.2, .8, 0.], [0., .1, .9], [0., .2, .8]])
    >>> decode(ov, sample_dt=0.5).order       # labels 0 0 2 1 1 1 2 2: the single 2 is a blip
    [0, 2, 1, 2]
    >>> d = decode(ov, sample_dt=0.5, min_dwell=2)
    >>> d.labels.tolist(), d.order, d.transitions, d.dwell.tolist(), d.mean_dwell
    ([0, 0, 0, 1, 1, 1, 2, 2], [0, 1, 2], 2, [1.5], 1.5)
    """
    if not isinstance(overlaps, Tensor):
        raise ValueError(f"overlaps must be a tensor (T, P), got {type(overlaps).__name__}")
    sample_dt = check_time_constant("sample_dt (time between samples, e.g. dt * record_every)", sample_dt)
    min_dwell = _count("min_dwell (samples; 1 = no smoothing)", min_dwell)
    if overlaps.dim() != 2:
        raise ValueError(f"decode takes one stream's overlaps (T, P); got {tuple(overlaps.shape)} "
                         "(index the batch axis first, e.g. traj.overlaps[:, b])")
    labels = smooth_labels(argmax_labels(overlaps).cpu(), min_dwell)
    order = decoded_order(labels)
    dw = dwell_times(labels, sample_dt)
    mean = float(dw.mean()) if dw.numel() else float("nan")
    return Decoded(labels, order, len(order) - 1, dw, mean)


def memory_cosines(xi: Tensor, X: Tensor) -> Tensor:
    r"""Cosine of every pattern with every stored memory, :math:`\cos(x^{(k)}, ξ_μ)`: ``xi`` (…, N, P) (memories as
    columns, as in a network's Ξ) and ``X`` (…, N, L) (patterns as columns) give (…, L, P); leading (stream)
    dimensions are broadcast.

    >>> xi = torch.tensor([[1., 0.], [0., 2.]], dtype=torch.float64)            # N = 2, P = 2
    >>> memory_cosines(xi, torch.tensor([[3., 1.], [3., 0.]], dtype=torch.float64)).round(decimals=3).tolist()
    [[0.707, 0.707], [1.0, 0.0]]
    """
    if xi.dim() < 2 or X.dim() < 2 or xi.shape[-2] != X.shape[-2]:
        raise ValueError(f"xi (..., N, P) and X (..., N, L) need the same N; got {tuple(xi.shape)}, {tuple(X.shape)}")
    dot = X.transpose(-1, -2) @ xi                                             # (..., L, P)
    return dot / (X.norm(dim=-2).unsqueeze(-1) * xi.norm(dim=-2).unsqueeze(-2) + 1e-12)


def memory_coords(xi: Tensor, X: Tensor) -> Tensor:
    r"""The hidden unit (memory) that stores each pattern after learning, :math:`u_k = \arg\max_μ \cos(x^{(k)}, ξ_μ)`
    (:func:`memory_cosines`): ``xi`` (…, N, P), ``X`` (…, N, L) give (…, L). Φ in memory coordinates is
    ``phi[u][:, u]``: a learned sequence shows as its super-diagonal.

    >>> memory_coords(torch.eye(3)[None], torch.eye(3)[None, :, [2, 0, 1]]).tolist()
    [[2, 0, 1]]
    """
    return memory_cosines(xi, X).argmax(-1)
