"""``compare``: local online learning vs backprop on shared task streams (issue 8).

Every contender of :mod:`experiments.compare.contenders` is trained on the *same* seeded streams of
:mod:`experiments.compare.tasks` with a fixed, recorded budget, then cued with the first item and asked
for the rest. Per model × task and seed: whole-sequence success, bit accuracy, presentations to
criterion (first probed presentation count with whole-sequence success), training wall-clock, peak
memory; accuracy vs cue noise; retention of A after learning B; capacity (largest L recalled) vs N.
Means carry 95 % t intervals over the seeds. Writes ``table.md``, ``table.csv``, figures and
``metrics.json`` (per-model/task entries and a ``summary``). Results: ``docs/comparison.md``.

Example
-------
>>> parse_list("sequence, noisy")
['sequence', 'noisy']
>>> probe_schedule(10)
[1, 2, 3, 4, 6, 8, 10]
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from ..config import setting
from ..registry import Experiment
from .contenders import CONTENDERS, DEFAULT_EPOCHS, make
from .measure import mean_ci
from .report import figures, write_tables
from .tasks import TASKS, check_names, digits_sequence, flip_bits, random_sequence, score, task_generator


@dataclass(frozen=True)
class Config:
    tasks: str = setting("sequence,digits,noisy,capacity,continual", f"comma list of tasks: {', '.join(TASKS)}")
    models: str = setting(",".join(CONTENDERS), f"comma list of contenders: {', '.join(CONTENDERS)}")
    seeds: int = setting(5, "seeds per model and task (95 % t intervals need >= 2; >= 5 for reports)", minimum=1)
    spiking: bool = setting(True, "replay each trained GSEMM also in the Brian2 rate mirror (numpy target) and "
                                  "report the agreement of its decoded order with torch's (needs brian2)")
    N: int = setting(32, "pattern width of sequence / noisy / continual", minimum=4)
    L: int = setting(8, "sequence length of sequence / noisy / continual", minimum=3)
    noise: str = setting("0.05,0.1,0.2,0.3", "cue noise levels (fraction of flipped bits) for `noisy`")
    noisy_cues: int = setting(4, "noisy cues drawn per noise level", minimum=1)
    capacity_N: str = setting("16,32", "pattern widths N of the capacity sweep")
    capacity_L: str = setting("4,8,16", "sequence lengths tried (ascending; stop at the first failure)")
    epochs_local: int = setting(DEFAULT_EPOCHS["gsemm_local"], "presentations budget of gsemm_local", minimum=1)
    epochs_gsemm_bptt: int = setting(DEFAULT_EPOCHS["gsemm_bptt"], "presentations budget of gsemm_bptt", minimum=1)
    epochs_baseline: int = setting(DEFAULT_EPOCHS["lstm"], "presentations budget of the BPTT predictors",
                                   minimum=1)


def parse_list(text: str, cast=str) -> list:
    """Split a comma list (``"a, b"`` → ``['a', 'b']``), casting each item.

    >>> parse_list("0.1,0.2", float)
    [0.1, 0.2]
    """
    return [cast(p.strip()) for p in str(text).split(",") if p.strip()]


def probe_schedule(epochs: int) -> list[int]:
    """Roughly geometric probe points 1, 2, 3, 4, 6, 8, 12, 16, … up to and including ``epochs``.

    >>> probe_schedule(5)
    [1, 2, 3, 4, 5]
    """
    pts, b = set(), 1
    while b <= epochs:
        pts.update(p for p in (b, b + b // 2) if p <= epochs)
        b *= 2
    pts.add(epochs)
    return sorted(pts)


def _budget(cfg: Config, model: str) -> int:
    return {"gsemm_local": cfg.epochs_local, "gsemm_bptt": cfg.epochs_gsemm_bptt}.get(model, cfg.epochs_baseline)


def _check(cfg: Config) -> tuple[list[str], list[str], list[float], list[int], list[int]]:
    tasks = check_names(parse_list(cfg.tasks), TASKS, "task")
    models = check_names(parse_list(cfg.models), CONTENDERS, "model")
    try:
        noise = parse_list(cfg.noise, float)
        cap_N = parse_list(cfg.capacity_N, int)
        cap_L = parse_list(cfg.capacity_L, int)
    except ValueError as e:
        raise ValueError(f"noise / capacity_N / capacity_L must be comma lists of numbers ({e})") from None
    if "noisy" in tasks and (not noise or any(not 0 <= p <= 1 for p in noise)):
        raise ValueError(f"noise={cfg.noise!r}: give fractions in [0, 1], e.g. 0.1,0.2")
    if "capacity" in tasks and (not cap_N or not cap_L or min(cap_N) < 4 or min(cap_L) < 3
                                or cap_L != sorted(cap_L)):
        raise ValueError("capacity_N (each >= 4) and capacity_L (ascending, each >= 3) must be non-empty lists")
    return tasks, models, noise, cap_N, cap_L


def _memory_run(name, X, seed, epochs, device, curve=True) -> tuple[dict, object]:
    """Train a fresh contender on X; whole-sequence metrics and the probed curve."""
    L, N = X.shape
    c = make(name, N=N, items=L, seed=seed, epochs=epochs, device=device)
    probe = (lambda m: score(m.recall(X[:1], L - 1)[0].cpu(), X)) if curve else None
    log = c.fit(X, probe=probe, probe_at=probe_schedule(epochs) if curve else ())
    ok, acc = score(c.recall(X[:1], L - 1)[0].cpu(), X)
    first = next((p for p, _, (s, _a) in log.curve if s), None)
    res = {"success": float(ok), "bit_acc": acc, "presentations": log.presentations,
           "presentations_to_criterion": float("nan") if first is None else float(first),
           "reached_criterion": float(first is not None), "train_seconds": log.seconds, "peak_mb": log.peak_mb,
           "curve": [(p, t, a) for p, t, (_s, a) in log.curve]}
    return res, c


def _spiking_agreement(c, X) -> float:
    """Replay a trained GSEMM contender from X[0] in torch and in the Brian2 rate mirror (the same ODEs as
    Brian2 equations, numpy target, same dt) and return the fraction of the mirror's decoded transitions
    that torch's decoded order also makes (1.0 = the spiking-library mirror agrees); nan when the mirror
    decodes no transition."""
    import math

    from networks.gsemm import decode, simulate
    try:
        from networks.spiking import RateMirror
        from networks.spiking.decode import order_agreement
        RateMirror.__name__  # the lazy import of brian2 happens here
    except ImportError as e:
        raise ValueError(f"spiking=true needs brian2 ({e}); pip install -e '.[spiking]' "
                         "or pass --set spiking=false") from e

    from .contenders import item_dwell
    net = c.model()
    dt, k = c.recall_dt, c.record_every
    steps = k * int(math.ceil((X.shape[0] + 1) * item_dwell() / (dt * k)))
    cue = X[0].to(dtype=net.xi.dtype, device=net.xi.device)
    _, tr = simulate(net, net.init_state(cue), steps=steps, dt=dt, method="euler", record_every=k,
                     backend="dense")
    ref = decode(tr.overlaps[:, 0].cpu(), dt * k, min_dwell=c.min_dwell).order
    net_cpu = net.replace(xi=net.xi.detach().cpu().double(), phi=net.phi.detach().cpu().double())
    mirror = RateMirror(net_cpu, duration=steps * dt, dt=dt, record_every=k)
    try:
        out = mirror.run(cue.detach().cpu().double().numpy())
    except FloatingPointError:  # the trained weights overflow the mirror's softmax: no agreement to report
        return float("nan")
    order = decode(torch.as_tensor(out.overlaps), dt * k, min_dwell=c.min_dwell).order
    return order_agreement(order, ref)[0]


def _noisy(c, X, noise, n_cues, seed) -> dict:
    L = X.shape[0]
    out = {}
    g = task_generator(seed, "noisy")
    for p in noise:
        cues = torch.stack([flip_bits(X[0], p, g) for _ in range(n_cues)])
        pred = c.recall(cues, L - 1).cpu()
        sc = [score(pred[i], X) for i in range(n_cues)]
        out[f"success@{p:g}"] = sum(s for s, _ in sc) / n_cues
        out[f"bit_acc@{p:g}"] = sum(a for _, a in sc) / n_cues
    return out


def _continual(name, seed, cfg, device) -> dict:
    XA = random_sequence(cfg.N, cfg.L, task_generator(seed, "continual", 0))
    XB = random_sequence(cfg.N, cfg.L, task_generator(seed, "continual", 1))
    c = make(name, N=cfg.N, items=2 * cfg.L, seed=seed, epochs=_budget(cfg, name), device=device)
    la = c.fit(XA)
    okA0, accA0 = score(c.recall(XA[:1], cfg.L - 1)[0].cpu(), XA)
    lb = c.fit(XB)
    okA, accA = score(c.recall(XA[:1], cfg.L - 1)[0].cpu(), XA)
    okB, accB = score(c.recall(XB[:1], cfg.L - 1)[0].cpu(), XB)
    return {"A_before_B": float(okA0), "A_after_B": float(okA), "B": float(okB), "bit_acc_A_before_B": accA0,
            "bit_acc_A_after_B": accA, "bit_acc_B": accB, "success": float(okA and okB),
            "bit_acc": (accA + accB) / 2, "train_seconds": la.seconds + lb.seconds,
            "peak_mb": max(la.peak_mb, lb.peak_mb), "presentations": la.presentations + lb.presentations}


def _capacity(name, seed, cfg, cap_N, cap_L, device) -> dict:
    out, secs = {}, 0.0
    for N in cap_N:
        best = 0
        for L in cap_L:
            X = random_sequence(N, L, task_generator(seed, f"capacity{N}", L))
            res, _ = _memory_run(name, X, seed, _budget(cfg, name), device, curve=False)
            secs += res["train_seconds"]
            if res["success"] < 1:
                break
            best = L
        out[f"capacity@N={N}"] = float(best)
    out["train_seconds"] = secs
    return out


def run(cfg: Config, ctx) -> dict:
    tasks, models, noise, cap_N, cap_L = _check(cfg)
    t0 = time.perf_counter()
    dev = ctx.device
    seeds = [ctx.seed + i for i in range(cfg.seeds)]
    raw: dict = {m: {t: [] for t in tasks} for m in models}       # per seed dicts
    timing: dict = {}
    bar = ctx.progress(total=len(models) * len(seeds), desc="compare")
    for m in models:
        tm = time.perf_counter()
        for seed in seeds:
            if "sequence" in tasks or "noisy" in tasks:
                X = random_sequence(cfg.N, cfg.L, task_generator(seed, "sequence"))
                res, c = _memory_run(m, X, seed, _budget(cfg, m), dev)
                if cfg.spiking:
                    res["spiking_agreement"] = _spiking_agreement(c, X) if m.startswith("gsemm") else float("nan")
                if "sequence" in tasks:
                    raw[m]["sequence"].append(res)
                if "noisy" in tasks:
                    raw[m]["noisy"].append({**_noisy(c, X, [0.0] + noise, cfg.noisy_cues, seed),
                                            "train_seconds": res["train_seconds"], "peak_mb": res["peak_mb"]})
            if "digits" in tasks:
                raw[m]["digits"].append(_memory_run(m, digits_sequence(), seed, _budget(cfg, m), dev)[0])
            if "continual" in tasks:
                raw[m]["continual"].append(_continual(m, seed, cfg, dev))
            if "capacity" in tasks:
                raw[m]["capacity"].append(_capacity(m, seed, cfg, cap_N, cap_L, dev))
            bar.update(1)
        timing[m] = round(time.perf_counter() - tm, 2)
        ctx.log(f"compare: {m} done in {timing[m]:.0f} s")
    bar.close()
    results = {m: {t: aggregate(raw[m][t]) for t in tasks} for m in models}
    budgets = {m: make(m, N=cfg.N, items=cfg.L, seed=0, epochs=_budget(cfg, m)).budget() for m in models}
    rows = write_tables(ctx, results, tasks, models)
    figures(ctx, results, raw, tasks, models, noise, cap_N)
    wall = time.perf_counter() - t0
    return {"tasks": tasks, "models": models, "seeds": seeds, "budgets": budgets, "results": results,
            "per_seed": raw, "model_seconds": timing, "table_rows": len(rows), "wall_seconds": round(wall, 2),
            "summary": _summary(results, tasks, models, len(seeds), wall)}


_RATES = {"success", "bit_acc", "reached_criterion", "A_before_B", "A_after_B", "B", "bit_acc_A_before_B",
          "bit_acc_A_after_B", "bit_acc_B"}


def aggregate(per_seed: list[dict]) -> dict:
    """Mean, 95 % t interval and the values of every scalar metric over seeds (curves averaged per point).

    >>> aggregate([{"success": 1.0}, {"success": 0.0}])["success"]["mean"]
    0.5
    """
    out: dict = {}
    if not per_seed:
        return out
    for k, v in per_seed[0].items():
        if k == "curve":
            pts = {}
            for r in per_seed:
                for p, t, a in r["curve"]:
                    pts.setdefault(p, []).append((t, a))
            out["curve"] = [{"presentations": p, "seconds": sum(t for t, _ in ts) / len(ts),
                             "bit_acc": mean_ci([a for _, a in ts])[0]} for p, ts in sorted(pts.items())]
            continue
        vals = [float(r[k]) for r in per_seed]
        m, lo, hi = mean_ci(vals)
        if k.split("@")[0] in _RATES:                                # rates: clip the interval to [0, 1]
            lo, hi = max(0.0, lo), min(1.0, hi)
        out[k] = {"mean": m, "ci": [lo, hi], "values": vals}
    return out


def _summary(results, tasks, models, n, wall) -> str:
    parts = []
    key = "sequence" if "sequence" in tasks else tasks[0]
    for m in models:
        r = results[m][key]
        if "success" in r:
            parts.append(f"{m} {r['success']['mean']:.0%}")
        elif "train_seconds" in r:
            parts.append(f"{m} {r['train_seconds']['mean']:.1f} s")
    extra = ""
    if "continual" in tasks:
        extra = "; A after B: " + ", ".join(f"{m} {results[m]['continual']['A_after_B']['mean']:.0%}" for m in models)
    return f"{key} recall over {n} seeds: " + ", ".join(parts) + extra + f" ({wall:.0f} s)"


EXPERIMENT = Experiment(
    Config, run,
    "local online learning (GSEMM energy rule) vs BPTT (same GSEMM, AUSSM, a|m, wRNN, Elman, LSTM) on shared tasks",
    quick=("seeds=2", "N=16", "L=4", "noise=0.1,0.3", "noisy_cues=2", "capacity_N=16", "capacity_L=4,8",
           "epochs_local=4", "epochs_gsemm_bptt=6", "epochs_baseline=40"),
    threads=1,  # small tensors: one intra-op thread is fastest
)
