"""Tables and figures of the ``compare`` experiment.

``table.csv`` is long format, one row per model × task × metric: ``model, task, metric, mean, ci_low,
ci_high, n`` (95 % t interval over seeds; ``n`` counts the finite values). ``table.md`` holds one section
per task with the columns that matter for it, each cell ``mean [low, high]``.

Example
-------
>>> fmt({"mean": 0.5, "ci": [0.25, 0.75], "values": [0.4, 0.6]})
'0.50 [0.25, 0.75]'
"""
from __future__ import annotations

import csv
import math
import os

from ..context import pyplot

CSV_HEADER = ["model", "task", "metric", "mean", "ci_low", "ci_high", "n"]

#: task -> (metric, column title) shown in table.md
COLUMNS = {
    "sequence": [("success", "success"), ("bit_acc", "bit acc"), ("presentations_to_criterion", "pres. to criterion"),
                 ("reached_criterion", "reached"), ("train_seconds", "train s"), ("peak_mb", "peak MB")],
    "continual": [("A_before_B", "A before B"), ("A_after_B", "A after B"), ("B", "B"),
                  ("bit_acc_A_after_B", "bit acc A after B"), ("train_seconds", "train s")],
}
COLUMNS["digits"] = list(COLUMNS["sequence"])
COLUMNS["sequence"] = COLUMNS["sequence"] + [("spiking_agreement", "Brian2 mirror agreement")]


def fmt(entry: dict | None, digits: int = 2) -> str:
    """``mean [low, high]`` of an aggregated metric ('–' when missing or not finite)."""
    if not entry or entry.get("mean") is None or not math.isfinite(entry["mean"]):
        return "–"
    m, (lo, hi) = entry["mean"], entry["ci"]
    if abs(m) >= 100:
        digits = 0
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _columns(task: str, results: dict, models: list[str]) -> list[tuple[str, str]]:
    if task in COLUMNS:
        return COLUMNS[task]
    keys = [k for k in results[models[0]][task] if k not in ("curve", "peak_mb")]
    return [(k, k.replace("_", " ")) for k in keys]


def write_tables(ctx, results: dict, tasks: list[str], models: list[str]) -> list[list]:
    """Write ``table.csv`` and ``table.md`` into the run folder; return the CSV rows (header excluded)."""
    rows = []
    for m in models:
        for t in tasks:
            for k, e in results[m][t].items():
                if k == "curve":
                    continue
                n = sum(1 for v in e["values"] if math.isfinite(v))
                rows.append([m, t, k, e["mean"], e["ci"][0], e["ci"][1], n])
    tmp = ctx.path("table.csv.tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_HEADER)
        w.writerows(rows)
    os.replace(tmp, ctx.path("table.csv"))
    lines = ["# compare: local online learning vs backprop", "",
             "Cells: mean [95 % t interval] over seeds. success = whole sequence recalled from the cue; "
             "bit acc = fraction of recalled bits right (a missing item counts as chance); pres. to criterion = "
             "first probed number of whole-sequence presentations with success (mean over the seeds that reached "
             "it; `reached` = fraction of seeds); train s = training wall-clock per seed; peak MB = peak RSS "
             "increase during training.", ""]
    for t in tasks:
        cols = _columns(t, results, models)
        lines += [f"## {t}", "", "| model | " + " | ".join(c for _, c in cols) + " |",
                  "|---|" + "---|" * len(cols)]
        for m in models:
            r = results[m][t]
            lines.append(f"| {m} | " + " | ".join(fmt(r.get(k)) for k, _ in cols) + " |")
        lines.append("")
    tmp = ctx.path("table.md.tmp")
    with open(tmp, "w") as fh:
        fh.write("\n".join(lines))
    os.replace(tmp, ctx.path("table.md"))
    return rows


def _save(ctx, fig, ax, name: str, xlabel: str | None, ylabel: str, title: str) -> None:
    """Label the axes (``xlabel`` None keeps the x axis as it is), add the legend, lay out and save ``name``.png."""
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    ctx.save_figure(fig, name)


def figures(ctx, results, raw, tasks, models, noise, cap_N) -> None:
    """Accuracy vs presentations and vs wall-clock (sequence/digits), robustness vs cue noise, capacity vs
    N and retention bars, as PNGs in the run folder."""
    plt = pyplot()
    cmap = plt.get_cmap("tab10")
    color = {m: cmap(i % 10) for i, m in enumerate(models)}
    for t in [t for t in ("sequence", "digits") if t in tasks]:
        for xkey, name, xlabel in (("presentations", "accuracy_vs_presentations", "presentations of the sequence"),
                                   ("seconds", "accuracy_vs_wallclock", "training wall-clock per seed (s)")):
            fig, ax = plt.subplots(figsize=(6, 3.8))
            for m in models:
                cur = results[m][t].get("curve", [])
                if cur:
                    ax.plot([c[xkey] for c in cur], [c["bit_acc"] for c in cur], "o-", ms=3, color=color[m], label=m)
            ax.set_xscale("log")
            ax.set_ylim(0.4, 1.02)
            _save(ctx, fig, ax, f"{name}_{t}" if t != "sequence" else name, xlabel,
                  "recall bit accuracy (mean over seeds)", f"{t}: accuracy vs {xkey}")
    if "noisy" in tasks:
        fig, ax = plt.subplots(figsize=(6, 3.8))
        levels = [0.0] + list(noise)
        for m in models:
            r = results[m]["noisy"]
            ys = [r[f"bit_acc@{p:g}"]["mean"] for p in levels]
            lo = [r[f"bit_acc@{p:g}"]["ci"][0] for p in levels]
            hi = [r[f"bit_acc@{p:g}"]["ci"][1] for p in levels]
            ax.plot(levels, ys, "o-", color=color[m], label=m)
            ax.fill_between(levels, lo, hi, color=color[m], alpha=0.12)
        _save(ctx, fig, ax, "robustness", "fraction of cue bits flipped", "recall bit accuracy",
              "robustness to cue noise")
    if "capacity" in tasks:
        fig, ax = plt.subplots(figsize=(6, 3.8))
        for j, m in enumerate(models):
            r = results[m]["capacity"]
            ys = [r[f"capacity@N={n}"]["mean"] for n in cap_N]
            err = [[y - r[f"capacity@N={n}"]["ci"][0] for y, n in zip(ys, cap_N)],
                   [r[f"capacity@N={n}"]["ci"][1] - y for y, n in zip(ys, cap_N)]]
            xs = [n * (1 + 0.02 * (j - len(models) / 2)) for n in cap_N]
            ax.errorbar(xs, ys, yerr=err, fmt="o-", color=color[m], label=m, capsize=2)
        ax.set_xscale("log", base=2)
        _save(ctx, fig, ax, "capacity_vs_N", "pattern width N", "largest L recalled (grid)", "capacity vs N")
    if "continual" in tasks:
        fig, ax = plt.subplots(figsize=(7, 3.8))
        keys = [("A_before_B", "A before B"), ("A_after_B", "A after B"), ("B", "B")]
        w = 0.8 / len(keys)
        for i, (k, lab) in enumerate(keys):
            ys = [results[m]["continual"][k]["mean"] for m in models]
            ax.bar([j + (i - 1) * w for j in range(len(models))], ys, width=w, label=lab)
        ax.set_xticks(range(len(models)))
        ax.set_xticklabels(models, rotation=30, fontsize=8)
        ax.set_ylim(0, 1.05)
        _save(ctx, fig, ax, "retention", None, "whole-sequence recall rate", "retention: learn A, then B")
