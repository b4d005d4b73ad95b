"""Intra-op thread count for experiments on small tensors (shared by every experiment).

Step loops over small tensors are dominated by per-op overhead; with several intra-op threads on a busy
machine each tiny op pays thread wake-ups (measured here: 3 s vs 0.02 s per wRNN training step with 2 vs 1
threads on a loaded 2-core box). :func:`cpu_threads` sets the count for the duration of a run and restores it.

Experiments do not call it themselves: :meth:`experiments.registry.Experiment.run` runs every experiment under
``cpu_threads(n)``, with ``n`` the config's ``threads`` setting where it has one (inherit :class:`ThreadSettings`
to offer ``--set threads=N``), else the ``threads`` the experiment was registered with.

Example
-------
>>> import torch
>>> before = torch.get_num_threads()
>>> with cpu_threads(1):
...     torch.get_num_threads()
1
>>> torch.get_num_threads() == before
True
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from .config import setting


@contextlib.contextmanager
def cpu_threads(n: int):
    """Temporarily ``torch.set_num_threads(n)``; ``n = 0`` leaves the setting alone."""
    if n < 0:
        raise ValueError(f"threads={n} must be >= 0 (0 keeps torch's default)")
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class ThreadSettings:
    """Settings block: the torch intra-op thread count of a run (see :func:`cpu_threads`).

    >>> ThreadSettings().threads
    1
    """

    threads: int = setting(1, "CPU intra-op threads during the run (0 = torch default)", minimum=0)
