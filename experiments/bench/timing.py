"""Timing and memory helpers shared by the benchmark scripts.

On CUDA, :func:`time_ms` brackets every call with CUDA events and synchronises after it (so host-side
overhead counts, as it does for a user at launch-bound sizes), after ``warmup`` untimed calls; on the CPU it
uses ``time.perf_counter``. Both return the median and the 10th/90th percentiles in milliseconds.
:func:`peak_extra_mib` is the CUDA peak allocation during one call minus what was allocated before it (NaN on
the CPU, where the caching allocator's statistics do not exist; see ``experiments.bench.aussm_memory``).

Example
-------
>>> import torch
>>> med, (p10, p90) = time_ms(lambda: torch.ones(8).sum(), reps=5, warmup=1, device=torch.device("cpu"))
>>> 0 <= p10 <= med <= p90
True
"""
from __future__ import annotations

import statistics
import time

import torch


def _percentiles(ts: list[float]) -> tuple[float, tuple[float, float]]:
    ts = sorted(ts)
    return statistics.median(ts), (ts[len(ts) // 10], ts[(9 * len(ts)) // 10])


def time_ms(fn, reps: int, warmup: int = 3, device: torch.device | str = "cuda") -> tuple[float, tuple[float, float]]:
    """Median and (p10, p90) wall time of ``fn()`` in ms over ``reps`` calls (``reps >= 1``)."""
    if reps < 1:
        raise ValueError(f"reps={reps} must be >= 1")
    cuda = torch.device(device).type == "cuda"
    for _ in range(warmup):
        fn()
    ts = []
    if not cuda:
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            ts.append((time.perf_counter() - t0) * 1e3)
        return _percentiles(ts)
    torch.cuda.synchronize()
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        torch.cuda.synchronize()
        ts.append(s.elapsed_time(e))
    return _percentiles(ts)


def peak_extra_mib(fn, device: torch.device | str = "cuda") -> float:
    """Peak CUDA memory allocated during ``fn()`` beyond what was allocated before it, in MiB (NaN on CPU)."""
    if torch.device(device).type != "cuda":
        return float("nan")
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return (torch.cuda.max_memory_allocated() - base) / 2**20
