"""Fused Triton kernel vs the float64 oracles (CUDA, or the CPU interpreter at small shapes).

Tolerances: the kernel computes in float32 with wrapped phases; forward errors are judged against
``max|y|`` of the float64 oracle (fp32 relative precision 6e-8 times the O(1e2) sums and phase
error growth -> 2e-5 is ~100x the typical error seen and far below any semantic bug, which gives
O(1) errors). Gradients: max|g - g64| / max|g64| <= 1e-4 at these small L (brief §6.3 asks 1e-3).
"""
import math

import pytest
import torch

from networks.aussm import aussm_scan, scan_polar, scan_sequential
from networks.aussm.ops import _scan_fwd

from .helpers import DEVICE, INTERP, NAMES, call, problem, to

CHUNK_LONG = 0
# the interpreter runs one 64-step chunk of one program in ~0.2 s: CI checks the long-sequence properties at
# L = 1024 (16 chunks carried), CUDA at 1e5
L_LONG = 1_024 if INTERP else 100_000
GPU = pytest.mark.skipif(DEVICE.type != "cuda", reason="large shapes need CUDA (interpreter too slow)")
# larger copies of a code path that a smaller case already covers: run on the interpreter only with --runslow
SLOW_ON_CPU = [pytest.mark.slow] if DEVICE.type == "cpu" else []


def _rel(a, b):
    return float((a.detach().to(b.dtype) - b.detach()).abs().max() / b.detach().abs().max().clamp_min(1e-30))


@pytest.mark.parametrize("shape,precision", [
    ((1, 1, 1, 1), "fast"),
    ((2, 17, 1, 16), "fast"),                # B > 1, a 1-step tail chunk, N = 16 fills the state tile (no padding)
    ((2, 19, 3, 4), "precise"),              # padded states, tail chunk, several channels
    pytest.param((3, 17, 8, 7), "fast", marks=SLOW_ON_CPU),
    pytest.param((2, 33, 5, 16), "fast", marks=SLOW_ON_CPU),
    pytest.param((1, 130, 3, 3), "fast", marks=SLOW_ON_CPU)])
def test_forward_matches_float64_oracle(shape, precision):
    args = problem(*shape, seed=sum(shape))
    y64, h64 = call(scan_sequential, args)
    y, h = call(aussm_scan, to(args), backend="triton", precision=precision, chunk=16)
    assert y.dtype == torch.float32 and h.dtype == torch.complex64
    assert _rel(y.cpu(), y64) < 2e-5
    assert _rel(h.cpu(), h64) < 2e-5


@pytest.mark.parametrize("z,h0", [(True, True), (False, False)])
def test_gradients_match_float64_for_every_input(z, h0):
    args = problem(2, 37, 3, 5, seed=3, z=z, h0=h0)
    g = torch.Generator().manual_seed(9)
    gy = torch.randn(2, 37, 3, generator=g, dtype=torch.float64)
    gh = torch.complex(torch.randn(2, 3, 5, generator=g, dtype=torch.float64),
                       torch.randn(2, 3, 5, generator=g, dtype=torch.float64))
    a32 = to(args, grad=True)
    y, h = call(aussm_scan, a32, backend="triton", chunk=16)
    loss = (y * gy.float().to(DEVICE)).sum() + (h * gh.to(torch.complex64).to(DEVICE).conj()).real.sum()
    live = [a for a in a32 if a is not None]
    grads = torch.autograd.grad(loss, live)
    a64 = [a.clone().requires_grad_(True) if a is not None else None for a in args]
    y2, h2 = call(scan_polar, a64)
    ref = torch.autograd.grad((y2 * gy).sum() + (h2 * gh.conj()).real.sum(), [a for a in a64 if a is not None])
    names = [n for n, a in zip(NAMES, args) if a is not None]
    errs = {n: _rel(g1.cpu(), g2) for n, g1, g2 in zip(names, grads, ref)}
    assert max(errs.values()) < 1e-4, errs


@pytest.mark.parametrize("shape,per_slab", [((1, 100, 2, 4), 2),   # 7 chunks in slabs of 2, 2, 2, 1
                                            pytest.param((2, 300, 3, 4), 5, marks=SLOW_ON_CPU)])  # 19: 5, 5, 5, 4
def test_gradients_over_many_chunks_with_state_walked_back(shape, per_slab):
    """The backward rebuilds every chunk's starting state from the final one (G -= chunk total,
    S -= chunk increment) instead of loading per-chunk carries: over 7 (slow: 19) chunks, and a small dθ
    budget forcing several slab launches with a shorter last one, the gradients still match float64 to 1e-4."""
    from networks.aussm import triton_scan
    B, L, D, N = shape
    args = problem(B, L, D, N, seed=13, scale=1.0)
    g = torch.Generator().manual_seed(5)
    gy = torch.randn(B, L, D, generator=g, dtype=torch.float64)
    a64 = [a.clone().requires_grad_(True) for a in args]
    y2, h2 = call(scan_polar, a64)
    ref = torch.autograd.grad((y2 * gy).sum() + h2.real.sum(), a64)
    budget = triton_scan.DTHETA_BUDGET_BYTES
    try:
        triton_scan.DTHETA_BUDGET_BYTES = B * per_slab * 16 * D * N * 4   # per_slab chunks per launch
        a32 = to(args, grad=True)
        y, h = call(aussm_scan, a32, backend="triton", chunk=16)
        grads = torch.autograd.grad((y * gy.float().to(DEVICE)).sum() + h.real.sum(), a32)
    finally:
        triton_scan.DTHETA_BUDGET_BYTES = budget
    errs = {n: _rel(x.cpu(), r) for n, x, r in zip(NAMES, grads, ref)}
    assert max(errs.values()) < 1e-4, errs


@pytest.mark.parametrize("shape", [(2, 40, 2, 6), pytest.param((2, 50, 4, 6), marks=SLOW_ON_CPU)])
def test_chunked_calls_with_carried_state_equal_one_call_including_gradients(shape):
    args = problem(*shape, seed=5, h0=False)
    a = to(args, grad=True)
    y, h = call(aussm_scan, a, backend="triton", chunk=16)
    u, dt, W, b, Bc, Cc, Dk, z, _ = a
    cut = 23                                               # does not divide the chunk size 16
    y1, h1 = aussm_scan(u[:, :cut], dt[:, :cut], W, b, Bc, Cc, Dk, z=z[:, :cut], backend="triton", chunk=16)
    y2, h2 = aussm_scan(u[:, cut:], dt[:, cut:], W, b, Bc, Cc, Dk, z=z[:, cut:], h0=h1, backend="triton",
                        chunk=16)
    ys = torch.cat([y1, y2], 1)
    assert _rel(ys, y) < 1e-5 and _rel(h2, h) < 1e-5
    live = [x for x in a if x is not None]
    gy = torch.randn(y.shape, generator=torch.Generator().manual_seed(1)).to(DEVICE)
    g_one = torch.autograd.grad((y * gy).sum() + h.real.sum(), live)
    g_two = torch.autograd.grad((ys * gy).sum() + h2.real.sum(), live)
    for n, x1, x2 in zip(NAMES, g_one, g_two):
        assert _rel(x2, x1) < 1e-5, n


@pytest.mark.parametrize("D", [2, pytest.param(3, marks=SLOW_ON_CPU)])
def test_varlen_equals_separate_runs_forward_and_backward(D):
    lens = [5, 0, 31, 17]
    cu = torch.tensor([0] + list(torch.tensor(lens).cumsum(0)), dtype=torch.int32)
    total = sum(lens)
    args = problem(1, total, D, 4, seed=7, h0=False)
    h0 = torch.complex(torch.randn(len(lens), D, 4, dtype=torch.float64), torch.zeros(len(lens), D, 4,
                                                                                     dtype=torch.float64))
    args[8] = h0
    a = to(args, grad=True)
    u, dt, W, b, Bc, Cc, Dk, z, hh = a
    y, h = aussm_scan(u, dt, W, b, Bc, Cc, Dk, z=z, h0=hh, cu_seqlens=cu.to(DEVICE), backend="triton", chunk=16)
    ys, hs = [], []
    for s, (p, q) in enumerate(zip(cu[:-1].tolist(), cu[1:].tolist())):
        yy, hq = aussm_scan(u[:, p:q], dt[:, p:q], W, b, Bc, Cc, Dk, z=z[:, p:q], h0=hh[s:s + 1],
                            backend="triton", chunk=16)
        ys.append(yy)
        hs.append(hq)
    ys, hs = torch.cat(ys, 1), torch.cat(hs, 0)
    assert _rel(y, ys) < 1e-6 and _rel(h, hs) < 1e-6
    g1 = torch.autograd.grad(y.sum() + h.real.sum(), a)
    g2 = torch.autograd.grad(ys.sum() + hs.real.sum(), a)
    for n, x1, x2 in zip(NAMES, g1, g2):
        assert _rel(x1, x2) < 1e-5, n


@pytest.mark.parametrize("shape", [(2, 20, 2, 5), pytest.param((2, 40, 3, 5), marks=SLOW_ON_CPU)])
def test_backward_is_bitwise_deterministic(shape):
    a = to(problem(*shape, seed=11), grad=True)
    outs = []
    for _ in range(2):
        y, h = call(aussm_scan, a, backend="triton", chunk=16)
        outs.append(torch.autograd.grad(y.square().sum() + h.abs().sum(), a))
    for n, x1, x2 in zip(NAMES, *outs):
        assert torch.equal(x1, x2), n


@pytest.mark.parametrize("shape", [(2, 17, 2, 5), pytest.param((2, 23, 3, 5), marks=SLOW_ON_CPU)])
def test_eager_fast_path_equals_custom_op_bitwise(shape):
    """The eager autograd.Function and the registered custom op run the same kernels: identical bits."""
    a = to(problem(*shape, seed=12), grad=True)
    outs = []
    for fast in (True, False):
        y, h = call(aussm_scan, a, backend="triton", chunk=16, eager_fast_path=fast)
        outs.append((y, h, *torch.autograd.grad(y.square().sum() + h.abs().sum(), a)))
    for n, x1, x2 in zip(["y", "h", *NAMES], *outs):
        assert torch.equal(x1, x2), n


def _impulse(L, D, N, theta, device=DEVICE):
    """u = 0 everywhere (silu(0) = 0: no drive), constant phase theta via b_A, state held in h0."""
    u = torch.zeros(1, L, D, device=device)
    dt = torch.zeros(1, L, D, device=device)
    W = torch.zeros(D, N, D, device=device)
    b = torch.full((D, N), theta, device=device)
    one = torch.ones(N, dtype=torch.complex64, device=device)
    return u, dt, W, b, one, one, torch.zeros(D, device=device)


def test_unitarity_zero_drive_to_L_1e5():
    L, D, N = L_LONG, 1, 3
    g = torch.Generator().manual_seed(2)
    u = torch.randn(1, L, D, generator=g).to(DEVICE)
    W = torch.randn(D, N, D, generator=g).to(DEVICE)
    b = torch.randn(D, N, generator=g).to(DEVICE)
    h0 = torch.randn(1, D, N, dtype=torch.complex64, generator=g).to(DEVICE)
    one = torch.ones(N, dtype=torch.complex64, device=DEVICE)
    _, h = aussm_scan(u, torch.zeros_like(u), W, b, one, one, torch.zeros(D, device=DEVICE), h0=h0,
                      backend="triton", chunk=CHUNK_LONG)
    assert torch.allclose(h.abs(), h0.abs(), rtol=1e-6, atol=0)
    assert torch.allclose(h.abs().square().sum(), h0.abs().square().sum(), rtol=1e-6)


@pytest.mark.parametrize("k", [3, pytest.param(7, marks=SLOW_ON_CPU)])
def test_phase_composition_period_k_to_L_1e5(k):
    """Constant phase 2pi/k: y_t = cos(t*theta) with theta the float32-rounded 2pi/k.

    The float32 input itself differs from 2pi/k by up to 1.2e-7 rad, which drifts 0.012 rad over
    1e5 steps for *any* float32 implementation, so the float64 expectation uses the rounded theta.
    Tolerance 3e-4: per-chunk float32 rounding of the in-chunk phase sum (|G| <= 64*pi) is ~1e-5, the
    compensated carry keeps the drift over 1500 chunks below ~1e-4; a wrong wrap gives O(1) errors.
    """
    L = L_LONG
    theta = torch.tensor(2 * math.pi / k, dtype=torch.float32)
    u, dt, W, b, one, _, Dk = _impulse(L, 1, 1, float(theta))
    h0 = torch.ones(1, 1, 1, dtype=torch.complex64, device=DEVICE)
    y, h = aussm_scan(u, dt, W, b, one, one, Dk, h0=h0, backend="triton", chunk=CHUNK_LONG)
    y = y.flatten().cpu().double()
    t = torch.arange(1, L + 1, dtype=torch.float64)
    expected = torch.cos(torch.remainder(t * theta.double(), 2 * math.pi))
    assert float((y - expected).abs().max()) < 3e-4
    assert float((h.cpu().angle().double() - math.remainder(L * float(theta), 2 * math.pi)).abs()) < 3e-4


@pytest.mark.parametrize("L_cpu", [300, pytest.param(1_000, marks=SLOW_ON_CPU)])
def test_parity_and_mod_m_constructions_exact_to_L_1e5(L_cpu):
    if not INTERP and L_cpu != 300:
        pytest.skip("on CUDA one run at L = 1e5 covers both interpreter lengths")
    L = L_cpu if INTERP else L_LONG
    g = torch.Generator().manual_seed(4)
    bits = (torch.rand(1, L, 1, generator=g) < 0.5).float()
    counts = bits.flatten().double().cumsum(0)
    for m in (2, 5):
        W = torch.full((1, 1, 1), 2 * math.pi / m)
        one = torch.ones(1, dtype=torch.complex64)
        h0 = torch.ones(1, 1, 1, dtype=torch.complex64)
        # C = 1 and C = -i read Re h and Im h = cos/sin of 2pi*count/m
        ys = []
        for Cc in (one, -1j * one):
            y, _ = aussm_scan(bits.to(DEVICE), torch.zeros(1, L, 1, device=DEVICE), W.to(DEVICE),
                              torch.zeros(1, 1, device=DEVICE), one.to(DEVICE), Cc.to(DEVICE),
                              torch.zeros(1, device=DEVICE), h0=h0.to(DEVICE), backend="triton",
                              chunk=CHUNK_LONG)
            ys.append(y.flatten().cpu().double())
        angle = torch.atan2(ys[1], ys[0])
        decoded = torch.round(angle / (2 * math.pi / m)).long() % m
        assert torch.equal(decoded, counts.long() % m)


@pytest.mark.parametrize("precision", [pytest.param("fast", marks=SLOW_ON_CPU), "precise"])
def test_carried_phase_has_no_projection_rounding_bias(precision):
    """Unscaled phases (the official test distribution: u in {0, 1}, W_A ~ N(0, 1)) at long L.

    The float32 dot product W_A u_t rounds with a *bias* that is fixed per (channel, state) for fixed
    W_A, so summing the per-step phases drifts linearly in L (fp32 reference 7e-4 at L = 512, D = 8,
    weights x32, 3.5e-3 at L = 16384, D = 128 on the GPU). The kernel carries the phase from the chunk sums
    W_A (sum_t u_t) + n b_A in double-float instead, so only the in-chunk phases (<= T steps) see the
    bias. Tolerance 1e-4 * max|y| (issue target for the precise mode); measured 1.5e-5 (CPU shape D = 8,
    weights x32, interpreter) and 2.0e-4 before the change. On the CPU the weights are scaled so that
    L = 512 shows the drift the GPU shape shows at L = 16384: D = 2 with weights x64 has the same summed
    per-step rounding of the phases (1.3e-3 rad; fp32 reference 8.4e-4 * max|y|) as D = 8 with x32, at a
    quarter of the interpreter's cost; the kernel measures 1.1e-5 there.
    """
    if DEVICE.type == "cuda":
        B, L, D, N, ws, chunk = 1, 16384, 128, 16, 1.0, 0
    else:
        B, L, D, N, ws, chunk = 1, 512, 2, 2, 64.0, 16
    g = torch.Generator().manual_seed(0)
    u = (torch.rand(B, L, D, generator=g) < 0.5).float()
    W = torch.randn(D, N, D, generator=g) * ws
    b = torch.randn(D, N, generator=g)
    dt = torch.randn(B, L, D, generator=g)
    z = torch.randn(B, L, D, generator=g)
    Bc = torch.randn(N, generator=g, dtype=torch.complex64)
    Cc = torch.randn(N, generator=g, dtype=torch.complex64)
    Dk = torch.randn(D, generator=g)
    f64 = [a.double() if not a.is_complex() else a.to(torch.complex128) for a in (u, dt, W, b, Bc, Cc, Dk, z)]
    y64, h64 = scan_polar(*f64[:7], z=f64[7])
    y, h = aussm_scan(*(a.to(DEVICE) for a in (u, dt, W, b, Bc, Cc, Dk)), z=z.to(DEVICE), backend="triton",
                      precision=precision, chunk=chunk)
    assert _rel(y.cpu(), y64) < 1e-4
    assert _rel(h.cpu(), h64) < 1e-4


def test_two_pi_invariances():
    args = problem(2, 29, 3, 4, seed=13)
    a = to(args)
    y, h = call(aussm_scan, a, backend="triton", chunk=16)
    shifted = list(a)
    shifted[3] = a[3] + 2 * math.pi
    shifted[4] = a[4] * torch.polar(torch.ones(()), torch.tensor(2 * math.pi)).to(a[4])
    y2, h2 = call(aussm_scan, shifted, backend="triton", chunk=16)
    assert _rel(y2, y) < 1e-5 and _rel(h2, h) < 1e-5


def test_state_permutation_permutes_nothing_in_the_output():
    args = problem(1, 21, 3, 5, seed=17)
    a = to(args)
    y, h = call(aussm_scan, a, backend="triton", chunk=16)
    p = torch.tensor([3, 0, 4, 1, 2])
    b = list(a)
    b[2], b[3], b[4], b[5], b[8] = a[2][:, p], a[3][:, p], a[4][p], a[5][p], a[8][:, :, p]
    y2, h2 = call(aussm_scan, b, backend="triton", chunk=16)
    assert _rel(y2, y) < 1e-5 and _rel(h2, h[:, :, p]) < 1e-5


@pytest.mark.parametrize("shape", [(2, 20, 2, 6), pytest.param((2, 45, 4, 6), marks=SLOW_ON_CPU)])
def test_half_precision_activations(shape):
    args = problem(*shape, seed=19)
    for dt in (torch.bfloat16, torch.float16):
        a = to(args, act_dtype=dt)
        y, _ = call(aussm_scan, a, backend="triton", chunk=16)
        assert y.dtype == dt
        rounded = [x.to(torch.float64).cpu() if x is not None and not x.is_complex() else
                   (x.to(torch.complex128).cpu() if x is not None else None) for x in a]
        y64, _ = call(scan_sequential, rounded)
        assert _rel(y.cpu(), y64) < 1e-2                     # output rounding of bf16 (2^-8) dominates


@pytest.mark.parametrize("shape", [(1, 20, 2, 4), pytest.param((1, 20, 3, 4), marks=SLOW_ON_CPU)])
def test_opcheck_custom_op(shape):
    args = to(problem(*shape, seed=23), grad=True)
    u, dt, W, b, Bc, Cc, Dk, z, h0 = args
    L = shape[1]
    starts = torch.tensor([0, L], dtype=torch.int32, device=DEVICE)
    sample = (u[0].detach().clone().requires_grad_(True), dt[0].detach().clone().requires_grad_(True),
              z[0].detach().clone().requires_grad_(True), W, b,
              torch.view_as_real(Bc.detach()).clone().requires_grad_(True),
              torch.view_as_real(Cc.detach()).clone().requires_grad_(True), Dk,
              torch.view_as_real(h0.detach()).clone().requires_grad_(True), starts, L, "precise", 16)
    torch.library.opcheck(_scan_fwd, sample)


@GPU
@pytest.mark.gpu
@pytest.mark.parametrize("shape", [(1, 2049, 1, 1), (3, 2047, 33, 7), (1, 10_000, 8, 256), (3, 4096, 128, 64),
                                   (1, 16, 128, 16), (2, 17, 1, 64)])
def test_forward_large_shapes_cuda(shape):
    args = problem(*shape, seed=1)
    y64, h64 = call(scan_polar, [a.to(DEVICE) if a is not None else None for a in args])
    y, h = call(aussm_scan, to(args), backend="triton")
    assert _rel(y, y64) < (1e-4 if shape[1] <= 4096 else 1e-3)
    assert _rel(h, h64) < 1e-3


@GPU
@pytest.mark.gpu
def test_torch_compile_traces_the_op_cuda():
    a = to(problem(2, 300, 16, 16, seed=29), grad=True)
    f = torch.compile(lambda *x: call(aussm_scan, list(x), backend="triton"), fullgraph=True)
    y, h = f(*a)
    y2, h2 = call(aussm_scan, a, backend="triton")
    assert torch.equal(y, y2)
    g1 = torch.autograd.grad(y.sum(), a[0])[0]
    g2 = torch.autograd.grad(y2.sum(), a[0])[0]
    assert torch.allclose(g1, g2, rtol=1e-5, atol=1e-6)


def test_interpreter_flag_consistent():
    assert INTERP == (DEVICE.type == "cpu")
