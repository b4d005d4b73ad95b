"""The energy is the specification: closed-form flows vs autograd, and the dE/dt = F + S structure (V1)."""
import pytest
import torch
from torch.func import grad

from networks.gsemm import (GSEMM, LogCosh, LogSumExp, Polynomial, Quadratic, cycle, dense_polynomial, dsem,
                            lisem, random_patterns, simulate)
from networks.gsemm.model import State

D = torch.float64


def _models(N=30, P=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    xi = random_patterns(N, P, generator=g, dtype=D)
    phi = cycle(P, dtype=D) + 0.1 * torch.randn(P, P, generator=g, dtype=D)
    kw = dict(alpha_s=0.7, alpha_c=1.3, beta_d=1.2, T_f=0.8, T_d=7.0)
    return {
        "dsem": dsem(xi, phi, beta=0.3, **kw),
        "lisem": lisem(xi / 5, phi, gain=1.5, **kw),
        "poly": dense_polynomial(xi, phi, degree=3, **kw),
        "three_pop": GSEMM(xi / 5, phi, LogCosh(0.7), LogSumExp(0.5), T_h=0.2, **kw),
        "three_pop_poly": GSEMM(xi, phi, Quadratic(), Polynomial(2, 1 / N), T_h=0.3, **kw),
    }


@pytest.mark.parametrize("name", ["dsem", "lisem", "poly", "three_pop", "three_pop_poly"])
@pytest.mark.parametrize("with_input", [False, True])
def test_flow_is_energy_gradient(name, with_input):
    """T_f ∇²L_f v̇ = −∂E/∂v, T_h ∇²L_h ḣ = −∂E/∂h and S = (∂E/∂s)·ṡ, to float64 rounding."""
    net = _models()[name]
    g = torch.Generator().manual_seed(1)
    B = 3
    v = torch.randn(B, net.N, generator=g, dtype=D)
    s = torch.randn(B, net.N, generator=g, dtype=D)
    h = None if net.instantaneous else torch.randn(B, net.P, generator=g, dtype=D)
    I = torch.randn(B, net.N, generator=g, dtype=D) if with_input else None
    flow = net.flow(State(v, s, h), I)

    def E(v_, s_, h_):
        return net.energy(State(v_, s_, h_), I).sum()

    dEdv = grad(E, argnums=0)(v, s, h)
    lhs = net.T_f * net.feature.hess_vec(v, flow.v)
    torch.testing.assert_close(lhs, -dEdv, rtol=1e-10, atol=1e-10)
    dEds = grad(E, argnums=1)(v, s, h)
    S = net.slow_drive(State(v, s, h), flow)
    torch.testing.assert_close(S, (dEds * flow.s).sum(-1), rtol=1e-10, atol=1e-10)
    if h is not None:
        dEdh = grad(E, argnums=2)(v, s, h)
        torch.testing.assert_close(net.T_h * net.hidden.hess_vec(h, flow.h), -dEdh, rtol=1e-10, atol=1e-10)


def test_reduced_energy_is_three_population_energy_on_the_slow_manifold():
    """With h at its instantaneous value the three-population energy equals the reduced one."""
    m = _models()["dsem"]
    m3 = m.replace(T_h=0.5)
    g = torch.Generator().manual_seed(2)
    v = torch.randn(2, m.N, generator=g, dtype=D)
    s = torch.randn(2, m.N, generator=g, dtype=D)
    h = m.hidden_input(v, s)
    torch.testing.assert_close(m3.energy(State(v, s, h)), m.energy(State(v, s, None)), rtol=1e-12, atol=1e-10)


def _v1_net(T_d=20.0, model="dsem"):
    g = torch.Generator().manual_seed(0)
    xi = random_patterns(100, 10, generator=g, dtype=D)
    if model == "dsem":
        return dsem(xi, cycle(10, dtype=D), alpha_s=0.5, alpha_c=1.0, beta=1.0, T_f=1.0, T_d=T_d), xi
    return lisem(xi / 10, cycle(10, dtype=D), alpha_s=0.5, alpha_c=1.0, gain=1.0, T_f=1.0, T_d=T_d), xi


@pytest.mark.parametrize("model", ["dsem", "lisem"])
def test_dissipation_is_never_positive(model):
    net, xi = _v1_net(model=model)
    _, tr = simulate(net, net.init_state(xi[:, 0]), steps=4000, dt=0.01, method="euler",
                     record=("F", "S", "energy"), backend="dense")
    assert (tr.F <= 1e-12).all()
    assert tr.S.abs().max() > 0  # the slow drive is active, so this is not a trivial trajectory


@pytest.mark.parametrize("model", ["dsem", "lisem"])
def test_energy_balance_error_shrinks_linearly_with_dt(model):
    """Forward difference of E after one Euler step minus (F + S) is O(dt)."""
    errs = []
    for dt in (0.01, 0.002):
        net, xi = _v1_net(model=model)
        steps = int(round(20.0 / dt))
        _, tr = simulate(net, net.init_state(xi[:, 0]), steps=steps, dt=dt, method="euler",
                         record=("energy", "F", "S"), backend="dense")
        fd = (tr.energy[1:] - tr.energy[:-1]) / dt
        errs.append((fd - (tr.F[:-1] + tr.S[:-1])).abs().max().item())
    ratio = errs[0] / errs[1]
    assert 3.5 < ratio < 7.0, (errs, ratio)  # dt ratio is 5: first order


def test_slow_drive_scales_as_inverse_T_d():
    """max|S| ∝ 1/T_d (brief V1: 9.1, 2.9, 0.79 for T_d = 5, 20, 80)."""
    peaks = {}
    for T_d in (5.0, 20.0, 80.0):
        net, xi = _v1_net(T_d=T_d)
        _, tr = simulate(net, net.init_state(xi[:, 0]), steps=int(max(60.0, 3 * T_d) / 0.01), dt=0.01, method="euler",
                         record=("S",), record_every=5, backend="dense")
        peaks[T_d] = tr.S.abs().max().item()
    scaled = [peaks[T] * T for T in peaks]
    assert max(scaled) / min(scaled) < 1.6, peaks
    assert peaks[5.0] > 8 * peaks[80.0], peaks


@pytest.mark.parametrize("model", ["dsem", "lisem"])
def test_energy_is_monotone_with_slow_population_frozen(model):
    net, xi = _v1_net(model=model)
    net = net.replace(T_d=1e15)  # ṡ = O(1e-15): s is frozen
    g = torch.Generator().manual_seed(3)
    s0 = xi[:, 3].unsqueeze(0) * (0.5 if model == "dsem" else 0.05)
    v0 = torch.randn(1, net.N, generator=g, dtype=D)
    _, tr = simulate(net, net.init_state(v0, s0), steps=3000, dt=0.01, method="rk4", record=("energy",),
                     backend="dense")
    dE = tr.energy[1:] - tr.energy[:-1]
    assert (dE <= 1e-9).all(), dE.max()
    assert tr.energy[-1] < tr.energy[0] - 1.0
