"""Settings blocks and builders shared by the wave experiments (``emt``, ``wave_copy``, ``wave_adding``).

* :class:`BPTTSettings` — training by backprop through time with Adam and grad-norm clipping;
* :class:`WaveVsIRNNSettings` — the wRNN and the iRNN that ``wave_copy`` and ``wave_adding`` race, built by
  :func:`wave_vs_irnn`.

Example
-------
>>> import torch
>>> from experiments.context import RunContext
>>> import tempfile, pathlib
>>> ctx = RunContext.create(pathlib.Path(tempfile.mkdtemp()) / "r", config={}, seed=0)
>>> [(name, ring) for name, _, ring in wave_vs_irnn(WaveVsIRNNSettings(n=8, c=2, irnn_hidden=4), ctx, 2, 1)]
[('wRNN (n=8, c=2)', 8), ('iRNN (n=4)', 4)]
>>> ctx.abort()
"""
from __future__ import annotations

from dataclasses import dataclass

from networks.waves import BACKENDS, WaveRNN, irnn

from ..config import setting


@dataclass(frozen=True)
class BPTTSettings:
    """Settings block: training by backprop through time, Adam on fresh batches with global grad-norm clipping.

    >>> BPTTSettings().lr
    0.001
    """

    steps: int = setting(20000, "training steps (Adam updates) per model", positive=True)
    batch: int = setting(128, "batch size", positive=True)
    lr: float = setting(1e-3, "Adam learning rate", positive=True)
    clip: float = setting(1.0, "global grad-norm clip (0 = off)", minimum=0.0)


@dataclass(frozen=True)
class WaveVsIRNNSettings(BPTTSettings):
    """Settings block: a wRNN (Keller et al.: ``c`` rings of ``n`` neurons, shift + solo init) against an iRNN of
    ``irnn_hidden`` units, trained alike (:class:`BPTTSettings`).

    >>> WaveVsIRNNSettings().c
    6
    """

    n: int = setting(100, "wRNN neurons per ring", positive=True)
    c: int = setting(6, "wRNN channels", positive=True)
    irnn_hidden: int = setting(100, "iRNN hidden units", positive=True)
    backend: str = setting("auto", "recurrence backend", choices=BACKENDS)


def wave_vs_irnn(cfg: WaveVsIRNNSettings, ctx, n_in: int, n_out: int, **wrnn_kw) -> list[tuple[str, object, int]]:
    """The two contenders as ``(name, model, neurons of the first ring or layer)``: the wRNN (``wrnn_kw`` go to
    :class:`~networks.waves.WaveRNN`) seeded with ``ctx.generator(1)``, the iRNN with ``ctx.generator(2)``."""
    return [(f"wRNN (n={cfg.n}, c={cfg.c})",
             WaveRNN(n_in, cfg.n, cfg.c, n_out, generator=ctx.generator(1), backend=cfg.backend, **wrnn_kw), cfg.n),
            (f"iRNN (n={cfg.irnn_hidden})",
             irnn(n_in, cfg.irnn_hidden, n_out, generator=ctx.generator(2), backend=cfg.backend), cfg.irnn_hidden)]
