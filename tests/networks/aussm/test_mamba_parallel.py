"""The parallel (Hillis–Steele) Mamba scan equals the sequential reference scan in float64: values, final state,
initial state, gradients of every input, the block wired either way, and lengths that are not powers of two."""
import pytest
import torch

from networks.aussm.mamba import MambaBlock, resolve_scan, selective_scan, selective_scan_parallel

F64 = torch.float64


def _args(b, L, e, n, seed, h0=True):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, L, e, generator=g, dtype=F64), torch.rand(b, L, e, generator=g, dtype=F64) * 2,
            -torch.rand(e, n, generator=g, dtype=F64) * 4, torch.randn(b, L, n, generator=g, dtype=F64),
            torch.randn(b, L, n, generator=g, dtype=F64), torch.randn(e, generator=g, dtype=F64),
            torch.randn(b, L, e, generator=g, dtype=F64),
            torch.randn(b, e, n, generator=g, dtype=F64) if h0 else None]


@pytest.mark.parametrize("L", [0, 1, 2, 3, 7, 8, 33, 100])
@pytest.mark.parametrize("h0", [False, True])
def test_parallel_equals_sequential_float64(L, h0):
    args = _args(2, L, 3, 4, seed=L, h0=h0)
    y1, s1 = selective_scan_parallel(*args[:6], z=args[6], h0=args[7])
    y2, s2 = selective_scan(*args[:6], z=args[6], h0=args[7])
    assert y1.shape == y2.shape and s1.shape == s2.shape
    assert y1.numel() == 0 or float((y1 - y2).abs().max()) < 1e-12
    assert float((s1 - s2).abs().max()) < 1e-12


def test_parallel_gradients_equal_sequential_float64():
    args = [a.requires_grad_(True) for a in _args(2, 13, 3, 4, seed=5)]
    grads = []
    for f in (selective_scan_parallel, selective_scan):
        y, h = f(*args[:6], z=args[6], h0=args[7])
        grads.append(torch.autograd.grad(y.square().sum() + h.square().sum(), args))
    for g1, g2 in zip(*grads):
        assert float((g1 - g2).abs().max()) < 1e-11


def test_block_parallel_equals_sequential_and_bad_scan_name():
    x = torch.randn(2, 29, 6, generator=torch.Generator().manual_seed(1), dtype=F64)
    par = MambaBlock(6, d_state=5, scan="parallel", generator=torch.Generator().manual_seed(0)).double()
    seq = MambaBlock(6, d_state=5, scan="sequential", generator=torch.Generator().manual_seed(0)).double()
    auto = MambaBlock(6, d_state=5, generator=torch.Generator().manual_seed(0)).double()
    assert auto.scan == "auto" and resolve_scan(auto.scan, x.device) == "sequential"   # CPU: the loop
    with torch.no_grad():
        assert torch.equal(auto(x), seq(x))
    with torch.no_grad():
        (y1, s1), (y2, s2) = par(x, return_state=True), seq(x, return_state=True)
    assert float((y1 - y2).abs().max()) < 1e-12 and float((s1.h - s2.h).abs().max()) < 1e-12
    with pytest.raises(ValueError, match="scan"):
        MambaBlock(6, scan="fast")
