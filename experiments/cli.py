"""Command line: ``python -m experiments list``, ``run NAME ...``, ``sweep``, ``merge`` and ``diagnose``.

``run`` resolves the settings (defaults, then ``--quick`` overrides, then ``--set`` pairs), creates
the run folder atomically, runs the experiment with a progress bar and prints a short summary that
points to the report. Every error a user can trigger (unknown experiment or key, bad value, missing
optional package, ``--device cuda`` without a GPU) is reported in one line naming the fix, with exit
status 2.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import registry
from .config import ConfigError, apply_overrides, describe, to_dict, validate
from .context import RunContext
from .signals import exit_status, interruptible


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m experiments", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the experiments")
    r = sub.add_parser("run", help="run one experiment", add_help=False)
    r.add_argument("name", help="experiment name (see `list`)")
    r.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a setting; repeatable")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", type=Path, default=None, help="run folder (default runs/NAME-<time>)")
    r.add_argument("--device", default="cpu", help="cpu or cuda")
    r.add_argument("--quick", action="store_true", help="small fast version (CI / smoke test)")
    r.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    r.add_argument("-h", "--help", action="store_true", help="show the experiment's settings")
    _add_subcommands(sub)
    return p


def _add_subcommands(sub) -> None:
    """The ``sweep``, ``diagnose`` and ``merge`` subcommands (experiments.sweep, .diagnose, .merge)."""
    s = sub.add_parser("sweep", help="run a grid of settings x seeds as independent runs (local or Ray)")
    s.add_argument("name", help="experiment name (see `list`)")
    s.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                   help="values of one setting to sweep; repeatable (cartesian product); list values in [..]")
    s.add_argument("--seeds", type=int, default=1, help="seeds per setting (seed, seed+1, ...)")
    s.add_argument("--seed", type=int, default=0, help="first seed")
    s.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="fixed override for every run; repeatable")
    s.add_argument("--quick", action="store_true", help="start from the experiment's quick settings")
    s.add_argument("--engine", choices=("local", "ray"), default="local")
    s.add_argument("--workers", type=int, default=None, help="parallel runs (default: CPU count)")
    s.add_argument("--cpus-per-run", type=float, default=1.0, help="Ray: CPUs requested per run")
    s.add_argument("--gpus-per-run", type=float, default=0.0, help="Ray: GPUs requested per run")
    s.add_argument("--out", type=Path, default=None,
                   help="sweep folder (default runs/sweep-NAME-<time>); reuse to resume")
    s.add_argument("--device", default="cpu", help="cpu or cuda")
    sub.add_parser("diagnose", help="versions, usable backends and a smoke test of each")
    m = sub.add_parser("merge", help="one report from runs of one experiment that differ only in their seeds")
    m.add_argument("name", help="experiment name (see `list`)")
    m.add_argument("runs", nargs="+", type=Path, help="finished run folders")
    m.add_argument("--out", type=Path, required=True, help="new run folder for the merged report")
    m.add_argument("--overwrite", action="store_true", help="replace an existing folder at --out")


def _fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


#: optional module -> the extra that installs it (named in the error when the module is missing)
_EXTRAS = {"matplotlib": "plot", "brian2": "spiking", "brian2cuda": "spiking-cuda", "triton": "kernels",
           "sklearn": "data", "ray": "ray"}


def _import_error(e: ImportError) -> str:
    """The message of a missing optional package, with the ``pip install`` command that fixes it."""
    msg = str(e)
    name = (getattr(e, "name", None) or "").split(".")[0]
    if name in _EXTRAS and "pip install" not in msg:
        msg += f"; it comes with the optional extra `{_EXTRAS[name]}`: pip install -e '.[{_EXTRAS[name]}]'"
    return msg


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "sweep":
        from .sweep import main as sweep_main
        return sweep_main(args)
    if args.command == "merge":
        from .merge import main as merge_main
        return merge_main(args)
    if args.command == "diagnose":
        from .diagnose import main as diagnose_main
        return diagnose_main()
    if args.command == "list":
        for name in registry.CATALOG:
            try:
                exp = registry.get(name)
                print(f"{name:<16} {exp.help}")
            except ImportError as e:
                print(f"{name:<16} (unavailable: {e})")
        return 0

    try:
        exp = registry.get(args.name)
    except KeyError as e:
        return _fail(e.args[0])
    except ImportError as e:  # the experiment's module needs an optional package
        return _fail(_import_error(e))
    if args.help:
        print(f"python -m experiments run {exp.name} [--set KEY=VALUE ...] [--seed N] [--out DIR] "
              f"[--overwrite] [--device cpu|cuda] [--quick]\n\n{exp.help}\n\nsettings:\n{describe(exp.config)}")
        return 0
    try:
        cfg = exp.config()
        validate(cfg)
        if args.quick:
            cfg = apply_overrides(cfg, exp.quick)
        cfg = apply_overrides(cfg, args.sets)
    except ConfigError as e:
        return _fail(f"{e} (see `python -m experiments run {exp.name} --help`)")

    try:
        import matplotlib  # noqa: F401  (every experiment writes figures: fail before any work)
    except ImportError as e:
        return _fail(_import_error(e))
    out = args.out or Path("runs") / f"{exp.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        ctx = RunContext.create(out, config={"experiment": exp.name, **to_dict(cfg)}, seed=args.seed,
                                device=args.device, overwrite=args.overwrite)
    except (ValueError, RuntimeError, FileExistsError) as e:
        return _fail(str(e))
    except OSError as e:                                   # e.g. a read-only --out
        return _fail(f"cannot create the run folder {out}: {e}")
    try:
        with interruptible():                                # SIGTERM cleans up like Ctrl-C
            metrics = exp.run(cfg, ctx)
    except KeyboardInterrupt as e:
        ctx.abort()
        print("interrupted; no run folder written", file=sys.stderr)
        return exit_status(e)
    except (ConfigError, ValueError) as e:
        ctx.abort()
        return _fail(str(e))
    except ImportError as e:
        ctx.abort()
        return _fail(_import_error(e))
    except (ArithmeticError, FloatingPointError) as e:       # a setting drove the maths out of range
        ctx.abort()
        changed = " ".join(args.sets) or "(defaults)"
        return _fail(f"{exp.name} stopped with {type(e).__name__} ({e}) under the settings you gave: {changed}; "
                     f"check their values (`python -m experiments run {exp.name} --help`)")
    except OSError as e:
        ctx.abort()
        return _fail(f"cannot write the run folder {ctx.out}: {e}")
    except BaseException:
        ctx.abort()
        raise
    try:
        with interruptible():
            path = ctx.finish(metrics)
    except KeyboardInterrupt as e:                             # stopped while writing: no half-written folder
        ctx.abort()
        print("interrupted; no run folder written", file=sys.stderr)
        return exit_status(e)
    except OSError as e:
        ctx.abort()
        return _fail(f"cannot write the run folder {ctx.out}: {e}")
    summary = metrics.get("summary")
    print(f"{exp.name}: {summary}" if summary else f"{exp.name}: done")
    print(f"report: {path}/ (metrics.json, config.json, figures)")
    return 0
