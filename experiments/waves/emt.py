"""`emt`: train bias-free Elman RNNs on EMT variable-binding tasks and reveal the traveling wave.

For each task × L2 weight decay: train with the authors' recipe (:mod:`.emt_train`), report test bit
accuracy at horizon 200, the number of W_hh eigenvalues with |λ| > 0.8 (theory: 64 for repeat copy, 36 for
the compositions), the spectral (eigen-angle) error against Φ in radians, the wave-shift score of
Ψ*h(t), the final training bit accuracy (last 200 steps) and the number of W_hh singular values above 0.1
(how many hidden directions the weight decay left alive). Figures: spectrum vs Φ, W_hh in the wave basis,
Ψ*h(t) frames, training curves, accuracy table.

Reference numbers (Karuvally et al., EMT, arXiv:2310.02430; authors' notebooks): hidden 128, L2 ∈ {0, 1e−3}:
accuracy 0.93–1.00 and spectral error 5e−4 – 1.1e−2 rad; L2 = 0.1: chance (0.50). Demo (repeat copy,
hidden 128, 20k steps): test accuracy 0.99987, 64 eigenvalues, 0.0273° spectral error. Our pass band:
accuracy ≥ 0.94 at L2 ∈ {0, 1e−3}, ≤ 0.6 at L2 = 0.1. Repeat copy at L2 = 1e−3 stays below it under both
statistics below (seeds 0–4, threshold 0.96, on CPU: final model 0.856–0.934, mean 0.891; best kept
checkpoint, mean 0.911; the paper's own cell is 0.93): Adam's coupled decay leaves 43–49 of the 64 memory
slots (docs/waves.md).

Two accuracy statistics per run (``seeds`` runs per task × L2, seed index j uses the generator streams of
``--seed <seed + j>``):

- ``test_acc``: the final model's test bit accuracy at ``test_horizon``.
- ``test_acc_best_ckpt``: the paper's per-seed statistic. Snapshots are taken every ``checkpoint_every``
  steps (default 2000, the authors' epoch) and ranked by training accuracy (``checkpoint_rank``; default the
  epoch's last training batch, what the authors' Lightning ``ModelCheckpoint`` monitors); the top
  ``checkpoint_top`` (5) are kept and each is tested with the same test generator as the final model;
  the maximum is reported with its step (``best_ckpt_step``). The final model counts only if it is among
  the kept snapshots, so this can be below ``test_acc``.

The paper's table cell is the mean over seeds of ``test_acc_best_ckpt``; ``metrics["cells"]`` gives, per
task × L2, the means of both statistics. ``pattern_reproduced`` applies the pass band to the cell means of
the final-model accuracy: it is the model one would ship, while the paper's statistic picks among the
kept checkpoints by *test* accuracy, i.e. it selects on the test stream and is the more optimistic number.
``pattern_reproduced_best_ckpt`` applies the band to the paper's statistic. ``pattern_statistic`` names
what each flag uses.

    python -m experiments run emt --device cuda
    python -m experiments run emt --quick
"""
from __future__ import annotations

import copy
import torch

from networks.waves import EMT_TASKS
from networks.waves.elman import ELMAN_BACKENDS

from ..config import ConfigError, setting, with_defaults
from ..registry import Experiment
from ..threads import ThreadSettings
from . import emt_figures as figs
from .common import BPTTSettings
from .emt_analysis import BASES, analyse
from .emt_train import CHECKPOINT_RANKS, evaluate_emt, train_emt, window_acc


def parse_task(name: str) -> tuple[int, int, int]:
    """A task name from EMT_TASKS or an explicit id ``"id1/id2/id3"``.

    >>> parse_task("repeat_copy"), parse_task("255/0/0")
    ((255, 0, 0), (255, 0, 0))
    """
    if name in EMT_TASKS:
        return EMT_TASKS[name]
    parts = name.split("/")
    if len(parts) == 3 and all(p.strip().isdigit() for p in parts):
        return tuple(int(p) for p in parts)  # type: ignore[return-value]
    raise ConfigError(f"tasks: {name!r} is neither one of {list(EMT_TASKS)} nor an id 'id1/id2/id3'")


@with_defaults(batch=64)
class EMTConfig(ThreadSettings, BPTTSettings):
    tasks: list[str] = setting(["repeat_copy", "compose_a"], "EMT tasks: names or 'id1/id2/id3'")
    l2: list[float] = setting([0.0, 1e-3, 0.1], "L2 weight decays to sweep (Adam weight_decay)")
    hidden: int = setting(128, "hidden units", positive=True)
    levels: list[int] = setting([10, 20, 40, 60, 100], "curriculum horizons")
    threshold: float = setting(0.96, "curriculum advance threshold on training bit accuracy", positive=True)
    test_horizon: int = setting(200, "test horizon (extrapolation)", positive=True)
    test_batches: int = setting(10, "test batches of `batch`", positive=True)
    basis: str = setting("krylov_input", "wave basis for the figures", choices=BASES)
    backend: str = setting("aten", "recurrence backend (aten = torch.nn.RNN's kernel, cuDNN on CUDA)",
                           choices=ELMAN_BACKENDS)
    max_minutes: float = setting(0.0, "wall-clock cap per training run in minutes (0 = none); reported", minimum=0.0)
    seeds: int = setting(1, "runs per task × L2; seed index j uses the streams of --seed <seed+j>", positive=True)
    checkpoint_every: int = setting(2000, "snapshot every this many steps (2000 = the authors' epoch; 0 = off)",
                                    minimum=0)
    checkpoint_top: int = setting(5, "snapshots kept by training accuracy (Lightning save_top_k)", positive=True)
    checkpoint_rank: str = setting("last_batch", "training accuracy that ranks snapshots: the epoch's last batch "
                                   "(what the authors' ModelCheckpoint monitors) or the mean over its last 200 steps",
                                   choices=CHECKPOINT_RANKS)


def _final_train_acc(acc_log: list[tuple[int, float]], window: int = 200) -> float:
    """Mean training-batch bit accuracy over the logged steps in the last ``window`` steps (at the final horizon,
    unless the curriculum advanced inside the window).

    >>> round(_final_train_acc([(0, 0.5), (10, 0.9), (200, 0.7), (210, 0.8)], window=200), 6)   # steps 10..210
    0.8
    """
    return window_acc(acc_log, acc_log[-1][0], window + 1)     # steps are integers: s >= last - window


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def aggregate_cells(rows: list[dict]) -> list[dict]:
    """Per (task, L2): the seeds and the means over seeds of ``test_acc`` and ``test_acc_best_ckpt``.

    >>> rows = [{"task": "t", "l2": 0.0, "seed": 0, "test_acc": 0.8, "test_acc_best_ckpt": 0.9},
    ...         {"task": "t", "l2": 0.0, "seed": 1, "test_acc": 0.6, "test_acc_best_ckpt": None}]
    >>> c = aggregate_cells(rows)[0]
    >>> c["seeds"], round(c["test_acc_mean"], 6), c["test_acc_best_ckpt_mean"], c["n_best_ckpt"]
    ([0, 1], 0.7, 0.9, 1)
    """
    cells: dict[tuple, dict] = {}
    for r in rows:
        c = cells.setdefault((r["task"], r["l2"]), {"task": r["task"], "l2": r["l2"], "seeds": [], "_a": [], "_b": []})
        c["seeds"].append(r["seed"])
        c["_a"].append(r["test_acc"])
        if r.get("test_acc_best_ckpt") is not None:
            c["_b"].append(r["test_acc_best_ckpt"])
    out = []
    for c in cells.values():
        a, b = c.pop("_a"), c.pop("_b")
        c.update(n=len(a), test_acc_mean=_mean(a), test_acc_min=min(a), test_acc_max=max(a),
                 n_best_ckpt=len(b), test_acc_best_ckpt_mean=_mean(b) if b else None)
        out.append(c)
    return out


def _pattern(cells: list[dict], key: str):
    """The EMT-table pass band on ``key``: ≥ 0.94 at L2 ≤ 1e−3 and ≤ 0.6 at L2 ≥ 0.1 (None if a kind is missing)."""
    vals = [(c["l2"], c[key]) for c in cells]
    if any(v is None for _, v in vals):
        return None
    ok = [v >= 0.94 for l2, v in vals if l2 <= 1e-3]
    chance = [v <= 0.6 for l2, v in vals if l2 >= 0.1]
    return (all(ok) and all(chance)) if (ok and chance) else None


def run(cfg: EMTConfig, ctx) -> dict:
    task_ids = {t: parse_task(t) for t in cfg.tasks}
    if not cfg.l2 or any(v < 0 for v in cfg.l2):
        raise ConfigError(f"l2={cfg.l2} must be a non-empty list of non-negative numbers")
    if cfg.seeds >= 1000:
        raise ConfigError(f"seeds={cfg.seeds} must be < 1000 (generator offsets are 1000 apart per task × L2)")
    device = str(ctx.device)
    rows, runs = [], []
    k = 0
    for task, tid in task_ids.items():
        for l2 in cfg.l2:
            for j in range(cfg.seeds):
                off = 1000 * k + j      # seed index j = the streams of --seed <seed + j> with seeds=1
                seed = ctx.seed + j
                ctx.log(f"emt: {task} L2={l2:g} seed {seed} ({cfg.steps} steps, hidden {cfg.hidden}, {device})")
                res = train_emt(tid, cfg.hidden, cfg.steps, cfg.batch, cfg.lr, l2, cfg.clip, cfg.levels,
                                cfg.threshold, generator=ctx.generator(off), device=device, backend=cfg.backend,
                                max_seconds=60 * cfg.max_minutes, checkpoint_every=cfg.checkpoint_every,
                                checkpoint_top=cfg.checkpoint_top, checkpoint_rank=cfg.checkpoint_rank,
                                progress=lambda it: ctx.progress(it, total=cfg.steps,
                                                                 desc=f"{task} L2={l2:g} seed {seed}"))
                model = res["model"]

                def test(m):   # the same fixed test stream for the final model and every checkpoint
                    return evaluate_emt(m, tid, cfg.test_horizon, cfg.test_batches, cfg.batch,
                                        generator=ctx.generator(off + 1), device=device)

                acc = test(model)
                ckpts, best = res["checkpoints"], None
                if res["kept_states"]:
                    probe = copy.deepcopy(model)
                    for c in ckpts:
                        if c["kept"]:
                            probe.load_state_dict(res["kept_states"][c["step"]])
                            # the final snapshot holds the final weights: reuse their test accuracy
                            c["test_acc"] = acc if c["step"] == res["steps_done"] else test(probe)
                            if best is None or c["test_acc"] > best["test_acc"]:
                                best = c
                an = analyse(model, tid, cfg.basis, generator=ctx.generator(off + 2))
                row = {"task": task, "task_id": list(tid), "l2": l2, "seed": seed, "threshold": cfg.threshold,
                       "test_acc": acc,
                       "test_acc_best_ckpt": best["test_acc"] if best else None,
                       "best_ckpt_step": best["step"] if best else None,
                       "best_ckpt_train_acc": best["train_acc"] if best else None,
                       "final_in_kept_ckpts": any(c["kept"] and c["step"] == res["steps_done"] for c in ckpts),
                       "checkpoints": ckpts,
                       "eig_count": an["eig_count"],
                       "spectral_error_rad": an["spectral_error"], "wave_shift_score": an["wave_shift_score"],
                       "train_seconds": round(res["seconds"], 2), "steps_done": res["steps_done"],
                       "steps_per_second": round(res["steps_done"] / res["seconds"], 1),
                       "final_horizon": res["curriculum"].horizon,
                       "curriculum_steps": [s for s, _ in res["curriculum"].history],
                       "final_train_loss": res["history"]["loss"][-1][1],
                       "final_train_acc": _final_train_acc(res["history"]["acc"]),
                       "sv_above_0.1": int((torch.linalg.svdvals(model.weight_hh.detach().cpu().double()) > 0.1).sum())}
                rows.append(row)
                bc = (f", best ckpt {best['test_acc']:.4f} @ {best['step']}" if best else "")
                ctx.log(f"emt: {task} L2={l2:g} seed {seed}: test acc {acc:.4f}{bc}, {an['eig_count']} eig>0.8, "
                        f"train acc {row['final_train_acc']:.3f}, {res['seconds'] / 60:.1f} min")
                runs.append({"task": task, "l2": l2, "seed": seed, "history": res["history"]})
                if l2 == cfg.l2[0] and j == 0:
                    title = f"{task} {tid}, hidden {cfg.hidden}, L2={l2:g}, acc@{cfg.test_horizon}={acc:.4f}"
                    ctx.save_figure(figs.spectrum_figure(an, title), f"spectrum_{task}")
                    ctx.save_figure(figs.basis_matrix_figure(an, 8, title), f"whh_wave_basis_{task}")
                    ctx.save_figure(figs.wave_figure(an, 8, title), f"wave_{task}")
            k += 1
    cells = aggregate_cells(rows)
    ctx.save_figure(figs.training_figure(runs), "training")
    ctx.save_figure(figs.table_figure(cells), "accuracy_table")
    parts = []
    for c in cells:
        b = c["test_acc_best_ckpt_mean"]
        parts.append(f"{c['task']} L2={c['l2']:g} ({c['n']} seed{'s' if c['n'] > 1 else ''}): "
                     f"acc {c['test_acc_mean']:.4f}"
                     + (f", best-ckpt acc {b:.4f}" if b is not None else ""))
    for r in rows:
        if r["seed"] == ctx.seed:
            parts.append(f"{r['task']} L2={r['l2']:g} seed {r['seed']}: {r['eig_count']} eig>0.8, "
                         f"spec.err {r['spectral_error_rad']:.1e} rad")
    # the EMT-table pattern needs both kinds of runs: L2 in {0, 1e-3} solved, L2 = 0.1 at chance
    return {"runs": rows, "cells": cells,
            "pattern_reproduced": _pattern(cells, "test_acc_mean"),
            "pattern_reproduced_best_ckpt": _pattern(cells, "test_acc_best_ckpt_mean"),
            "pattern_statistic": {
                "pattern_reproduced": "per task x L2, mean over seeds of the final model's test_acc",
                "pattern_reproduced_best_ckpt": "per task x L2, mean over seeds of test_acc_best_ckpt (max test "
                                                "accuracy over the top-k checkpoints by training accuracy; the "
                                                "paper's Table 1 statistic)",
                "band": "acc >= 0.94 at L2 <= 1e-3 and <= 0.6 at L2 >= 0.1"},
            "summary": "; ".join(parts)}


EXPERIMENT = Experiment(
    EMTConfig, run,
    "EMT variable binding: bias-free Elman RNN, test accuracy at horizon 200, spectrum vs Φ, wave basis",
    quick=("tasks=repeat_copy", "l2=0.0,0.1", "hidden=32", "steps=800", "batch=32", "levels=4,8",
           "test_horizon=24", "test_batches=2", "checkpoint_every=200"),
)
