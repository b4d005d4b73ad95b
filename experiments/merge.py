"""``python -m experiments merge NAME DIR DIR ... --out DIR``: one report from runs made apart.

A long experiment can be split over processes or machines by seed (``--seed 0 --set seeds=2`` here,
``--seed 2 --set seeds=3`` there). ``merge`` checks that the runs are of the same experiment with the
same settings (everything but the seed range), then hands their metrics to the experiment's
``merge(cfg, metrics, ctx)`` hook, which rebuilds its tables and figures over all runs. The result
is an ordinary run folder whose ``config.json`` lists the merged folders under ``merged_from``.

Only experiments that define ``Experiment.merge`` can be merged; the others say so in one line.

Example
-------
>>> import json, pathlib, tempfile
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> (d / "r").mkdir()
>>> _ = (d / "r" / "config.json").write_text(json.dumps({"experiment": "x", "seed": 0}))
>>> _ = (d / "r" / "metrics.json").write_text(json.dumps({"acc": 1.0}))
>>> load_run(d / "r")
({'experiment': 'x', 'seed': 0}, {'acc': 1.0})
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from . import registry
from .config import ConfigError, validate
from .context import RunContext

#: settings that may differ between merged runs (the seed range and where it ran)
VARYING = ("seed", "seeds", "device")


def load_run(path: Path) -> tuple[dict, dict]:
    """``(config, metrics)`` of a finished run folder; a missing or unreadable file raises ``ValueError``."""
    path = Path(path)
    out = []
    for name in ("config.json", "metrics.json"):
        f = path / name
        if not f.is_file():
            raise ValueError(f"{path} is not a finished run folder (no {name})")
        try:
            out.append(json.loads(f.read_text()))
        except json.JSONDecodeError as e:
            raise ValueError(f"{f} is not valid JSON: {e}") from e
    return out[0], out[1]


def check_compatible(name: str, configs: list[dict], paths: list[Path]) -> dict:
    """The settings shared by all runs (without :data:`VARYING`); raises ``ValueError`` naming the
    first folder and key that differ from the first run."""
    if len(configs) < 2:
        raise ValueError("merge needs at least two run folders")
    for c, p in zip(configs, paths):
        if c.get("experiment") != name:
            raise ValueError(f"{p} is a run of {c.get('experiment')!r}, not {name!r}")
    base = {k: v for k, v in configs[0].items() if k not in VARYING}
    for c, p in zip(configs[1:], paths[1:]):
        for k in sorted(set(base) | set(c) - set(VARYING)):
            if c.get(k) != base.get(k):
                raise ValueError(f"{p} differs from {paths[0]} in setting {k!r}: {c.get(k)!r} != {base.get(k)!r}; "
                                 "only the seed range may differ")
    return base


def merge(name: str, paths: list[Path], out: Path, *, overwrite: bool = False) -> Path:
    """Merge the run folders ``paths`` of experiment ``name`` into the new run folder ``out``."""
    exp = registry.get(name)
    if exp.merge is None:
        raise ValueError(f"experiment {name!r} has no merge step; merge works for: "
                         + ", ".join(n for n in registry.CATALOG if _has_merge(n)))
    paths = [Path(p) for p in paths]
    loaded = [load_run(p) for p in paths]
    base = check_compatible(name, [c for c, _ in loaded], paths)
    fields = exp.config.__dataclass_fields__
    cfg = exp.config(**{k: v for k, v in base.items() if k in fields})   # JSON keeps the settings' types
    validate(cfg)
    ctx = RunContext.create(out, config={**base, "merged_from": [str(p) for p in paths]},
                            seed=min(c["seed"] for c, _ in loaded), device="cpu",   # merging computes nothing
                            overwrite=overwrite)
    try:
        metrics = exp.merge(cfg, [m for _, m in loaded], ctx)
    except BaseException:
        ctx.abort()
        raise
    return ctx.finish(metrics)


def _has_merge(name: str) -> bool:
    try:
        return registry.get(name).merge is not None
    except ImportError:
        return False


def main(args) -> int:
    try:
        path = merge(args.name, args.runs, args.out, overwrite=args.overwrite)
    except KeyError as e:
        what = e.args[0] if e.args else ""
        if isinstance(what, str) and " " in what:      # a sentence (e.g. an unknown experiment): say it
            print(f"error: {what}", file=sys.stderr)
        else:                                          # a bare key: a report lacks an entry the merge needs
            print(f"error: a run's metrics.json lacks the entry {what!r} that merging {args.name} needs "
                  f"(was it written by another version, or edited?)", file=sys.stderr)
        return 2
    except (ValueError, ConfigError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"report: {path}/ (metrics.json, config.json, figures)")
    return 0
