"""Runs that cannot finish or fit are refused before any work, naming the limit (networks.limits)."""
import pytest
import torch

from networks import limits
from networks.gsemm import cycle, dsem, hadamard_patterns, simulate


def _net():
    xi = hadamard_patterns(16, 3, dtype=torch.float64)
    return xi, dsem(xi, cycle(3, dtype=torch.float64), alpha_c=2.0, beta=5.0, T_d=2.0)


@pytest.mark.parametrize("backend", ["dense", "native", "auto"])
def test_simulate_refuses_runaway_steps(backend):
    xi, net = _net()
    with pytest.raises(ValueError, match=r"1e\+99 steps .* more than the limit of 1e\+17 .*MAX_MULTIPLY_ADDS"):
        simulate(net, net.init_state(xi[:, 0]), steps=int(1e99), dt=0.05, backend=backend)


def test_simulate_refuses_a_recording_that_cannot_fit(monkeypatch):
    xi, net = _net()
    monkeypatch.setattr(limits, "available_memory", lambda device="cpu": 10 ** 6)
    st = net.init_state(xi[:, 0])
    # 100,001 samples × 3 overlaps × 8 bytes (+ 8 for time) = 3.2 MB > 1 MB available
    with pytest.raises(ValueError, match=r"recording overlaps at 100001 samples needs 3.05 MiB, more than the "
                                         r"977 KiB available on cpu; record less often"):
        simulate(net, st, steps=100_000, dt=0.05, method="euler", backend="dense")
    # the same run recording every 100th step fits (1,001 samples), and runs
    _, traj = simulate(net, st, steps=2_000, dt=0.05, method="euler", record_every=100, backend="dense")
    assert traj.overlaps.shape == (21, 1, 3)


def test_limits_use_the_real_device_memory():
    assert limits.available_memory("cpu") > 2 ** 20
    limits.check_fits(2 ** 20, "one MiB")
    with pytest.raises(ValueError, match="available on cpu; shrink it"):
        limits.check_fits(2.0 ** 80, "a yottabyte", hint="shrink it")


def test_python_driven_loops_are_bounded():
    limits.check_steps(10 ** 6, "a loop")
    with pytest.raises(ValueError, match=r"takes 1e\+10 steps, more than the limit of 1e\+09 .*MAX_STEPS"):
        limits.check_steps(1e10, "a loop")
