"""``continuous``: continuous online sequence learning on one pass over a stream (Cui, Ahmad & Hawkins 2016).

Default: the discrete high-order task of Cui et al. (2016) — 8 sequences over 10 symbols (permuted per seed),
one noise symbol from a pool of 5,000 after each sequence, the endings swapped at element 10,000, 20,000
elements, 10 seeds (:mod:`experiments.continuous.task`). Every contender sees each element once, in a stream
without epochs, resets or boundaries, and predicts the next element all the time; the score is the top-1
prediction of the last element of each sequence (decoded by overlap among the 10 symbols and the 5,000 noise
patterns), as a moving average over the last 100 scored sequences.

Contenders (all seeds in one batch, measured in the same run):

* ``gsemm`` — :class:`networks.gsemm.streaming.StreamLearner` (context GSEMM, local one-shot imprinting);
* ``lstm_online`` — an LSTM adapted online by truncated BPTT (the paper's LSTM-online);
* ``lstm_3000`` — an LSTM retrained every 1,000 elements on the last 3,000 (the paper's LSTM-3000).

After the stream, free replay: each sequence of the final (swapped) set is cued with its first two elements
(the first element alone starts two sequences by construction) and must be replayed to the end with the
right, context-dependent ending (``replay_accuracy``; ``gsemm`` only).

``--set data=PATH.npy`` streams your own ``(T, N)`` array (one element per row) into the GSEMM learner instead:
``predictions.npy`` ``(T, N)`` float32 holds in row t the prediction of element t+1 made after elements 0..t
(learning on; the last row predicts past the end), and the report gives next-element accuracy (the nearest
distinct row of your data to the prediction is the true next row).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from networks.gsemm.patterns import read_array
from networks.gsemm.streaming import StreamLearner

from ..config import setting
from ..context import pyplot
from ..registry import Experiment
from ..threads import ThreadSettings
from .task import cui_stream, elements_to_criterion, moving_accuracy, recovery_elements

CONTENDERS = ("gsemm", "lstm_online", "lstm_3000")

#: published HTM figures read off Cui et al. (2016) Fig. 4 (../shared/research/online_peers.md §1.1)
HTM_PUBLISHED = {"elements_to_criterion": 6000, "recovery_elements": 3500, "accuracy_before_switch": 1.00}


@dataclass(frozen=True)
class Config(ThreadSettings):
    data: str = setting("cui", "cui (the Cui et al. 2016 task) or path/to/stream.npy (T, N), one element per row")
    seeds: int = setting(10, "independent streams (seeds seed..seed+seeds-1), run as one batch", minimum=1)
    elements: int = setting(20_000, "stream length", minimum=20)
    switch: int = setting(10_000, "element at which the sequence endings are swapped", minimum=0)
    noise_pool: int = setting(5_000, "noise symbols to draw from", minimum=1)
    N: int = setting(100, "pattern width (random ±1 patterns)", minimum=2)
    window: int = setting(100, "moving-average window in scored sequences", minimum=1)
    contenders: str = setting("gsemm,lstm_online,lstm_3000", "comma-separated subset of " + ", ".join(CONTENDERS))
    capacity: int = setting(512, "GSEMM cells per stream (memory budget)", minimum=1)
    beta: float = setting(1000.0, "GSEMM bottom-up sharpness", positive=True)
    theta: float = setting(0.9, "GSEMM cosine that counts as the same item", positive=True)
    recency: float = setting(20.0, "GSEMM recency time constant of the prediction (elements)", positive=True)
    lstm_hidden: int = setting(0, "LSTM hidden units (0: each LSTM's tuned default, 100 online / 50 retrained)",
                               minimum=0)
    chunk: int = setting(1000, "elements per chunk (progress and memory)", minimum=1)


def _contenders(cfg: Config) -> list[str]:
    names = [c.strip() for c in cfg.contenders.split(",") if c.strip()]
    bad = [c for c in names if c not in CONTENDERS]
    if bad or not names:
        raise ValueError(f"contenders={cfg.contenders!r}: choose from {', '.join(CONTENDERS)}")
    return list(dict.fromkeys(names))


def run(cfg: Config, ctx) -> dict:
    if cfg.data == "cui":
        return _run_cui(cfg, ctx)
    return _run_file(cfg, ctx)


def _learner(cfg: Config, N: int, batch: int) -> StreamLearner:
    return StreamLearner(N, capacity=cfg.capacity, batch=batch, beta=cfg.beta, theta=cfg.theta,
                         recency=cfg.recency)


def _make(name: str, cfg: Config, S: int, N: int, seed: int):
    if name == "gsemm":
        return _learner(cfg, N, S)
    from .lstm import OnlineLSTM, RetrainLSTM
    g = torch.Generator().manual_seed(seed + 7)
    kw = {"hidden": cfg.lstm_hidden} if cfg.lstm_hidden else {}
    if name == "lstm_online":
        return OnlineLSTM(S, N, generator=g, **kw)
    return RetrainLSTM(S, N, every=1000, history=3000, generator=g, **kw)


def _stream_predictions(model, X: torch.Tensor, wanted: list[np.ndarray], chunk: int, bar) -> list[torch.Tensor]:
    """Feed X (T, S, N); return for each stream s the predictions made at the positions wanted[s]."""
    T, S, _ = X.shape
    keep = [[] for _ in range(S)]
    for t0 in range(0, T, chunk):
        xs = X[t0:t0 + chunk]
        if isinstance(model, StreamLearner):
            P = model.run(xs).prediction
        else:
            P = torch.stack([model.step(x) for x in xs])
        for s in range(S):
            w = wanted[s]
            sel = w[(w >= t0) & (w < t0 + len(xs))] - t0
            keep[s].append(P[torch.as_tensor(sel, dtype=torch.long), s])
        bar.update(len(xs))
    return [torch.cat(k) for k in keep]


def _curve_grid(curves, ats, elements: int, step: int = 100) -> dict:
    grid = np.arange(step, elements + 1, step)
    rows = []
    for c, a in zip(curves, ats):
        idx = np.searchsorted(a, grid, side="right") - 1
        v = np.where(idx >= 0, c[np.clip(idx, 0, None)], np.nan)
        rows.append(v)
    m = np.array(rows)
    import warnings
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {"elements": grid.tolist(), "mean": _nanlist(np.nanmean(m, 0)), "min": _nanlist(np.nanmin(m, 0)),
                "max": _nanlist(np.nanmax(m, 0))}


def _nanlist(a) -> list:
    return [None if not np.isfinite(x) else round(float(x), 4) for x in a]


def _summary(vals: list) -> dict:
    """Per-seed values with their median and max, a seed that never got there (None) counting as +inf: the
    median is None only when half the seeds or more never got there.

    >>> _summary([3, None, 1])["median"], _summary([3, None, None])["median"]
    (3.0, None)
    """
    got = [v for v in vals if v is not None]
    x = np.array([np.inf if v is None else v for v in vals], dtype=float)
    med = float(np.median(x)) if len(x) else None
    return {"per_seed": vals, "median": med if med is not None and np.isfinite(med) else None,
            "max": max(got) if len(got) == len(vals) and got else None, "reached": f"{len(got)}/{len(vals)}"}


def _run_cui(cfg: Config, ctx) -> dict:
    names = _contenders(cfg)
    if cfg.switch >= cfg.elements:
        raise ValueError(f"switch={cfg.switch} must be below elements={cfg.elements}")
    seeds = list(range(ctx.seed, ctx.seed + cfg.seeds))
    streams = [cui_stream(s, elements=cfg.elements, switch=cfg.switch, noise_pool=cfg.noise_pool, N=cfg.N)
               for s in seeds]
    X = torch.stack([torch.tensor(st.patterns[st.ids], dtype=torch.float32) for st in streams], 1)   # (T, S, N)
    S = len(streams)
    wanted = [st.scored - 1 for st in streams]           # predictions made while the penultimate element is shown
    models, per_model = {}, {}
    for name in names:
        model = _make(name, cfg, S, cfg.N, ctx.seed)
        bar = ctx.progress(total=cfg.elements, desc=name)
        t0 = time.perf_counter()
        preds = _stream_predictions(model, X, wanted, cfg.chunk, bar)
        secs = time.perf_counter() - t0
        bar.close()
        curves, ats, crit, rec, before, final = [], [], [], [], [], []
        for st, pr in zip(streams, preds):
            P = torch.tensor(st.patterns, dtype=torch.float32)
            correct = ((pr @ P.T).argmax(-1).numpy() == st.target)
            c = moving_accuracy(correct, cfg.window)
            curves.append(c)
            ats.append(st.scored)
            crit.append(elements_to_criterion(c, st.scored, until=cfg.switch))
            rec.append(recovery_elements(c, st.scored, switch=cfg.switch))
            pre = c[st.scored < cfg.switch]
            before.append(float(pre[-1]) if pre.size and np.isfinite(pre[-1]) else None)
            final.append(float(c[-1]) if np.isfinite(c[-1]) else None)
        per_model[name] = {
            "accuracy_curve": _curve_grid(curves, ats, cfg.elements),
            "accuracy_before_switch": _summary(before) | {"mean": _mean(before)},
            "accuracy_final": _summary(final) | {"mean": _mean(final)},
            "elements_to_criterion": _summary(crit),
            "recovery_elements": _summary(rec),
            "seconds": round(secs, 2),
            "elements_per_second_batched": round(S * cfg.elements / secs, 1),
            "elements_per_second_per_stream": round(cfg.elements / secs, 1),
        }
        models[name] = model
        ctx.log(f"{name}: criterion {per_model[name]['elements_to_criterion']['median']} (median), recovery "
                f"{per_model[name]['recovery_elements']['median']}, final {per_model[name]['accuracy_final']['mean']}"
                f" ({secs:.1f} s)")
    out = {"task": "cui2016", "seeds": seeds, "elements": cfg.elements, "switch": cfg.switch, "models": per_model,
           "htm_published": HTM_PUBLISHED}
    if "gsemm" in models:
        out["replay_accuracy"] = _replay(models["gsemm"], streams)
        out["models"]["gsemm"]["cells_used_max"] = int(models["gsemm"].cells_used.max())
    _figure(ctx, cfg, per_model)
    g = per_model.get("gsemm")
    out["summary"] = (f"{S} seeds x {cfg.elements} elements: " + "; ".join(
        f"{n} criterion {m['elements_to_criterion']['median']} / recovery {m['recovery_elements']['median']} / "
        f"final {m['accuracy_final']['mean']}" for n, m in per_model.items())
        + (f"; gsemm replay {out['replay_accuracy']:.2f}" if g else "") + " (HTM published: 6000 / 3500 / 1.00)")
    return out


def _mean(vals):
    got = [v for v in vals if v is not None]
    return round(float(np.mean(got)), 4) if got else None


def _replay(lrn: StreamLearner, streams) -> float:
    """Fraction of (seed, sequence) pairs of the final set replayed in full from a two-element cue."""
    ok = total = 0
    for k in range(len(streams[0].switched)):
        seqs = [st.switched[k] for st in streams]                                   # the set in force at the end
        L = len(seqs[0])
        cue = torch.stack([torch.tensor(st.patterns[list(q[:2])], dtype=torch.float32)
                           for st, q in zip(streams, seqs)], 1)                      # (2, S, N)
        out = lrn.replay(cue, L - 2)                                                # (L-2, S, N)
        for s, (st, q) in enumerate(zip(streams, seqs)):
            P = torch.tensor(st.patterns[:10], dtype=torch.float32)
            got = (out[:, s] @ P.T).argmax(-1).tolist()
            ok += got == list(q[2:])
            total += 1
    return ok / total


def _figure(ctx, cfg, per_model):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.2))
    colors = {"gsemm": "C3", "lstm_online": "C0", "lstm_3000": "C2"}
    for name, m in per_model.items():
        c = m["accuracy_curve"]
        x = np.array(c["elements"])
        f = lambda v: np.array([np.nan if a is None else a for a in v])
        ax.plot(x, f(c["mean"]), color=colors.get(name), lw=1.6,
                label=f"{name} (mean, min-max of {len(m['accuracy_final']['per_seed'])} seeds)")
        ax.fill_between(x, f(c["min"]), f(c["max"]), color=colors.get(name), alpha=0.15, lw=0)
    ax.axvline(cfg.switch, color="k", ls="--", lw=0.8)
    ax.text(cfg.switch, 0.03, " endings swapped", fontsize=8)
    ax.axvline(HTM_PUBLISHED["elements_to_criterion"], color="C7", ls=":", lw=1)
    ax.axvline(cfg.switch + HTM_PUBLISHED["recovery_elements"], color="C7", ls=":", lw=1)
    ax.text(HTM_PUBLISHED["elements_to_criterion"], 0.12, " HTM (published): 1.00 by ≈6,000", fontsize=7, color="C7")
    ax.text(cfg.switch + HTM_PUBLISHED["recovery_elements"], 0.2, " HTM recovers by ≈13,500", fontsize=7, color="C7")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("elements seen (one pass)")
    ax.set_ylabel(f"accuracy (last {cfg.window} sequences)")
    ax.set_title("Cui et al. (2016) high-order stream: prediction of each sequence's last element")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    ctx.save_figure(fig, "accuracy")


def load_stream(spec: str) -> np.ndarray:
    """A user stream: a real (T, N) .npy array, T >= 2, N >= 2, finite, no all-zero row.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "s.npy"); np.save(p, np.eye(3)); load_stream(p).shape
    (3, 3)
    """
    if not spec.endswith(".npy"):
        raise ValueError(f"data={spec!r}: use 'cui' or a path to a .npy file (T, N), one element per row")
    arr = read_array(spec, min_rows=2, min_cols=2, what=f"data={spec}: ")
    if (np.abs(arr).sum(1) == 0).any():
        raise ValueError(f"data={spec}: row {int(np.flatnonzero(np.abs(arr).sum(1) == 0)[0])} is all zeros")
    return arr


def _run_file(cfg: Config, ctx) -> dict:
    arr = load_stream(cfg.data)
    T, N = arr.shape
    X = torch.tensor(arr, dtype=torch.float32)[:, None]
    lrn = _learner(cfg, N, 1)
    bar = ctx.progress(total=T, desc="gsemm")
    t0 = time.perf_counter()
    preds, surprise = [], []
    for a in range(0, T, cfg.chunk):
        o = lrn.run(X[a:a + cfg.chunk])
        preds.append(o.prediction[:, 0])
        surprise.append(o.surprise[:, 0])
        bar.update(min(cfg.chunk, T - a))
    bar.close()
    secs = time.perf_counter() - t0
    pred = torch.cat(preds)
    np.save(ctx.path("predictions.npy"), pred.numpy().astype(np.float32))
    # next-element accuracy: decode each prediction to the nearest distinct row
    uniq, inv = np.unique(arr, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    U = torch.tensor(uniq, dtype=torch.float32)
    Un = U / U.norm(dim=1, keepdim=True)
    dec = (pred[:-1] @ Un.T).argmax(-1).numpy()
    has = pred[:-1].abs().sum(-1).numpy() > 0
    correct = (dec == inv[1:]) & has
    half = (T - 1) // 2
    return {
        "data": str(cfg.data), "elements": T, "N": N, "distinct_elements": int(len(uniq)),
        "models": {"gsemm": {"next_element_accuracy": float(correct.mean()),
                             "next_element_accuracy_second_half": float(correct[half:].mean()),
                             "mean_surprise": float(torch.cat(surprise).mean()), "seconds": round(secs, 2),
                             "elements_per_second": round(T / secs, 1)}},
        "summary": f"{T} elements of width {N}: next-element accuracy {correct.mean():.3f} "
                   f"({correct[half:].mean():.3f} over the second half) in one pass, {secs:.1f} s",
    }


EXPERIMENT = Experiment(
    Config, run,
    "one-pass online sequence learning on the Cui et al. (2016) high-order stream (or --set data=stream.npy): "
    "GSEMM vs online and retrained LSTMs",
    quick=("seeds=2", "elements=2000", "switch=1000", "contenders=gsemm,lstm_online", "chunk=500"),
)
