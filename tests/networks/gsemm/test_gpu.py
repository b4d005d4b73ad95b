"""CUDA paths (skipped without a GPU): dense and subspace on CUDA match the CPU float64 oracle, and
CUDA-graph replay is bit-identical to the eager loop."""
import pytest
import torch

from networks.gsemm import cycle, dsem, lisem, masked_cue, random_patterns, simulate

pytestmark = pytest.mark.gpu


def _setup(dtype, model="dsem"):
    g = torch.Generator().manual_seed(0)
    xi = random_patterns(100, 7, generator=g, dtype=torch.float64)
    cues = torch.stack([masked_cue(xi[:, b % 7], 0.25, mode="random", generator=g) for b in range(16)])
    make = dsem if model == "dsem" else lisem
    scale = 1.0 if model == "dsem" else 0.1
    cpu = make(xi * scale, cycle(7, dtype=torch.float64), alpha_s=1.0, alpha_c=4.9, T_d=20.0)
    gpu = make((xi * scale).cuda().to(dtype), cycle(7, dtype=dtype, device="cuda"), alpha_s=1.0, alpha_c=4.9,
               T_d=20.0)
    return cpu, gpu, cues


@pytest.mark.parametrize("backend", ["dense", "subspace"])
@pytest.mark.parametrize("method", ["euler", "split"])
def test_cuda_matches_cpu_oracle(backend, method):
    cpu, gpu, cues = _setup(torch.float64)
    _, ref = simulate(cpu, cpu.init_state(cues), steps=3000, dt=0.01, method=method, backend="dense",
                      record_every=10)
    _, out = simulate(gpu, gpu.init_state(cues.cuda()), steps=3000, dt=0.01, method=method, backend=backend,
                      record_every=10)
    torch.testing.assert_close(out.overlaps.cpu(), ref.overlaps, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("model", ["dsem", "lisem"])
def test_cuda_graph_is_bit_identical_to_eager(model):
    _, gpu, cues = _setup(torch.float32, model)
    st = gpu.init_state(cues.cuda())
    f1, t1 = simulate(gpu, st, steps=1005, dt=0.01, method="split", record_every=10, cuda_graph=False,
                      record=("overlaps", "energy"))
    f2, t2 = simulate(gpu, st, steps=1005, dt=0.01, method="split", record_every=10, cuda_graph=True,
                      record=("overlaps", "energy"))
    assert torch.equal(t1.overlaps, t2.overlaps) and torch.equal(t1.energy, t2.energy)
    assert torch.equal(f1.v, f2.v) and torch.equal(f1.s, f2.s)


def test_float32_cuda_close_to_oracle():
    cpu, gpu, cues = _setup(torch.float32)
    _, ref = simulate(cpu, cpu.init_state(cues), steps=3000, dt=0.01, method="split", record_every=10)
    _, out = simulate(gpu, gpu.init_state(cues.cuda()), steps=3000, dt=0.01, method="split", record_every=10)
    assert (out.overlaps.cpu().double() - ref.overlaps).abs().max() < 1e-3
