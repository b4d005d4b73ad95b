"""The shared benchmark timing helpers (CPU paths; the CUDA-event path runs in the GPU benchmarks)."""
import math
import time

import pytest

from experiments.bench.timing import peak_extra_mib, time_ms


def test_cpu_timing_measures_the_call_and_orders_percentiles():
    calls = []

    def f():
        calls.append(1)
        time.sleep(0.002)
    med, (p10, p90) = time_ms(f, reps=5, warmup=2, device="cpu")
    assert len(calls) == 7                          # warm-ups are called but not timed
    assert 1.5 <= p10 <= med <= p90 < 1000


def test_bad_reps_and_cpu_memory():
    with pytest.raises(ValueError, match="reps"):
        time_ms(lambda: None, reps=0, device="cpu")
    assert math.isnan(peak_extra_mib(lambda: None, device="cpu"))
