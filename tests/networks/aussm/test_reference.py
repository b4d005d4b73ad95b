"""The plain-torch oracles and the ``aussm_scan`` front door (torch backend, validation) on CPU.

Tolerances: float64 oracle vs float64 oracle 1e-10 (both exact up to O(L) roundings of 1e-16);
float32 polar vs float64 1e-4 relative to max|y| at moderate phases (fp32 cumsum of phases, brief §2.5).
"""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from networks.aussm import aussm_scan, polar, scan_polar, scan_sequential
from networks.aussm.ops import resolve_backend

from .kernel.helpers import NAMES, call, problem


def _rel(a, b):
    return float((a.detach() - b.detach()).abs().max() / b.detach().abs().max().clamp_min(1e-30))


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 9, 3, 4), (3, 40, 5, 7)])
@pytest.mark.parametrize("z,h0", [(True, True), (False, False)])
def test_polar_equals_sequential_float64(shape, z, h0):
    args = problem(*shape, seed=1, scale=1.0, z=z, h0=h0)        # unscaled phases: many 2pi crossings
    y1, h1 = call(scan_sequential, args)
    y2, h2 = call(scan_polar, args)
    assert _rel(y2, y1) < 1e-10 and _rel(h2, h1) < 1e-10


def test_gradcheck_float64_polar_all_inputs():
    args = [a.requires_grad_(True) for a in problem(2, 9, 3, 4, seed=2)]

    def f(*a):
        y, h = call(scan_polar, list(a))
        return y, torch.view_as_real(h)
    assert torch.autograd.gradcheck(f, tuple(args), eps=1e-6, atol=1e-6, rtol=1e-5)


def test_float32_polar_close_to_float64():
    args = problem(2, 64, 4, 8, seed=3)
    y64, _ = call(scan_sequential, args)
    a32 = [a.to(torch.complex64) if a.is_complex() else a.float() for a in args]
    y32, _ = call(scan_polar, a32)
    assert y32.dtype == torch.float32
    assert _rel(y32.double(), y64) < 1e-4


def test_polar_reads_softplus_magnitude_and_angle():
    p = torch.tensor([0.3 - 1.2j], dtype=torch.complex128)
    q = polar(p)
    assert torch.allclose(q.abs(), torch.nn.functional.softplus(torch.tensor([0.3], dtype=torch.float64)))
    assert torch.allclose(q.angle(), torch.tensor([-1.2], dtype=torch.float64))
    with pytest.raises(ValueError, match="complex"):
        polar(torch.ones(2))


def test_unitarity_zero_drive_float64_L_1e5():
    L, D, N = 100_000, 1, 2
    g = torch.Generator().manual_seed(4)
    f = dict(generator=g, dtype=torch.float64)
    u = torch.randn(1, L, D, **f)
    W, b = torch.randn(D, N, D, **f), torch.randn(D, N, **f)
    h0 = torch.complex(torch.randn(1, D, N, **f), torch.randn(1, D, N, **f))
    one = torch.ones(N, dtype=torch.complex128)
    y, h = scan_polar(u, torch.zeros_like(u), W, b, one, one, torch.zeros(D, dtype=torch.float64), h0=h0)
    assert torch.allclose(h.abs(), h0.abs(), rtol=1e-12, atol=0)


def test_parity_construction_float64():
    g = torch.Generator().manual_seed(5)
    bits = (torch.rand(1, 5000, 1, generator=g) < 0.5).double()
    W = torch.full((1, 1, 1), math.pi, dtype=torch.float64)
    one = torch.ones(1, dtype=torch.complex128)
    y, _ = scan_polar(bits, torch.zeros_like(bits), W, torch.zeros(1, 1, dtype=torch.float64), one, one,
                      torch.zeros(1, dtype=torch.float64), h0=torch.ones(1, 1, 1, dtype=torch.complex128))
    parity = bits.flatten().cumsum(0) % 2
    assert torch.equal((y.flatten() < 0).double(), parity)


@settings(max_examples=15, deadline=None)
@given(cut=st.integers(0, 30), seed=st.integers(0, 10_000))
def test_chunk_state_carry_polar(cut, seed):
    args = problem(2, 30, 3, 4, seed=seed, h0=False)
    a = [x.requires_grad_(True) if x is not None else None for x in args]
    y, h = call(scan_polar, a)
    u, dt, W, b, Bc, Cc, Dk, z, _ = a
    y1, h1 = scan_polar(u[:, :cut], dt[:, :cut], W, b, Bc, Cc, Dk, z=z[:, :cut])
    y2, h2 = scan_polar(u[:, cut:], dt[:, cut:], W, b, Bc, Cc, Dk, z=z[:, cut:], h0=h1)
    assert _rel(torch.cat([y1, y2], 1), y) < 1e-10 and _rel(h2, h) < 1e-10
    live = [x for x in a if x is not None]
    g1 = torch.autograd.grad(y.sum() + h.real.sum(), live)
    g2 = torch.autograd.grad(torch.cat([y1, y2], 1).sum() + h2.real.sum(), live)
    for n, x1, x2 in zip(NAMES, g1, g2):
        assert _rel(x2, x1) < 1e-10, n


def test_torch_backend_varlen_equals_separate_runs():
    args = problem(1, 12, 2, 3, seed=6, h0=False)
    u, dt, W, b, Bc, Cc, Dk, z, _ = args
    cu = torch.tensor([0, 5, 5, 12])
    y, h = aussm_scan(u, dt, W, b, Bc, Cc, Dk, z=z, cu_seqlens=cu, backend="torch")
    ya, ha = scan_polar(u[:, :5], dt[:, :5], W, b, Bc, Cc, Dk, z=z[:, :5])
    yb, hb = scan_polar(u[:, 5:], dt[:, 5:], W, b, Bc, Cc, Dk, z=z[:, 5:])
    assert torch.allclose(y, torch.cat([ya, yb], 1))
    assert torch.allclose(h[0], ha[0]) and torch.count_nonzero(h[1]) == 0 and torch.allclose(h[2], hb[0])


def test_bad_inputs_raise_value_errors_naming_the_argument():
    u, dt, W, b, Bc, Cc, Dk, z, h0 = problem(1, 5, 2, 3, seed=7)
    with pytest.raises(ValueError, match="backend"):
        aussm_scan(u, dt, W, b, Bc, Cc, Dk, backend="cuda")
    with pytest.raises(ValueError, match="backend"):
        aussm_scan(u, dt, W, b, Bc, Cc, Dk, backend="nope")
    with pytest.raises(ValueError, match="delta"):
        aussm_scan(u, dt[:, :4], W, b, Bc, Cc, Dk, backend="torch")
    with pytest.raises(ValueError, match="W_A"):
        aussm_scan(u, dt, W[:, :, :1], b, Bc, Cc, Dk, backend="torch")
    bad = u.clone()
    bad[0, 2, 1] = float("nan")
    with pytest.raises(ValueError, match="u contains NaN"):
        aussm_scan(bad, dt, W, b, Bc, Cc, Dk, backend="torch")
    with pytest.raises(ValueError, match="B must be complex"):
        aussm_scan(u, dt, W, b, Bc.real, Cc, Dk, backend="torch")
    with pytest.raises(ValueError, match="cu_seqlens"):
        aussm_scan(u, dt, W, b, Bc, Cc, Dk, cu_seqlens=torch.tensor([0, 3]), backend="torch")
    with pytest.raises(ValueError, match="precision"):
        aussm_scan(u, dt, W, b, Bc, Cc, Dk, precision="half")


def test_auto_backend_on_cpu_is_torch_and_explicit_triton_on_cpu_raises_with_cause():
    assert resolve_backend("auto", torch.device("cpu")) == "torch"
    interp = __import__("os").environ.get("TRITON_INTERPRET", "0") == "1"
    if interp:
        assert resolve_backend("triton", torch.device("cpu")) == "triton"
    else:
        with pytest.raises(RuntimeError, match="TRITON_INTERPRET|Triton"):
            resolve_backend("triton", torch.device("cpu"))
