"""Cross-backend test: the Brian2 rate mirror equals networks.gsemm.simulate (explicit Euler)."""
import numpy as np
import pytest
import torch

from networks.gsemm import cycle, decode, dsem, hadamard_patterns, simulate
from networks.spiking import RateMirror

pytestmark = pytest.mark.brian2


def _net():
    xi = hadamard_patterns(64, 4, dtype=torch.float64)
    return xi, dsem(xi, cycle(4, dtype=torch.float64), alpha_s=0.5, alpha_c=1.0, beta=10.0, T_d=5.0)


def test_rate_mirror_matches_torch_overlaps_and_order():
    xi, net = _net()
    dt, steps, every = 0.02, 3500, 5
    cue = xi[:, 0].clone()
    cue[48:] = 0                                  # partial cue: the last quarter unknown
    _, tr = simulate(net, net.init_state(cue), steps=steps, dt=dt, method="euler", record_every=every,
                     backend="dense")
    mirror = RateMirror(net, duration=steps * dt, dt=dt, record_every=every)
    res = mirror.run(cue)
    ot = tr.overlaps[:, 0].numpy()
    T = len(res.overlaps)
    assert T == steps // every
    np.testing.assert_allclose(res.t, tr.t.numpy()[:T], atol=1e-9)
    assert np.abs(ot[:T] - res.overlaps).max() <= 0.02
    d_torch = decode(tr.overlaps[:T, 0], dt * every)
    d_brian = decode(torch.tensor(res.overlaps), dt * every)
    assert d_torch.transitions >= 5
    assert d_brian.order == d_torch.order


def test_rate_mirror_new_weights_without_rebuild():
    xi, net = _net()
    mirror = RateMirror(net, duration=20.0, dt=0.05, record_every=10)
    rev = net.replace(phi=net.phi.T.contiguous())            # reversed cycle: 0 -> 3 -> 2 -> 1
    res = mirror.run(xi[:, 0], model=rev)
    _, tr = simulate(rev, rev.init_state(xi[:, 0]), steps=400, dt=0.05, method="euler", record_every=10,
                     backend="dense")
    assert np.abs(tr.overlaps[:40, 0].numpy() - res.overlaps).max() < 1e-9
    assert decode(torch.tensor(res.overlaps), 0.5).order[:2] == [0, 3]


def test_rate_mirror_bad_input():
    xi, net = _net()
    with pytest.raises(ValueError, match="model"):
        RateMirror("not a model", duration=1.0, dt=0.05)
    with pytest.raises(ValueError, match="dt"):
        RateMirror(net, duration=1.0, dt=2.0)
    with pytest.raises(ValueError, match="target"):
        RateMirror(net, duration=1.0, dt=0.05, target="gpu")
    m = RateMirror(net, duration=1.0, dt=0.05)
    with pytest.raises(ValueError, match="cue"):
        m.run(np.zeros(3))
