"""Measurement helpers of the comparison: peak memory during a block, and means with 95 % t intervals.

Peak memory on the CPU is the peak *increase* of the process's resident set size (RSS) over its value
when the block starts, sampled every ``interval`` seconds by a background thread from ``/proc/self/statm``
(where there is no ``/proc``, the increase of ``ru_maxrss``); on CUDA it is
``torch.cuda.max_memory_allocated`` during the block. RSS counts what the allocator keeps, so small
models read as a few MB of noise; compare orders of magnitude, not digits.

Example
-------
>>> with PeakMemory() as pm:
...     _ = bytearray(20_000_000)
>>> pm.peak_mb >= 0.0
True
>>> m, lo, hi = mean_ci([1.0, 2.0, 3.0]); (m, round(lo, 3), round(hi, 3))
(2.0, -0.484, 4.484)
"""
from __future__ import annotations

import math
import os
import resource
import threading

import torch

# two-sided 95 % Student t quantiles, df = 1..30 (beyond: normal 1.96)
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042]


def t975(df: int) -> float:
    """Two-sided 95 % Student t quantile for ``df`` degrees of freedom.

    >>> t975(4)
    2.776
    """
    if df < 1:
        return float("nan")
    return _T975[df - 1] if df <= len(_T975) else 1.96


def mean_ci(values) -> tuple[float, float, float]:
    """Mean and 95 % t confidence interval of the finite values (nan, nan, nan when there are none;
    the interval collapses to the mean for a single value).

    >>> mean_ci([0.5, 0.5])
    (0.5, 0.5, 0.5)
    """
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not xs:
        return float("nan"), float("nan"), float("nan")
    n = len(xs)
    m = sum(xs) / n
    if n == 1:
        return m, m, m
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1))
    h = t975(n - 1) * sd / math.sqrt(n)
    return m, m - h, m + h


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class PeakMemory:
    """Context manager measuring the peak memory increase of a block (``peak_mb``, see module docstring).

    >>> with PeakMemory(device="cpu") as pm:
    ...     pass
    >>> isinstance(pm.peak_mb, float)
    True
    """

    def __init__(self, device: str | torch.device = "cpu", interval: float = 0.002):
        self.device = torch.device(device)
        self.interval = interval
        self.peak_mb = float("nan")

    def __enter__(self) -> "PeakMemory":
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
            return self
        self._base = _rss_bytes()
        self._peak = self._base
        self._stop = threading.Event()
        if self._base is None:
            self._base_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return self
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            r = _rss_bytes()
            if r is not None and r > self._peak:
                self._peak = r

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            self.peak_mb = (torch.cuda.max_memory_allocated(self.device) - self._base) / 2**20
            return
        if self._base is None:
            self.peak_mb = max(0.0, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - self._base_maxrss) / 1024)
            return
        self._stop.set()
        self._thread.join()
        r = _rss_bytes()
        if r is not None:
            self._peak = max(self._peak, r)
        self.peak_mb = max(0.0, (self._peak - self._base) / 2**20)
