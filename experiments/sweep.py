"""Sweeps: the cartesian product of settings × seeds as independent runs, locally or on Ray.

``python -m experiments sweep NAME --grid key=v1,v2 [--grid key2=...] [--seeds K] [--engine local|ray]``
plans every run first (so a bad grid key or value is reported before anything runs), gives each run
its own atomic run folder ``DIR/runs/<key=value,...>-seed<k>`` (see :class:`~experiments.context.RunContext`),
runs them in a process pool (``local``, one torch thread per worker) or as Ray tasks (``ray``), and writes
``DIR/results.csv``, ``DIR/results.md`` and ``DIR/plots/`` (see :mod:`experiments.sweep_report`).

Resumable: a run folder whose ``metrics.json`` exists and whose ``config.json`` matches the planned
settings is reused, not rerun. A failed run writes ``error.txt`` in its folder and a ``failed`` row in
the table; the other runs go on.

Grid values are separated by commas; a value that is itself a list is written in brackets:
``--grid r=[0.3,0.6],[0.9]`` gives two runs, one with ``r=[0.3, 0.6]`` and one with ``r=[0.9]``.

Example
-------
>>> specs = plan("escape_time", parse_grid(["T_d=10,20"]), seeds=2, out="/tmp/sw", quick=True)
>>> [s.name for s in specs]
['T_d=10-seed0', 'T_d=10-seed1', 'T_d=20-seed0', 'T_d=20-seed1']
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from .config import ConfigError, apply_overrides, to_dict

#: metric keys left out of the table (they differ between identical runs)
VOLATILE = ("wall_seconds",)


@dataclass(frozen=True)
class RunSpec:
    """One planned run: experiment, grid settings (key, raw value), seed, run folder and resolved config."""

    experiment: str
    settings: tuple[tuple[str, str], ...]
    seed: int
    out: str
    overrides: tuple[str, ...]
    quick: bool
    device: str
    config: str  # JSON of the resolved config (compared with config.json when resuming)

    @property
    def name(self) -> str:
        """The run folder's name.

        >>> plan("escape_time", {"T_d": ["10"]}, out="/tmp/x")[0].name
        'T_d=10-seed0'
        """
        return Path(self.out).name


def split_values(text: str) -> list[str]:
    """Split ``v1,v2,[a,b]`` at top-level commas (commas inside brackets stay).

    >>> split_values("0.3,[0.6,0.9],x")
    ['0.3', '[0.6,0.9]', 'x']
    """
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return out


def parse_grid(items: Sequence[str]) -> dict[str, list[str]]:
    """Parse ``["key=v1,v2", ...]`` into ``{key: [v1, v2]}``; raises :class:`ConfigError` on bad syntax.

    >>> parse_grid(["N=16,24", "r=[0.3,0.6],[0.9]"])
    {'N': ['16', '24'], 'r': ['[0.3,0.6]', '[0.9]']}
    """
    grid: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--grid expects key=v1,v2,..., got {item!r}")
        key, raw = (s.strip() for s in item.split("=", 1))
        if key in grid:
            raise ConfigError(f"--grid {key} is given twice; put all its values in one --grid {key}=v1,v2")
        values = split_values(raw)
        if not raw or any(v == "" for v in values):
            raise ConfigError(f"--grid {key}={raw!r}: empty value; write --grid {key}=v1,v2,...")
        if len(set(values)) != len(values):
            raise ConfigError(f"--grid {key}={raw}: a value is repeated; use --seeds for repetitions")
        grid[key] = values
    return grid


def _slug(value: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._+-]+", "_", value.strip().strip("[]()")).strip("_")
    return s or "_"


def run_name(settings: Sequence[tuple[str, str]], seed: int) -> str:
    """Deterministic folder name of a run from its grid settings and seed.

    >>> run_name([("T_d", "20"), ("r", "[0.3,0.6]")], 1)
    'T_d=20,r=0.3_0.6-seed1'
    """
    head = ",".join(f"{k}={_slug(v)}" for k, v in settings) or "default"
    if len(head) > 180:
        head = head[:160] + "~" + hashlib.sha1(head.encode()).hexdigest()[:8]
    return f"{head}-seed{seed}"


def plan(name: str, grid: dict[str, list[str]], *, seeds: int = 1, seed: int = 0, sets: Sequence[str] = (),
         quick: bool = False, out: str | Path = "runs/sweep", device: str = "cpu") -> list[RunSpec]:
    """Validate the sweep and return its runs (grid order, then seed); nothing runs or is written.

    Unknown experiments raise ``KeyError``; unknown keys and bad values raise :class:`ConfigError`
    naming the key, the value and the fix.

    >>> len(plan("escape_time", {"T_d": ["10", "20"], "visits": ["2", "3"]}, seeds=3, out="/tmp/x"))
    12
    """
    from . import registry
    exp = registry.get(name)
    if seeds < 1:
        raise ConfigError(f"--seeds {seeds}: needs at least one seed")
    base = exp.config()
    try:
        if quick:
            base = apply_overrides(base, exp.quick)
        base = apply_overrides(base, sets)
    except ConfigError as e:
        raise ConfigError(f"{e} (see `python -m experiments run {name} --help`)") from None
    set_keys = {p.split("=", 1)[0].strip() for p in sets}
    for key in grid:
        if key in set_keys:
            raise ConfigError(f"{key} is both in --set and in --grid; keep only one of them")
    root = Path(out).resolve() / "runs"
    keys = list(grid)
    specs: list[RunSpec] = []
    for combo in itertools.product(*(grid[k] for k in keys)):
        pairs = [f"{k}={v}" for k, v in zip(keys, combo)]
        try:
            cfg = apply_overrides(base, pairs)
        except ConfigError as e:
            raise ConfigError(f"--grid: {e} (see `python -m experiments run {name} --help`)") from None
        resolved = json.dumps({"experiment": name, **to_dict(cfg)}, sort_keys=True, default=str)
        for k in range(seed, seed + seeds):
            settings = tuple(zip(keys, combo))
            specs.append(RunSpec(name, settings, k, str(root / run_name(settings, k)),
                                 tuple(sets) + tuple(pairs), quick, device, resolved))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):  # two values with the same slug: make every name unique
        specs = [RunSpec(s.experiment, s.settings, s.seed,
                         str(Path(s.out).with_name(
                             s.name + "-" + hashlib.sha1(repr(s.settings).encode()).hexdigest()[:6])),
                         s.overrides, s.quick, s.device, s.config) for s in specs]
    return specs


def finished(spec: RunSpec) -> dict | None:
    """The metrics of a finished run of ``spec`` (``metrics.json`` present), else ``None``.

    A finished folder made with other settings raises :class:`ConfigError` rather than being reused.

    >>> finished(plan("escape_time", {}, out="/nonexistent")[0]) is None
    True
    """
    folder = Path(spec.out)
    if not (folder / "metrics.json").exists():
        return None
    saved = json.loads((folder / "config.json").read_text())
    saved.pop("seed", None)
    saved.pop("device", None)
    if json.dumps(saved, sort_keys=True, default=str) != spec.config or \
            json.loads((folder / "config.json").read_text()).get("seed") != spec.seed:
        raise ConfigError(f"run folder {folder} holds a run with other settings; pass another --out "
                          "or remove that folder")
    return json.loads((folder / "metrics.json").read_text())


def scalar_metrics(metrics: dict) -> dict:
    """The numeric and boolean top-level metrics of a run, without volatile ones (wall time).

    >>> scalar_metrics({"err": 0.1, "ok": True, "points": [1, 2], "summary": "x", "wall_seconds": 3.0})
    {'err': 0.1, 'ok': True}
    """
    return {k: v for k, v in metrics.items()
            if k not in VOLATILE and (isinstance(v, (bool, int, float)) or v in ("inf", "-inf"))}


def _record(spec: RunSpec, status: str, metrics: dict | None = None, error: str = "") -> dict:
    return {"run": spec.name, **dict(spec.settings), "seed": spec.seed, **scalar_metrics(metrics or {}),
            "status": status, "error": error}


def init_worker(threads: int = 1) -> None:
    """Pin a worker process to ``threads`` torch/OpenMP threads (called in every pool worker).

    >>> init_worker(1)  # doctest: +SKIP  (changes this process's thread settings)
    """
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch
    torch.set_num_threads(threads)


def init_pool_worker(threads: int = 1) -> None:
    """Initializer of a local sweep's pool workers: :func:`init_worker` plus the stop handling of
    :func:`experiments.signals.worker_signals` (SIGINT ignored, SIGTERM cleans up, exit with the parent).

    >>> init_pool_worker(1)  # doctest: +SKIP  (changes this process's signal handlers)
    """
    init_worker(threads)
    from .signals import worker_signals
    worker_signals()


def run_one(spec: RunSpec) -> dict:
    """Run one planned run in this process and return its table row (never raises for a failed run).

    The row holds the grid settings, the seed, the scalar metrics, ``status`` (``ok``/``failed``) and
    ``error``; a failure also writes ``error.txt`` (the traceback) into the run folder.

    >>> row = run_one(plan("escape_time", {"visits": ["0"]}, out="/tmp/none")[0])  # doctest: +SKIP
    """
    from . import registry
    from .context import RunContext
    import torch
    out = Path(spec.out)
    ctx = None
    try:
        exp = registry.get(spec.experiment)
        cfg = exp.config()
        if spec.quick:
            cfg = apply_overrides(cfg, exp.quick)
        cfg = apply_overrides(cfg, spec.overrides)
        torch.manual_seed(spec.seed)
        ctx = RunContext.create(out, config={"experiment": spec.experiment, **to_dict(cfg)}, seed=spec.seed,
                                device=spec.device, overwrite=True, quiet=True)
        metrics = exp.run(cfg, ctx)
        ctx.finish(metrics)
        return _record(spec, "ok", metrics)
    except KeyboardInterrupt:                      # stopped (SIGINT, or SIGTERM in a pool worker): no partial left
        if ctx is not None:
            ctx.abort()
        raise
    except Exception as e:
        if ctx is not None:
            ctx.abort()
        out.mkdir(parents=True, exist_ok=True)
        (out / "error.txt").write_text(traceback.format_exc())
        return _record(spec, "failed", error=f"{type(e).__name__}: {e}".splitlines()[0][:300])


def _ray_task(spec: RunSpec, threads: int) -> dict:
    init_worker(threads)
    return run_one(spec)


def _pool_run(spec: RunSpec) -> dict:
    """:func:`run_one` in a pool worker; a stop (SIGTERM from the parent) ends the worker after clean-up."""
    from .signals import busy
    try:
        with busy():
            return run_one(spec)
    except KeyboardInterrupt:
        os._exit(143)


def _stop_pool(pool, grace: float = 10.0) -> None:
    """Cancel the queued runs, SIGTERM the workers (each removes its run's temporary folder), SIGKILL any
    that do not exit within ``grace`` seconds, and wait for all of them."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + grace
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()


def _run_local(specs, workers, on_result):
    from concurrent.futures import ProcessPoolExecutor, as_completed
    import multiprocessing as mp
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                               initializer=init_pool_worker, initargs=(1,))
    try:
        futures = {pool.submit(_pool_run, s): s for s in specs}
        for f in as_completed(futures):
            try:
                row = f.result()
            except Exception as e:  # the worker process died (e.g. killed for memory)
                row = _record(futures[f], "failed", error=f"worker died: {type(e).__name__}: {e}")
            on_result(row)
    except BaseException:           # KeyboardInterrupt / Terminated: stop every worker before leaving
        _stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _run_ray(specs, workers, on_result, cpus_per_run=1.0, gpus_per_run=0.0):
    try:
        import ray
    except ImportError as e:
        raise ModuleNotFoundError("--engine ray needs Ray: pip install -e '.[ray]' (or pip install ray), "
                                  "or use --engine local") from e
    started = False
    if not ray.is_initialized():
        from .signals import keep_sigterm
        with keep_sigterm():                        # ray.init installs its own SIGTERM handler over ours
            if os.environ.get("RAY_ADDRESS"):
                ray.init(address=os.environ["RAY_ADDRESS"])
            else:
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        started = True
    try:
        task = ray.remote(_ray_task).options(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=0)
        refs = {task.remote(s, max(1, int(cpus_per_run))): s for s in specs}
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    try:
                        row = ray.get(ref)
                    except Exception as e:  # the task's worker died
                        row = _record(refs[ref], "failed", error=f"ray task failed: {type(e).__name__}: {e}"[:300])
                    on_result(row)
        except BaseException:       # interrupted: stop the remaining tasks (their temporary folders are
            for ref in pending:     # removed by the next run of the sweep, their processes being gone)
                ray.cancel(ref, force=True)
            raise
    finally:
        if started:
            ray.shutdown()


def run_sweep(specs: Sequence[RunSpec], *, engine: str = "local", workers: int | None = None,
              cpus_per_run: float = 1.0, gpus_per_run: float = 0.0,
              log: Callable[[str], None] | None = None) -> tuple[list[dict], dict]:
    """Run ``specs`` (skipping finished ones) and return ``(rows in plan order, counts)``.

    ``counts`` has ``reused``, ``ran`` and ``failed``. ``engine`` is ``local`` (spawned process pool of
    ``workers``) or ``ray`` (tasks with ``cpus_per_run``/``gpus_per_run``; attaches to ``$RAY_ADDRESS``
    when set, else starts a local instance with ``workers`` CPUs, unless Ray is already initialised).

    >>> rows, counts = run_sweep(plan("escape_time", {"T_d": ["10"]}, quick=True, out="/tmp/sw"))  # doctest: +SKIP
    """
    if engine not in ("local", "ray"):
        raise ConfigError(f"--engine {engine!r}: use local or ray")
    workers = workers or min(len(specs), os.cpu_count() or 1) or 1
    rows: dict[str, dict] = {}
    todo = []
    for s in specs:
        metrics = finished(s)
        if metrics is None:
            todo.append(s)
        else:
            rows[s.name] = _record(s, "ok", metrics)
    counts = {"reused": len(rows), "ran": 0, "failed": 0}
    t0 = time.perf_counter()

    def on_result(row):
        rows[row["run"]] = row
        counts["ran"] += 1
        counts["failed"] += row["status"] == "failed"
        if log:
            extra = f"  {row['error']}" if row["error"] else ""
            log(f"[{counts['ran']}/{len(todo)}] {row['status']:<6} {row['run']}  "
                f"({time.perf_counter() - t0:.0f} s){extra}")

    from .context import remove_stale_partials
    for s in todo:  # temporary folders left by an interrupted earlier attempt of these runs (only of dead
        remove_stale_partials(Path(s.out))  # processes: a concurrent sweep's live folders are left alone)
    if todo:
        if engine == "local":
            _run_local(todo, workers, on_result)
        else:
            _run_ray(todo, workers, on_result, cpus_per_run, gpus_per_run)
    return [rows[s.name] for s in specs], counts


def main(args) -> int:
    """Entry point of ``python -m experiments sweep`` (``args`` from the CLI's parser); returns the exit status:
    0 all runs ok, 1 some failed, 2 a usage error (reported before any run), 130 interrupted (SIGINT) and
    143 stopped (SIGTERM); see :mod:`experiments.signals` for what a stopped sweep keeps.

    >>> from experiments.cli import main as cli
    >>> cli(["sweep", "escape_time", "--grid", "dtype=float64,float16", "--out", "/tmp/never-written"])
    2
    """
    from .sweep_report import write_report
    try:
        grid = parse_grid(args.grid)
        out = Path(args.out or Path("runs") / f"sweep-{args.name}-{time.strftime('%Y%m%d-%H%M%S')}")
        specs = plan(args.name, grid, seeds=args.seeds, seed=args.seed, sets=args.sets, quick=args.quick,
                     out=out, device=args.device)
        if args.workers is not None and args.workers < 1:
            raise ConfigError(f"--workers {args.workers}: needs at least 1")
        if args.device != "cpu":
            from .context import resolve_device
            resolve_device(args.device)
        for s in specs:
            finished(s)  # settings clash with an existing folder -> error before any run
    except KeyError as e:
        print(f"error: {e.args[0]}", file=sys.stderr)
        return 2
    except (ConfigError, ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"sweep {args.name}: {len(specs)} runs ({len(specs) // args.seeds} settings × {args.seeds} seeds) "
          f"on {args.engine} -> {out}/", file=sys.stderr)
    meta = {"experiment": args.name, "grid": grid, "seeds": args.seeds, "seed": args.seed, "sets": list(args.sets),
            "quick": args.quick, "engine": args.engine}
    from .signals import exit_status, interruptible
    try:
        with interruptible():                         # SIGTERM stops the sweep like Ctrl-C
            rows, counts = run_sweep(specs, engine=args.engine, workers=args.workers,
                                     cpus_per_run=args.cpus_per_run, gpus_per_run=args.gpus_per_run,
                                     log=lambda m: print(m, file=sys.stderr))
    except ModuleNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        return _interrupted(specs, out, list(grid), meta, exit_status(e))
    paths = write_report(out, rows, list(grid), meta=meta)
    print(f"{args.name}: {counts['ran']} ran, {counts['reused']} reused (finished earlier), "
          f"{counts['failed']} failed")
    print(f"report: {paths['markdown']} (table), {paths['csv']}, plots in {out}/plots/; "
          f"rerun the same command with --out {out} to resume")
    return 1 if counts["failed"] else 0


def _interrupted(specs, out: Path, keys: list[str], meta: dict, status: int) -> int:
    """Report a stopped sweep: finished runs kept and tabled as ``ok``, failed ones as ``failed`` (the last line of
    their ``error.txt``), the rest as ``interrupted``."""
    from .context import remove_stale_partials
    from .sweep_report import write_report
    for s in specs:
        remove_stale_partials(Path(s.out))            # temporary folders of workers that were stopped or killed
    rows = []
    for s in specs:
        try:
            metrics = finished(s)
        except (ConfigError, ValueError, OSError):
            metrics = None
        error = Path(s.out) / "error.txt"                # a run that failed before the stop stays failed
        if metrics is not None:
            rows.append(_record(s, "ok", metrics))
        elif error.is_file():
            last = (error.read_text().strip().splitlines() or ["failed"])[-1]
            rows.append(_record(s, "failed", error=last[:300]))
        else:
            rows.append(_record(s, "interrupted"))
    done = sum(r["status"] == "ok" for r in rows)
    paths = write_report(out, rows, keys, meta={**meta, "interrupted": True})
    print(f"interrupted: {done} of {len(specs)} runs are finished and kept (report: {paths['markdown']}); "
          f"run the same command with --out {out} to resume", file=sys.stderr)
    return status
