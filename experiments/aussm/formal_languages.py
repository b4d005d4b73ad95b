r"""``formal_languages``: length generalisation of AUSSM, Mamba and their hybrids on formal languages.

Protocol (the released AUSSM code's algorithmic sweeps, with model selection on an in-distribution validation
split): for every task (:mod:`experiments.aussm.tasks`: parity, cycle navigation mod 5, modular arithmetic mod 5
with and without brackets, the A5 word problem as a negative control), every model string (``a``, ``a|a``, ``a|m``,
``m|a``, ``m|m``; :class:`networks.aussm.TokenModel`) and every seed: train with AdamW (cosine decay,
gradient clipping 1.0) on lengths drawn uniformly from ``train_min`` to the current longest length, which by
default follows a **length curriculum** (``curriculum_every=400``: 5 for steps 1–399, 10 from step 400, 20 from
800, 40 = ``train_max`` from 1200 on; ``curriculum_every=0`` draws from 3–40 from the first step), answer read
at the last position, cross-entropy; every ``eval_every`` steps measure accuracy on a fixed **in-distribution**
validation set (lengths 3–40, its own generator) and keep the best weights; finally report accuracy on
``test_samples`` sequences at each test length (41–256) with those weights. Test accuracy is the mean over the
test lengths.

Writes ``results.md`` and ``results.csv`` (per task and model: best and median test accuracy over seeds,
median validation accuracy), ``accuracy_vs_length.png``, and ``metrics.json`` with ``summary``
(``summary[task][model] = {best_test, median_test, median_val, seeds}``) and every run.

Expectation (from related formal-language results; hypotheses, not AUSSM paper numbers): parity and cycle
navigation ≈ 100 % for models with an ``a`` layer, near chance for ``m|m``; A5 near chance (1/60) for all.

Why ``phase_scale`` and ``phase_lr``: with the released AUSSM init (``phase_scale=1``) the token-dependent part of
the phase θ = W_A u + b_A is tiny (two tokens differ by ≈0.03–0.15 rad at d = 16–32), while parity needs a
difference of π; the parity signal of a length-L sequence falls like cos(ε/2)^L in the phase error ε, so the
gradient vanishes and pilots stayed at chance (loss ln 2) for 600–2000 steps at every learning rate tried. A single
``a`` layer *can* represent parity exactly (hand-set weights, ``tests/networks/aussm/test_parity_construction.py``,
all lengths to 512). ``phase_scale=30`` spreads the token-dependent phase differences over about ±π at init and
``phase_lr=10`` lets W_A, b_A move by O(1) rad in a few hundred steps (W_A is divided by √d in the forward).
Even so, learning parity is a late, seed-dependent transition: in ``a``-only pilots (d 16, n 16, 3000–4000 steps)
one seed (batch 64) jumped from chance to val 1.0 after ≈2500 steps, three others (two at batch 64, one at 32)
stayed at chance; without a curriculum (uniform 3–40 from step 1) the full run's ``m|a`` learned parity with both
seeds, ``a|a`` with one, ``a`` with none.

Why the length curriculum is the default (``curriculum_every=400``; ``0`` switches it off): with lengths 3–40 from
the first step cycle navigation stayed at chance for every model and parity was learned by 3 of 8 ``a``-model
runs; with train lengths 3–5 only, ``a`` and ``m|a`` fitted both tasks exactly. With the curriculum every
``a``-model run reaches validation 1.000 on parity (``m|m`` 0.60) and cycle navigation leaves chance (validation
0.38–0.98). k = 400 is the only value tried: with 2500 steps it reaches the full range 3–40 at step 1200 and
trains on it for the remaining 52 % of the steps. Extrapolation to 41–256 stays partial (docs/aussm.md).

Defaults are sized for a 2-core CPU (one thread, about an hour): 5 tasks × 5 models × **2 seeds** (not the
5 of the full protocol) × 2500 steps, d_model 16, d_state 16, batch 32, curriculum every 400 steps, validation
512 sequences every 250 steps, 256 test sequences per test length. Measured on 2026-11-23 (one thread of a
2-core CPU shared with another job, torch 2.13.0+cpu, the parallel Mamba scan that was then the default): 3476 s
(58 min) wall for the whole default run; training steps including
validation took on average 0.012 s (``a``), 0.020–0.025 s (``a|a``, ``a|m``, ``m|a``) and 0.028 s (``m|m``),
less than without the curriculum (3778 s; 0.015, 0.026 and 0.031 s) because the first 1200 steps use short
sequences. The former defaults (5 seeds × 3000 steps, d_model 32, batch 64, sequential Mamba scan, no
curriculum) were measured at 0.07–0.11 s per step, about 9–10 hours. ``--quick`` (2 tasks, ``a`` and ``a|m``,
2 seeds, width 8, 60 steps, curriculum every 15 steps so that all four stages run) takes about 10 s. Training
runs single-threaded (tiny tensors; many threads were 50× slower here).
Seeds are explicit: model init uses ``seed·1000 + 1``, training data ``+2``, validation ``+3``,
test ``+4`` (offsets of the run's ``--seed``), all through ``torch.Generator``.
"""
from __future__ import annotations

import copy
import csv
import math
import statistics
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from networks.aussm import TokenModel, parse_layers
from networks.aussm.mamba import SCAN_CHOICES
from networks.aussm.ops import BACKENDS

from ..config import setting
from ..context import pyplot
from ..registry import Experiment
from .tasks import TASKS, get_task


@dataclass(frozen=True)
class Config:
    tasks: list[str] = setting(["parity", "cycle_nav", "mod_arith", "mod_arith_brackets", "a5"],
                               "tasks (comma separated): " + ", ".join(TASKS))
    models: list[str] = setting(["a", "a|a", "a|m", "m|a", "m|m"], "layer strings (comma separated)")
    seeds: int = setting(2, "seeds per (task, model)", minimum=1)
    d_model: int = setting(16, "model width", minimum=1)
    d_state: int = setting(16, "states per channel (shared by a and m layers)", minimum=1)
    steps: int = setting(2500, "training steps", minimum=1)
    batch: int = setting(32, "training batch size", minimum=1)
    lr: float = setting(2e-3, "AdamW peak learning rate (cosine decay to 5 %)", positive=True)
    phase_scale: float = setting(30.0, "init scale of the AUSSM phase projection W_A (1 = released init)",
                                 positive=True)
    phase_lr: float = setting(10.0, "learning-rate multiplier for the AUSSM phase projection (W_A, b_A)",
                              positive=True)
    weight_decay: float = setting(0.01, "AdamW weight decay", minimum=0.0)
    train_min: int = setting(3, "shortest training length", minimum=1)
    train_max: int = setting(40, "longest training length (also the validation range)", minimum=1)
    curriculum_every: int = setting(400, "length curriculum: the longest training length starts at max(5, train_min) "
                                         "and doubles every k steps up to train_max (0 = off: uniform "
                                         "train_min..train_max from the first step)", minimum=0)
    eval_every: int = setting(250, "validate every k steps (model selection)", minimum=1)
    val_samples: int = setting(512, "in-distribution validation sequences", minimum=1)
    test_lengths: list[int] = setting([41, 64, 96, 128, 192, 256], "test lengths (beyond train_max)")
    test_samples: int = setting(256, "test sequences per test length", minimum=1)
    eval_batch: int = setting(256, "evaluation batch size", minimum=1)
    backend: str = setting("auto", "AUSSM scan backend", choices=BACKENDS)
    mamba_scan: str = setting("auto", "Mamba scan (auto: the loop on CPU, the parallel scan elsewhere; the "
                                      "tables in docs/aussm.md used parallel)", choices=SCAN_CHOICES)


def _check(cfg: Config) -> None:
    for t in cfg.tasks:
        get_task(t)
    for m in cfg.models:
        parse_layers(m)
    if cfg.train_min > cfg.train_max:
        raise ValueError(f"train_min={cfg.train_min} must be <= train_max={cfg.train_max}")
    if not cfg.test_lengths or min(cfg.test_lengths) <= cfg.train_max:
        raise ValueError(f"test_lengths={cfg.test_lengths} must be non-empty and all > train_max={cfg.train_max}")


def _eval_set(task, lengths, n, g):
    """Fixed (tokens, labels) batches: ``n`` sequences spread evenly over ``lengths``."""
    per = [n // len(lengths) + (k < n % len(lengths)) for k in range(len(lengths))]
    return [(L, *task.sample(c, L, g)) for L, c in zip(lengths, per) if c > 0]


@torch.no_grad()
def _accuracy(model, batches, eval_batch, device) -> dict[int, float]:
    model.eval()
    correct: dict[int, list[int]] = {}
    for L, tok, lab in batches:
        c = correct.setdefault(L, [0, 0])
        for i in range(0, tok.shape[0], eval_batch):
            logits = model(tok[i:i + eval_batch].to(device))[:, -1]
            c[0] += int((logits.argmax(-1).cpu() == lab[i:i + eval_batch]).sum())
            c[1] += int(lab[i:i + eval_batch].numel())
    model.train()
    return {L: a / b for L, (a, b) in correct.items()}


def curriculum_max_length(cfg: Config, step: int) -> int:
    """Longest training length at ``step`` (1-based): ``train_max`` without a curriculum; with
    ``curriculum_every = k`` it is ``max(5, train_min) · 2^{⌊step/k⌋}``, capped at ``train_max``.

    >>> [curriculum_max_length(Config(), s) for s in (1, 399, 400, 800, 1200, 1600)]  # default k = 400
    [5, 5, 10, 20, 40, 40]
    >>> curriculum_max_length(Config(curriculum_every=0), 1)
    40
    """
    if not cfg.curriculum_every:
        return cfg.train_max
    return min(cfg.train_max, max(5, cfg.train_min) * 2 ** (step // cfg.curriculum_every))


def train_one(task_name: str, layers: str, seed: int, cfg: Config, device, progress=None) -> dict:
    """Train one model on one task with one seed; returns validation/test accuracies (selection on validation)."""
    task = get_task(task_name)
    base = seed * 1000
    model = TokenModel(task.vocab_size, task.n_classes, layers, d_model=cfg.d_model, d_state=cfg.d_state,
                       backend=cfg.backend, phase_scale=cfg.phase_scale, mamba_scan=cfg.mamba_scan,
                       generator=torch.Generator().manual_seed(base + 1)).to(device)
    g_train = torch.Generator().manual_seed(base + 2)
    val = _eval_set(task, list(range(cfg.train_min, cfg.train_max + 1)), cfg.val_samples,
                    torch.Generator().manual_seed(base + 3))
    phase = [p for n, p in model.named_parameters() if ".xA_proj." in n]
    rest = [p for n, p in model.named_parameters() if ".xA_proj." not in n]
    groups = [{"params": rest}] + ([{"params": phase, "lr": cfg.lr * cfg.phase_lr}] if phase else [])
    opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(s, cfg.steps) / cfg.steps)))
    best_val, best_step, best_state = -1.0, 0, None
    t0 = time.perf_counter()
    losses = []
    for step in range(1, cfg.steps + 1):
        L = int(torch.randint(cfg.train_min, curriculum_max_length(cfg, step) + 1, (1,), generator=g_train))
        tok, lab = task.sample(cfg.batch, max(L, task.min_length), g_train)
        loss = F.cross_entropy(model(tok.to(device))[:, -1], lab.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
        if progress is not None:
            progress.update(1)
        if step % cfg.eval_every == 0 or step == cfg.steps:
            accs = _accuracy(model, val, cfg.eval_batch, device)
            v = sum(accs.values()) / len(accs)
            if v > best_val:
                best_val, best_step, best_state = v, step, copy.deepcopy(model.state_dict())
    train_s = time.perf_counter() - t0
    model.load_state_dict(best_state)
    test = _eval_set(task, list(cfg.test_lengths), cfg.test_samples * len(cfg.test_lengths),
                     torch.Generator().manual_seed(base + 4))
    by_len = _accuracy(model, test, cfg.eval_batch, device)
    return {"task": task_name, "model": layers, "seed": seed, "val_acc": best_val, "best_step": best_step,
            "test_acc": sum(by_len.values()) / len(by_len), "test_acc_by_length": by_len,
            "final_loss": statistics.fmean(losses[-min(50, len(losses)):]), "train_seconds": train_s,
            "chance": 1.0 / task.n_classes}


def summarise(runs: list[dict]) -> dict:
    """``summary[task][model] = {best_test, median_test, median_val, seeds, chance}`` over seeds."""
    out: dict = {}
    for r in runs:
        out.setdefault(r["task"], {}).setdefault(r["model"], []).append(r)
    return {t: {m: {"best_test": max(x["test_acc"] for x in rs),
                    "median_test": statistics.median(x["test_acc"] for x in rs),
                    "median_val": statistics.median(x["val_acc"] for x in rs),
                    "seeds": len(rs), "chance": rs[0]["chance"]} for m, rs in ms.items()}
            for t, ms in out.items()}


TABLE_COLUMNS = ["task", "model", "best_test", "median_test", "median_val", "seeds", "chance"]


def write_tables(summary: dict, md_path, csv_path) -> str:
    """Write the summary as Markdown and CSV (columns :data:`TABLE_COLUMNS`); returns the Markdown."""
    rows = [[t, m, s["best_test"], s["median_test"], s["median_val"], s["seeds"], s["chance"]]
            for t, ms in summary.items() for m, s in ms.items()]
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + "---|" * len(TABLE_COLUMNS)]
    for r in rows:
        lines.append(f"| {r[0]} | `{r[1]}` | {r[2]:.3f} | {r[3]:.3f} | {r[4]:.3f} | {r[5]} | {r[6]:.3f} |")
    md = "\n".join(lines) + "\n"
    with open(md_path, "w") as fh:
        fh.write(md)
    with open(csv_path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(TABLE_COLUMNS)
        w.writerows(rows)
    return md


def _plot(runs, cfg, ctx) -> None:
    plt = pyplot()
    nt = len(cfg.tasks)
    fig, axes = plt.subplots(1, nt, figsize=(4.2 * nt, 3.4), squeeze=False)
    for ax, t in zip(axes[0], cfg.tasks):
        for m in cfg.models:
            rs = [r for r in runs if r["task"] == t and r["model"] == m]
            Ls = sorted(rs[0]["test_acc_by_length"])
            acc = [[r["test_acc_by_length"][L] for L in Ls] for r in rs]
            med = [statistics.median(a[k] for a in acc) for k in range(len(Ls))]
            lo = [min(a[k] for a in acc) for k in range(len(Ls))]
            hi = [max(a[k] for a in acc) for k in range(len(Ls))]
            ax.plot(Ls, med, marker="o", label=m)
            ax.fill_between(Ls, lo, hi, alpha=0.15)
        ax.axhline(rs[0]["chance"], color="k", lw=0.8, ls="--", label="chance")
        ax.axvline(cfg.train_max, color="0.6", lw=0.8, ls=":")
        ax.set_title(t)
        ax.set_xlabel("test length")
        ax.set_ylim(0, 1.02)
    axes[0][0].set_ylabel("accuracy (median, min–max over seeds)")
    axes[0][-1].legend(fontsize=8)
    ctx.save_figure(fig, "accuracy_vs_length")


def run(cfg: Config, ctx) -> dict:
    _check(cfg)
    runs = []
    total = len(cfg.tasks) * len(cfg.models) * cfg.seeds * cfg.steps
    with ctx.progress(total=total, desc="formal_languages") as bar:
        for t in cfg.tasks:
            for m in cfg.models:
                for s in range(cfg.seeds):
                    r = train_one(t, m, ctx.seed + s, cfg, ctx.device, progress=bar)
                    ctx.log(f"{t:>18} {m:>4} seed {ctx.seed + s}: val {r['val_acc']:.3f} test {r['test_acc']:.3f} "
                            f"({r['train_seconds']:.1f} s)")
                    runs.append(r)
    return _report(runs, cfg, ctx)


def _report(runs: list[dict], cfg: Config, ctx) -> dict:
    """Tables, plot and metrics over ``runs`` (shared by a run and a merge)."""
    summary = summarise(runs)
    md = write_tables(summary, ctx.path("results.md"), ctx.path("results.csv"))
    ctx.log("\n" + md)
    _plot(runs, cfg, ctx)
    return {"summary": summary, "runs": runs, "table_markdown": md,
            "seconds_per_step": sum(r["train_seconds"] for r in runs) / (len(runs) * cfg.steps)}


def merge(cfg: Config, metrics: list[dict], ctx) -> dict:
    """Rebuild the report from runs split by seed (``python -m experiments merge formal_languages A B
    --out C``). Every (task, model, seed) must appear once, and every (task, model) with the same seeds."""
    runs, seeds = [], {}
    for m in metrics:
        for r in m["runs"]:
            have = seeds.setdefault((r["task"], r["model"]), set())
            if r["seed"] in have:
                raise ValueError(f"task {r['task']}, model {r['model']}, seed {r['seed']} appears in more than one run")
            have.add(r["seed"])
            # JSON turned the length keys into strings; the plot sorts them as numbers
            runs.append({**r, "test_acc_by_length": {int(k): v for k, v in r["test_acc_by_length"].items()}})
    if len({frozenset(v) for v in seeds.values()}) != 1:
        raise ValueError(f"the runs do not cover the same seeds for every task and model: {seeds}")
    return _report(runs, cfg, ctx)


EXPERIMENT = Experiment(
    Config, run,
    "AUSSM / Mamba / hybrids on parity, cycle navigation, modular arithmetic (with and without brackets) and "
    "A5 (negative control): train lengths 3-40, test 41-256, selection on in-distribution validation",
    quick=("tasks=parity,cycle_nav", "models=a,a|m", "seeds=2", "d_model=8", "d_state=4", "steps=60",
           "batch=16", "eval_every=30", "val_samples=64", "test_lengths=41,64", "test_samples=32",
           "curriculum_every=15"),
    merge=merge,
    threads=1,  # tiny tensors: one thread is fastest, and shares a busy machine best
)
