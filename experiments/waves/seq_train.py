"""Shared BPTT training loop for the wRNN-vs-iRNN experiments (copy, adding).

``train_sequence_model(model, sampler, loss_fn, steps, lr, clip)`` draws a fresh batch every step from
``sampler(generator)``, minimises ``loss_fn(model_output, target)`` with Adam and global grad-norm clipping
and records the loss every step.

Example
-------
>>> import torch
>>> from networks.waves import WaveRNN
>>> from experiments.waves.tasks import adding_batch
>>> net = WaveRNN(2, 8, 2, 1, readout_mode="last", generator=torch.Generator().manual_seed(0))
>>> res = train_sequence_model(net, lambda g: adding_batch(4, 6, generator=g),
...                            lambda out, y: ((out - y) ** 2).mean(), steps=3,
...                            generator=torch.Generator().manual_seed(0))
>>> len(res["loss"])
3
"""
from __future__ import annotations

import time

import torch


def train_sequence_model(model, sampler, loss_fn, steps: int, lr: float = 1e-3, clip: float = 1.0,
                         generator: torch.Generator | None = None, device="cpu", progress=None) -> dict:
    """Adam + clipping on fresh batches; returns ``{"loss": [...], "seconds": float}``."""
    if steps < 1:
        raise ValueError(f"steps={steps} must be >= 1")
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    it = range(steps) if progress is None else progress(range(steps))
    t0 = time.perf_counter()
    for _ in it:
        x, y = sampler(generator)
        out, _ = model(x.to(device))
        loss = loss_fn(out, y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(float(loss.detach()))
    return {"loss": losses, "seconds": time.perf_counter() - t0}


def first_below(values, level: float, window: int = 20) -> int | None:
    """First index where the running mean over ``window`` values is ≤ ``level`` (None if never).

    >>> first_below([1.0, 1.0, 0.0, 0.0], 0.5, window=2)
    2
    """
    run = 0.0
    for i, v in enumerate(values):
        run += v
        if i >= window:
            run -= values[i - window]
        if i + 1 >= window and run / window <= level:
            return i
    return None
