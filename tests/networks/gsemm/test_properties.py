"""Property tests: chunking, batch independence, permutation equivariance, backends and dtypes agree."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from networks.gsemm import (cycle, decode, dense_polynomial, dsem, lisem, masked_cue, random_patterns, simulate)

D = torch.float64


def _net(kind="dsem", N=40, P=5, seed=0, dtype=D, **kw):
    g = torch.Generator().manual_seed(seed)
    xi = random_patterns(N, P, generator=g, dtype=dtype)
    phi = cycle(P, dtype=dtype)
    base = dict(alpha_s=0.5, alpha_c=1.0, T_d=5.0)
    base.update(kw)
    if kind == "dsem":
        return dsem(xi, phi, beta=0.2, **base), xi
    if kind == "lisem":
        return lisem(xi / 6, phi, **base), xi
    return dense_polynomial(xi, phi, degree=3, **base), xi


@given(n1=st.integers(0, 60), n2=st.integers(0, 60), method=st.sampled_from(["euler", "rk4", "split"]),
       kind=st.sampled_from(["dsem", "lisem", "poly"]))
def test_chunking_is_exact(n1, n2, method, kind):
    """simulate(a ++ b) == simulate(a) then simulate(b), bit for bit in float64."""
    net, xi = _net(kind)
    st0 = net.init_state(xi[:, :2].T)
    full, tr = simulate(net, st0, steps=n1 + n2, dt=0.05, method=method, record=("v",), backend="dense")
    mid, tr1 = simulate(net, st0, steps=n1, dt=0.05, method=method, record=("v",), backend="dense")
    end, tr2 = simulate(net, mid, steps=n2, dt=0.05, method=method, record=("v",), backend="dense")
    assert torch.equal(full.v, end.v) and torch.equal(full.s, end.s)
    assert torch.equal(torch.cat([tr1.v, tr2.v[1:]]), tr.v)


@given(b=st.integers(0, 3), seed=st.integers(0, 100))
def test_batch_independence(b, seed):
    """A stream gives the same trajectory alone or inside a batch (per-stream α_c too)."""
    g = torch.Generator().manual_seed(seed)
    net, xi = _net(alpha_c=torch.tensor([1.0, 1.5, 2.0, 3.0], dtype=D))
    cues = torch.randn(4, net.N, generator=g, dtype=D)
    fb, trb = simulate(net, net.init_state(cues), steps=200, dt=0.05, record=("overlaps",), backend="dense")
    single = net.replace(alpha_c=float(net.alpha_c[b, 0]))
    f1, tr1 = simulate(single, single.init_state(cues[b:b + 1]), steps=200, dt=0.05, record=("overlaps",),
                       backend="dense")
    torch.testing.assert_close(trb.overlaps[:, b], tr1.overlaps[:, 0], rtol=1e-12, atol=1e-12)


@given(perm_seed=st.integers(0, 1000), kind=st.sampled_from(["dsem", "lisem", "poly"]))
def test_permutation_equivariance_of_memories(perm_seed, kind):
    """Relabelling memories (columns of Ξ, rows and columns of Φ) permutes the overlaps the same way."""
    net, xi = _net(kind)
    perm = torch.randperm(net.P, generator=torch.Generator().manual_seed(perm_seed))
    pnet = net.replace(xi=net.xi[:, perm], phi=net.phi[perm][:, perm])
    st0 = net.init_state(xi[:, 1])
    _, tr = simulate(net, st0, steps=150, dt=0.05, record=("overlaps", "energy"), backend="dense")
    _, trp = simulate(pnet, st0, steps=150, dt=0.05, record=("overlaps", "energy"), backend="dense")
    torch.testing.assert_close(trp.overlaps, tr.overlaps[..., perm], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(trp.energy, tr.energy, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("method", ["euler", "rk4", "split"])
@pytest.mark.parametrize("kind", ["dsem", "poly"])
def test_subspace_backend_equals_dense(method, kind):
    """The exact reduced-coordinate backend reproduces the full-space iterates (float64 rounding),
    including a non-zero initial slow state and every recorded signal."""
    net, xi = _net(kind, N=60, P=6)
    g = torch.Generator().manual_seed(5)
    v0 = torch.stack([masked_cue(xi[:, 0], 0.3), torch.randn(60, generator=g, dtype=D)])
    s0 = 0.3 * torch.randn(2, 60, generator=g, dtype=D)
    sig = ("v", "s", "overlaps", "energy", "hidden", "F", "S")
    fd, trd = simulate(net, net.init_state(v0, s0), steps=400, dt=0.05, method=method, record=sig,
                       record_every=7, backend="dense")
    fs, trs = simulate(net, net.init_state(v0, s0), steps=400, dt=0.05, method=method, record=sig,
                       record_every=7, backend="subspace")
    assert trs.backend == "subspace" and trd.backend == "dense"
    for name in sig:
        torch.testing.assert_close(trs.signals[name], trd.signals[name], rtol=1e-9, atol=1e-9, msg=name)
    torch.testing.assert_close(fs.v, fd.v, rtol=1e-9, atol=1e-9)


def test_float32_tracks_float64():
    """Same run in float32 and float64: overlaps agree to 1e-3 and the decoded order is identical
    (float32 rounding ~1e-7 amplified by the transitions' sensitivity)."""
    out = {}
    for dtype in (torch.float32, torch.float64):
        net, xi = _net(N=100, P=7, dtype=dtype, alpha_s=1.0, alpha_c=4.9, T_d=20.0)
        _, tr = simulate(net, net.init_state(xi[:, 0]), steps=8000, dt=0.01, method="split", record_every=10)
        out[dtype] = tr.overlaps[:, 0].double()
    assert (out[torch.float32] - out[torch.float64]).abs().max() < 1e-3
    assert decode(out[torch.float32], 0.1).order == decode(out[torch.float64], 0.1).order
    assert len(decode(out[torch.float64], 0.1).order) >= 3


def test_methods_converge_to_each_other_as_dt_shrinks():
    """Euler's error against RK4 shrinks ~linearly with dt (first order)."""
    net, xi = _net()
    st0 = net.init_state(xi[:, 0])
    ref, _ = simulate(net, st0, steps=2000, dt=0.005, method="rk4", record=())
    errs = []
    for dt in (0.05, 0.025):
        f, _ = simulate(net, st0, steps=int(round(10 / dt)), dt=dt, method="euler", record=())
        errs.append((f.v - ref.v).abs().max().item())
    assert 1.6 < errs[0] / errs[1] < 2.5, errs
