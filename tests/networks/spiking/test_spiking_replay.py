"""Spiking replay: order agreement with the torch model, cross-target spikes, run_args re-runs, codegen."""
import numpy as np
import pytest
import torch

from networks.gsemm import cycle, decode, dsem, hadamard_patterns, simulate
from networks.spiking import SpikeConfig, SpikingGSEMM, block_diagonal, brian2cuda_available, order_agreement

pytestmark = pytest.mark.brian2


def _net(N=32, P=4):
    xi = hadamard_patterns(N, P, dtype=torch.float64)
    return xi, dsem(xi, cycle(P, dtype=torch.float64), alpha_s=0.5, alpha_c=1.0, beta=4.0, T_d=2.0)


def test_spiking_replay_follows_torch_order():
    xi, net = _net()
    dur = 100.0
    _, tr = simulate(net, net.init_state(xi[:, 0]), steps=int(dur / 0.01), dt=0.01, method="euler",
                     record_every=10, backend="dense")
    ref = decode(tr.overlaps[:, 0], 0.1, min_dwell=3).order
    res = SpikingGSEMM(net, duration=dur, seed=1).run(xi[:, 0])
    order = res.decoded(xi.numpy(), bin=0.5, min_dwell=3)
    agree, n = order_agreement(order, ref)
    assert n >= 20
    assert agree >= 0.9
    t, rates = res.hidden_rates(bin=1.0)
    assert rates.shape == (100, 4) and rates.sum(1).mean() == pytest.approx(8 * 100.0, rel=0.2)


def test_block_diagonal_replays_are_independent():
    xi, net = _net(16, 3)
    B = 3
    big = block_diagonal([net] * B)
    sim = SpikingGSEMM(big, duration=12.0, blocks=B, seed=2, record_hidden=False)
    cue = np.concatenate([xi[:, k].numpy() for k in range(B)])          # block b starts at memory b
    res = sim.run(cue)
    for b in range(B):
        keep = (res.feature_i >= 16 * b) & (res.feature_i < 16 * (b + 1))
        t, m = res.overlaps(big.xi.numpy()[:, 3 * b:3 * (b + 1)], 0.5)
        _, mb = __import__("networks.spiking.decode", fromlist=["x"]).population_overlaps(
            res.feature_i[keep] - 16 * b, res.feature_t[keep] * res.time_unit, N=16, rate=res.r_f,
            duration=12.0 * res.time_unit, bin=0.5 * res.time_unit, patterns=xi.numpy())
        order = decode(torch.tensor(mb), 0.5, min_dwell=3).order
        assert order[0] == b and order_agreement(order, [0, 1, 2, 0])[0] == 1.0


def test_spiking_bad_input():
    xi, net = _net()
    with pytest.raises(ValueError, match="M"):
        SpikingGSEMM(net, duration=1.0, config=SpikeConfig(M=0))
    with pytest.raises(ValueError, match="blocks"):
        SpikingGSEMM(net, duration=1.0, blocks=3)
    with pytest.raises(ValueError, match="dt"):
        SpikingGSEMM(net, duration=1.0, config=SpikeConfig(dt=0.9))


@pytest.mark.standalone
def test_cpp_standalone_same_spikes_as_numpy_and_run_args(tmp_path):
    """Same seed -> identical spikes on numpy and cpp_standalone; new weights/cue via run_args, no rebuild."""
    xi, net = _net()
    a = SpikingGSEMM(net, duration=8.0, seed=3).run(xi[:, 0])
    sim = SpikingGSEMM(net, duration=8.0, seed=3, target="cpp_standalone", directory=str(tmp_path / "spk"))
    b = sim.run(xi[:, 0])
    np.testing.assert_array_equal(a.feature_i, b.feature_i)
    np.testing.assert_allclose(a.feature_t, b.feature_t, atol=1e-9)
    np.testing.assert_array_equal(a.hidden_i, b.hidden_i)
    rev = net.replace(phi=net.phi.T.contiguous())
    c = sim.run(xi[:, 2], model=rev)                  # reversed cycle, other cue: 2 -> 1
    assert sim.last_run_seconds < 5.0
    assert c.decoded(xi.numpy(), bin=0.5, min_dwell=3)[:2] == [2, 1]
    with pytest.raises(ValueError, match="seed"):
        sim.run(xi[:, 0], seed=4)


def test_cuda_standalone_code_generation(tmp_path):
    ok, why = brian2cuda_available()
    if not ok:
        pytest.skip(f"brian2cuda is not importable here ({why}); it needs Python >= 3.12 with brian2 2.10.1")
    import os
    xi, net = _net(16, 3)
    sim = SpikingGSEMM(net, duration=2.0, target="cuda_standalone", directory=str(tmp_path / "cuda"),
                       compute_capability=9.0, compile=False)
    assert os.path.exists(tmp_path / "cuda" / "makefile")
    assert "-std=c++17" in (tmp_path / "cuda" / "makefile").read_text()
    assert not sim.compiled
