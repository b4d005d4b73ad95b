"""The aggregated report of a sweep: one CSV, one Markdown table and summary plots.

Rows are those of :func:`experiments.sweep.run_sweep` (grid settings, seed, scalar metrics, status,
error). Plots show each numeric metric against each grid key, mean ± 95 % confidence interval over
seeds (Student t), one line per combination of the other grid keys.

Example
-------
>>> import tempfile
>>> rows = [{"run": "a-seed0", "N": "8", "seed": 0, "err": 0.5, "status": "ok", "error": ""},
...         {"run": "a-seed1", "N": "8", "seed": 1, "err": 0.7, "status": "ok", "error": ""}]
>>> paths = write_report(tempfile.mkdtemp(), rows, ["N"], plots=False)
>>> open(paths["csv"]).read().splitlines()[0]
'run,N,seed,err,status,error'
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Sequence

# two-sided 95 % Student t quantiles for 1..30 degrees of freedom (then 1.96)
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042]


def columns(rows: Sequence[dict]) -> list[str]:
    """Union of the rows' keys in first-seen order, with ``status`` and ``error`` last.

    >>> columns([{"run": "x", "a": 1, "status": "ok", "error": ""}, {"run": "y", "b": 2, "status": "ok", "error": ""}])
    ['run', 'a', 'b', 'status', 'error']
    """
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols and k not in ("status", "error")]
    return cols + ["status", "error"]


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of the 95 % confidence interval (Student t; 0 for one value).

    >>> mean_ci([1.0, 3.0])
    (2.0, 12.706)
    """
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    if not v:
        return math.nan, math.nan
    m = sum(v) / len(v)
    if len(v) < 2:
        return m, 0.0
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))
    t = _T95[len(v) - 2] if len(v) - 1 <= len(_T95) else 1.96
    return m, t * sd / math.sqrt(len(v))


def to_csv(rows: Sequence[dict]) -> str:
    """CSV text of the rows (floats written with full precision, so tables compare exactly).

    >>> to_csv([{"run": "x", "v": 0.1, "status": "ok", "error": ""}]).splitlines()[1]
    'x,0.1,ok,'
    """
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns(rows), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else repr(r[k]) if isinstance(r.get(k), float) else r.get(k, ""))
                    for k in columns(rows)})
    return buf.getvalue()


def _fmt(v) -> str:
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v).replace("|", "\\|")


def to_markdown(rows: Sequence[dict]) -> str:
    """A Markdown table of the rows (numbers to 4 significant digits).

    >>> print(to_markdown([{"run": "x", "v": 0.123456, "status": "ok", "error": ""}]))
    | run | v | status | error |
    |---|---|---|---|
    | x | 0.1235 | ok |  |
    """
    cols = columns(rows)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_fmt(r.get(k)) for k in cols) + " |" for r in rows]
    return "\n".join(lines)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def plot_metric(rows: Sequence[dict], metric: str, keys: Sequence[str]):
    """A figure of ``metric`` vs each grid key (one panel per key), mean ± 95 % CI over seeds.

    >>> fig = plot_metric([{"N": "8", "seed": 0, "err": 0.5, "status": "ok"}], "err", ["N"])
    >>> len(fig.axes)
    1
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ok = [r for r in rows if r.get("status") == "ok" and isinstance(r.get(metric), (int, float))]
    fig, axes = plt.subplots(1, max(1, len(keys)), figsize=(4.6 * max(1, len(keys)), 3.6), squeeze=False)
    for ax, key in zip(axes[0], keys or ["seed"]):
        xs = list(dict.fromkeys(str(r[key]) for r in rows))
        numeric = all(_number(x) is not None for x in xs)
        if numeric:
            xs.sort(key=_number)
        others = [k for k in keys if k != key]
        groups = list(dict.fromkeys(tuple(str(r[k]) for k in others) for r in ok))[:8]
        for g in groups:
            pts = []
            for x in xs:
                vals = [float(r[metric]) for r in ok if str(r[key]) == x and tuple(str(r[k]) for k in others) == g]
                if vals:
                    m, h = mean_ci(vals)
                    pts.append((_number(x) if numeric else xs.index(x), m, h))
            if pts:
                label = ", ".join(f"{k}={v}" for k, v in zip(others, g)) or None
                ax.errorbar([p[0] for p in pts], [p[1] for p in pts], yerr=[p[2] for p in pts], marker="o",
                            capsize=3, label=label)
        if not numeric:
            ax.set_xticks(range(len(xs)), xs, rotation=30, fontsize=8)
        ax.set_xlabel(key)
        ax.set_ylabel(metric)
        if others and groups:
            ax.legend(fontsize=7)
    fig.suptitle(f"{metric}: mean ± 95 % CI over seeds")
    fig.tight_layout()
    return fig


def write_report(out: str | Path, rows: Sequence[dict], keys: Sequence[str], *, meta: dict | None = None,
                 plots: bool = True, max_plots: int = 8) -> dict:
    """Write ``results.csv``, ``results.md``, ``sweep.json`` and ``plots/<metric>.png`` under ``out``.

    Returns the paths written (``csv``, ``markdown``, ``json``, ``plots``). Plots need matplotlib
    (the ``plot`` extra); without it the report says so instead of plotting.

    >>> import tempfile
    >>> sorted(write_report(tempfile.mkdtemp(), [], [], plots=False))
    ['csv', 'json', 'markdown', 'plots']
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "results.csv", "markdown": out / "results.md", "json": out / "sweep.json", "plots": []}
    _atomic_write(paths["csv"], to_csv(rows) if rows else "run,status,error\n")
    n_ok = sum(r.get("status") == "ok" for r in rows)
    head = f"# Sweep {meta.get('experiment', '') if meta else ''}\n\n{n_ok} of {len(rows)} runs ok.\n\n"
    _atomic_write(paths["markdown"], head + (to_markdown(rows) if rows else "(no runs)") + "\n")
    _atomic_write(paths["json"], json.dumps({**(meta or {}), "runs": len(rows), "ok": n_ok}, indent=2) + "\n")
    if plots and rows:
        metrics = [c for c in columns(rows) if c not in ("run", "seed", "status", "error", *keys)
                   and any(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool) for r in rows)]
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            print("note: matplotlib is not installed, so no plots (pip install -e '.[plot]')")
            return paths
        (out / "plots").mkdir(exist_ok=True)
        for metric in metrics[:max_plots]:
            fig = plot_metric(rows, metric, keys)
            p = out / "plots" / f"{metric}.png"
            fig.savefig(p, dpi=100)
            plt.close(fig)
            paths["plots"].append(p)
    return paths
