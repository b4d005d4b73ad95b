"""The context GSEMM's energy is its specification: flow vs autograd, fixed points, and the rule's closed form."""
import pytest
import torch
from torch.func import grad

from networks.gsemm import LogCosh, random_patterns
from networks.gsemm.context import ContextGSEMM, ContextState, contrastive_phi
from networks.gsemm.streaming import StreamLearner

D = torch.float64


def _net(drive="log", feature=None, K=7, N=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    xi = random_patterns(N, K, generator=g, dtype=D).T
    phi = torch.rand(K, K, generator=g, dtype=D) * (torch.rand(K, K, generator=g, dtype=D) < 0.4)
    kw = {"feature": feature} if feature is not None else {}
    return ContextGSEMM(xi, phi, beta=3.0, alpha_s=0.8, eps=1e-3, T_f=0.7, T_h=0.3, T_d=4.0, drive=drive,
                        gamma=1.3, **kw), g


@pytest.mark.parametrize("drive", ["log", "linear"])
@pytest.mark.parametrize("with_input", [False, True])
@pytest.mark.parametrize("feature", [None, LogCosh(0.7)])
def test_flow_is_energy_gradient(drive, with_input, feature):
    """T_f ∇²L_f v̇ = −∂E/∂v and T_h ∇²L_h u̇ = −∂E/∂u, to float64 rounding; ḋ = (h − d)/T_d."""
    net, g = _net(drive, feature)
    B, N, K = 3, net.xi.shape[1], net.xi.shape[0]
    st = ContextState(torch.randn(B, N, generator=g, dtype=D), torch.randn(B, K, generator=g, dtype=D),
                      torch.rand(B, K, generator=g, dtype=D))
    I = torch.randn(B, N, generator=g, dtype=D) if with_input else None
    f = net.flow(st, I)

    def E(v, u):
        return net.energy(ContextState(v, u, st.d), I).sum()

    dEdv = grad(E, argnums=0)(st.v, st.u)
    dEdu = grad(E, argnums=1)(st.v, st.u)
    torch.testing.assert_close(net.T_f * net.feature.hess_vec(st.v, f.v), -dEdv, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(net.T_h * net.hidden.hess_vec(st.u, f.u), -dEdu, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(f.d, (net.hidden.act(st.u) - st.d) / net.T_d)


@pytest.mark.parametrize("drive", ["log", "linear"])
def test_energy_never_rises_with_the_trace_frozen(drive):
    net, g = _net(drive)
    B, N, K = 2, net.xi.shape[1], net.xi.shape[0]
    st = ContextState(torch.randn(B, N, generator=g, dtype=D), torch.randn(B, K, generator=g, dtype=D),
                      torch.rand(B, K, generator=g, dtype=D))
    e0 = net.energy(st)
    for _ in range(400):
        f = net.flow(st)
        st = ContextState(st.v + 0.01 * f.v, st.u + 0.01 * f.u, st.d)
        e1 = net.energy(st)
        assert bool((e1 <= e0 + 1e-12).all())
        e0 = e1


def test_settle_and_predict_are_the_fixed_points():
    """With g clamped to x̂ (and g = 0), u̇ = 0 at the settled state: softmax(βu*) = settle (predict)."""
    net, g = _net()
    B, K = 2, net.xi.shape[0]
    x = torch.randn(B, net.xi.shape[1], generator=g, dtype=D)
    d = torch.rand(B, K, generator=g, dtype=D)
    xh = x / x.norm(dim=-1, keepdim=True)
    u_star = net.alpha_s ** 0.5 * xh @ net.xi_unit.T + net.context_drive(d) / net.beta
    f = net.flow(ContextState(xh, u_star, d))                   # quadratic L_f: g = v = x̂
    torch.testing.assert_close(f.u, torch.zeros_like(f.u), atol=1e-12, rtol=0)
    torch.testing.assert_close(net.hidden.act(u_star), net.settle(x, d), atol=1e-12, rtol=0)
    u_free = net.context_drive(d) / net.beta
    torch.testing.assert_close(net.hidden.act(u_free), net.predict(d), atol=1e-12, rtol=0)


def test_contrastive_rule_is_the_two_phase_energy_gradient():
    """ΔΦ = ηβ Φ ⊙ [(−∂E/∂Φ)|h⁺ − (−∂E/∂Φ)|h⁻], autograd on E(Φ) at the clamped and free states."""
    net, g = _net()
    K = net.xi.shape[0]
    d = torch.rand(K, generator=g, dtype=D)
    x = torch.randn(net.xi.shape[1], generator=g, dtype=D)
    hp, hm = net.settle(x[None], d[None])[0], net.predict(d[None])[0]
    st = lambda h: ContextState(torch.zeros(1, net.xi.shape[1], dtype=D), (torch.log(h) / net.beta)[None], d[None])

    def E_of_phi(phi, h):
        m = ContextGSEMM(net.xi, phi, beta=net.beta, alpha_s=net.alpha_s, eps=net.eps)
        return m.energy(st(h)).sum()

    gp = -grad(E_of_phi)(net.phi, hp)
    gm = -grad(E_of_phi)(net.phi, hm)
    expect = 0.7 * net.beta * net.phi * (gp - gm)
    torch.testing.assert_close(contrastive_phi(net.phi, d, hp, hm, eps=net.eps, eta=0.7), expect,
                               rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(net.rule(d[None], x[None], eta=0.7)[0], expect, rtol=1e-10, atol=1e-12)


def test_learner_settle_is_the_energy_networks_fixed_point():
    """A predicted step of the StreamLearner equals ContextGSEMM.settle on the learner's own Ξ and Φ
    (up to the sharp-limit floor, entries below 1e-3 of the largest)."""
    X = random_patterns(32, 6, generator=torch.Generator().manual_seed(3), dtype=D).T
    lrn = StreamLearner(32, capacity=12, beta=40.0, eps=1e-3, dtype=D)
    lrn.run(X[[0, 1, 2, 3, 4, 5, 0, 1]][:, None])
    used = lrn.used[0]
    d = lrn.h[0, used][None]
    net = ContextGSEMM(lrn.xi[0, used], lrn.phi[0][used][:, used], beta=40.0, eps=1e-3)
    expect = net.settle(X[2][None], d)[0]
    lrn.learn = False
    lrn.run(X[[2]][:, None])
    got = lrn.h[0, used]
    expect = torch.where(expect >= 1e-3 * expect.max(), expect, 0.0)
    torch.testing.assert_close(got, expect / expect.sum(), rtol=1e-9, atol=1e-12)


def test_learner_depression_is_the_closed_form():
    """With eta > 0, a refuted confident prediction changes Φ by contrastive_phi (h⁺ = 0 on the wrong cell)."""
    X = random_patterns(32, 4, generator=torch.Generator().manual_seed(4), dtype=D).T
    lrn = StreamLearner(32, capacity=16, eta=0.6, dtype=D)
    lrn.run(X[[0, 1, 2, 3, 0]][:, None])                   # context 0 -> 1 learned; now at 0
    phi0, d = lrn.phi[0].clone(), lrn.h[0].clone()
    hm = lrn.prediction_cells()[0].clone()
    lrn.run(X[[3]][:, None])                               # 3 arrives: the prediction 1 is refuted
    hp = torch.zeros_like(hm)                              # no cell of the predicted item is in the clamped phase
    expect = phi0 + contrastive_phi(phi0, d, hp, hm, eps=lrn.eps, eta=0.6)
    old = phi0 > 0
    torch.testing.assert_close(lrn.phi[0][old], expect[old].clamp(0, 1), rtol=1e-10, atol=1e-12)
    assert float(lrn.phi[0][old].min()) < 1.0               # it did depress
