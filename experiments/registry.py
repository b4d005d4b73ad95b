"""The catalogue of runnable experiments.

An experiment is a module exposing ``EXPERIMENT = Experiment(Config, run, help)`` where
``Config`` is a frozen dataclass of settings (see :mod:`experiments.config`) and
``run(cfg, ctx) -> dict`` returns the metrics. Modules are imported lazily, by name, so listing the
experiments costs nothing. To add one, write the module and add a line to :data:`CATALOG`: the catalogue is
the one place an experiment's name is written (:func:`get` gives the experiment its name).

Example
-------
>>> "replay" in CATALOG
True
>>> get("replay").name
'replay'
"""
from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, replace
from typing import Any, Callable

from .threads import cpu_threads

#: experiment name -> module path (imported on demand)
CATALOG: dict[str, str] = {
    "learn_sequence": "experiments.gsemm.learn_sequence",
    "stream": "experiments.gsemm.stream",
    "continuous": "experiments.continuous.continuous",
    "replay": "experiments.gsemm.replay",
    "escape_time": "experiments.gsemm.escape_time",
    "capacity": "experiments.gsemm.capacity",
    "time_cells": "experiments.gsemm.time_cells",
    "spike": "experiments.spiking.spike",
    "emt": "experiments.waves.emt",
    "wave_copy": "experiments.waves.wave_copy",
    "wave_adding": "experiments.waves.wave_adding",
    "formal_languages": "experiments.aussm.formal_languages",
    "compare": "experiments.compare.compare",
}


@dataclass(frozen=True)
class Experiment:
    """A runnable experiment: its settings class, entry point ``main(cfg, ctx) -> dict`` and one-line description.

    ``quick`` holds setting overrides used by ``--quick`` (a small, fast version for CI and smoke tests).
    ``merge(cfg, metrics_list, ctx) -> dict``, when given, rebuilds the report from several runs that
    differ only in their seed range (``python -m experiments merge``, :mod:`experiments.merge`).
    ``threads``: the torch intra-op threads :meth:`run` uses (0 = torch's default) unless the config has a
    ``threads`` setting (:class:`experiments.threads.ThreadSettings`). ``name`` is set by :func:`get` from
    :data:`CATALOG`; a module does not write it.
    """

    config: type
    main: Callable[[Any, Any], dict]
    help: str
    quick: tuple[str, ...] = ()
    merge: Callable[[Any, list, Any], dict] | None = None
    threads: int = 0
    name: str = ""

    def run(self, cfg, ctx) -> dict:
        """Run ``main(cfg, ctx)`` under :func:`~experiments.threads.cpu_threads` (the thread count of the run)
        and return its metrics."""
        with cpu_threads(getattr(cfg, "threads", self.threads)):
            return self.main(cfg, ctx)


def get(name: str) -> Experiment:
    """Import and return the experiment called ``name``; unknown names raise with a suggestion."""
    if name not in CATALOG:
        close = difflib.get_close_matches(name, list(CATALOG), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown experiment {name!r}.{hint} Run `python -m experiments list` to see them all.")
    module = importlib.import_module(CATALOG[name])
    return replace(module.EXPERIMENT, name=name)
