"""Energy-derived rules: every closed form equals the autograd gradient of an energy written here.

The GSEMM interaction energy (gsemm.md §1.2, the only part that depends on the weights) is

    E_int = -√α_s σ_fᵀ Ξ σ_h - α_c sᵀ Ξ Φ σ_h ,

and the reduced DSEM energy (T_h = 0) is E = ½‖v‖² - β⁻¹ log Σ exp(β h), h = √α_s Ξᵀv + α_c ΦᵀΞᵀs.
"""
from __future__ import annotations

import doctest
import math

import pytest
import torch

import plasticity
from plasticity import (Contrastive, EnergyGradient, GSEMMPhi, GSEMMXi, Hebb, apply, authors_rule,
                        contrastive_grad, energy_grad, gsemm_phi_grad, gsemm_xi_grad, to_grad)

D = torch.float64


def _xi_t(xi, v):
    return v @ xi if xi.dim() == 2 else torch.einsum("bn,bnp->bp", v, xi)


def _phi_m(phi, p):
    return p @ phi.T if phi.dim() == 2 else torch.einsum("bmn,bn->bm", phi, p)


def _col(a, B):
    return a.reshape(B, 1) if isinstance(a, torch.Tensor) else a


def e_int_xi(xi, sf, sh, s, phi, a_s, a_c):
    """Interaction energy as a function of Ξ (per stream, (B,))."""
    B = sf.shape[0]
    sa = _col(a_s, B) ** 0.5 if isinstance(a_s, torch.Tensor) else math.sqrt(a_s)
    t1 = (sa * _xi_t(xi, sf) * sh).sum(-1)
    t2 = (_col(a_c, B) * _xi_t(xi, s) * _phi_m(phi, sh)).sum(-1)
    return -t1 - t2


def e_int_phi(phi, xi, sf, sh, s, a_s, a_c):
    return e_int_xi(xi, sf, sh, s, phi, a_s, a_c)


def _data(B, N, P, per_stream, seed, alpha_tensor=False):
    g = torch.Generator().manual_seed(seed)
    xi = torch.randn(*((B,) if per_stream else ()), N, P, generator=g, dtype=D)
    phi = torch.randn(*((B,) if per_stream else ()), P, P, generator=g, dtype=D)
    sf, s, x = (torch.randn(B, N, generator=g, dtype=D) for _ in range(3))
    sh = torch.softmax(torch.randn(B, P, generator=g, dtype=D), -1)
    yh = torch.softmax(3 * torch.randn(B, P, generator=g, dtype=D), -1)
    if alpha_tensor:
        a_s = torch.rand(B, generator=g, dtype=D) + 0.5
        a_c = torch.rand(B, generator=g, dtype=D) + 0.5
    else:
        a_s, a_c = 0.7, 1.3
    return xi, phi, sf, s, x, sh, yh, a_s, a_c


CASES = [(False, False, "mean"), (False, False, "sum"), (True, False, "mean"), (True, True, "mean"),
         (False, True, "sum")]


@pytest.mark.parametrize("per_stream,alpha_tensor,reduce", CASES)
def test_xi_closed_form_equals_autograd(per_stream, alpha_tensor, reduce):
    xi, phi, sf, s, x, sh, yh, a_s, a_c = _data(3, 7, 4, per_stream, 1, alpha_tensor)
    auto = energy_grad(e_int_xi, xi, sf, sh, s, phi, a_s, a_c, reduce=reduce)
    closed = gsemm_xi_grad(xi, sf, sh, s=s, phi=phi, alpha_s=a_s, alpha_c=a_c, reduce=reduce)
    assert closed.shape == xi.shape
    torch.testing.assert_close(closed, auto, rtol=1e-12, atol=1e-12)
    # without the delayed term: the static part only (α_c = 0)
    static = energy_grad(e_int_xi, xi, sf, sh, s, phi, a_s, 0.0, reduce=reduce)
    torch.testing.assert_close(gsemm_xi_grad(xi, sf, sh, alpha_s=a_s, reduce=reduce), static)


@pytest.mark.parametrize("per_stream,alpha_tensor,reduce", CASES)
def test_phi_closed_form_equals_autograd(per_stream, alpha_tensor, reduce):
    xi, phi, sf, s, x, sh, yh, a_s, a_c = _data(3, 7, 4, per_stream, 2, alpha_tensor)
    auto = energy_grad(e_int_phi, phi, xi, sf, sh, s, a_s, a_c, reduce=reduce)
    closed = gsemm_phi_grad(phi, xi, s, sh, alpha_c=a_c, reduce=reduce)
    torch.testing.assert_close(closed, auto, rtol=1e-12, atol=1e-12)


def test_reduced_dsem_energy_gradient_equals_closed_form():
    """Envelope theorem: for E(v; s) = ½‖v‖² - β⁻¹ lse(βh), -∂E/∂W is the closed form at σ_h = softmax(βh)."""
    xi, phi, v, s, _, _, _, a_s, a_c = _data(4, 6, 5, True, 3)
    beta = 0.8

    def h_of(xi_, phi_):
        return math.sqrt(a_s) * _xi_t(xi_, v) + a_c * torch.einsum("bm,bmn->bn", _xi_t(xi_, s), phi_)

    def E(xi_, phi_):
        return 0.5 * (v * v).sum(-1) - torch.logsumexp(beta * h_of(xi_, phi_), -1) / beta

    sh = torch.softmax(beta * h_of(xi, phi), -1)
    torch.testing.assert_close(gsemm_xi_grad(xi, v, sh, s=s, phi=phi, alpha_s=a_s, alpha_c=a_c),
                               energy_grad(lambda w: E(w, phi), xi), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(gsemm_phi_grad(phi, xi, s, sh, alpha_c=a_c),
                               energy_grad(lambda w: E(xi, w), phi), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("per_stream", [False, True])
def test_authors_rule_is_the_contrastive_energy_gradient(per_stream):
    xi, phi, v, s, x, sigma, yh, a_s, a_c = _data(3, 8, 5, per_stream, 4)
    dxi, dphi = authors_rule(xi, phi, x, v, s, yh, sigma, alpha_s=a_s, alpha_c=a_c)
    ref_xi = contrastive_grad(e_int_xi, xi, free=(v, sigma, s, phi, a_s, a_c), target=(x, yh, s, phi, a_s, a_c))
    ref_phi = contrastive_grad(e_int_phi, phi, free=(xi, v, sigma, s, a_s, a_c), target=(xi, x, yh, s, a_s, a_c))
    torch.testing.assert_close(dxi, ref_xi, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(dphi, ref_phi, rtol=1e-12, atol=1e-12)
    # the same through the protocol: Contrastive(rule) with the target activities as signals
    rx = Contrastive(rule=GSEMMXi(alpha_s=a_s, alpha_c=a_c, eta=1.0))
    d1, _ = rx.delta(xi, sigma, v, rx.init_state(xi, 3), 1.0, target_pre=yh, target_post=x, s=s, phi=phi)
    torch.testing.assert_close(d1, dxi)
    rp = Contrastive(rule=GSEMMPhi(alpha_c=a_c, eta=1.0))
    pre = _xi_t(xi, s)
    d2, _ = rp.delta(phi, pre, sigma, rp.init_state(phi, 3), 1.0, target_post=yh)
    torch.testing.assert_close(d2, dphi)
    # the authors' c_ξ = 1 + √α_s only rescales the Hebbian part
    q, _ = authors_rule(xi, phi, x, v, s, yh, sigma, alpha_s=a_s, alpha_c=a_c, c_xi=1 + math.sqrt(a_s))
    torch.testing.assert_close(q - dxi, (x.unsqueeze(-1) * yh.unsqueeze(-2)).mean(0) if not per_stream
                               else x.unsqueeze(-1) * yh.unsqueeze(-2))   # (1 + √α_s − √α_s) x ŷᵀ, target term only


def test_contrastive_vanishes_at_target_and_is_antisymmetric():
    xi, phi, v, s, x, sigma, yh, a_s, a_c = _data(2, 5, 3, True, 5)
    dxi, dphi = authors_rule(xi, phi, x, x, s, yh, yh, alpha_s=a_s, alpha_c=a_c)
    assert float(dxi.abs().max()) == 0.0 and float(dphi.abs().max()) == 0.0
    a = contrastive_grad(e_int_xi, xi, free=(v, sigma, s, phi, a_s, a_c), target=(x, yh, s, phi, a_s, a_c))
    b = contrastive_grad(e_int_xi, xi, free=(x, yh, s, phi, a_s, a_c), target=(v, sigma, s, phi, a_s, a_c))
    torch.testing.assert_close(a, -b)


def test_energy_gradient_rule_matches_closed_rule_and_scales_with_dt():
    xi, phi, v, s, x, sigma, yh, a_s, a_c = _data(3, 6, 4, False, 6)

    def E(w, pre, post, s, phi):
        return e_int_xi(w, post, pre, s, phi, a_s, a_c)

    auto = EnergyGradient(energy=E, eta=0.3, signal_names=("s", "phi"))
    closed = GSEMMXi(alpha_s=a_s, alpha_c=a_c, eta=0.3)
    d_auto, _ = auto.delta(xi, sigma, v, auto.init_state(xi, 3), 0.01, s=s, phi=phi)
    d_closed, _ = closed.delta(xi, sigma, v, closed.init_state(xi, 3), 0.01, s=s, phi=phi)
    torch.testing.assert_close(d_auto, d_closed, rtol=1e-12, atol=1e-14)
    d_half, _ = closed.delta(xi, sigma, v, closed.init_state(xi, 3), 0.005, s=s, phi=phi)
    torch.testing.assert_close(2 * d_half, d_closed)


def test_gradient_step_lowers_the_energy():
    xi, phi, v, s, x, sigma, yh, a_s, a_c = _data(2, 6, 4, True, 7)
    dxi = gsemm_xi_grad(xi, v, sigma, s=s, phi=phi, alpha_s=a_s, alpha_c=a_c)
    e0 = e_int_xi(xi, v, sigma, s, phi, a_s, a_c)
    e1 = e_int_xi(xi + 1e-3 * dxi, v, sigma, s, phi, a_s, a_c)
    assert bool((e1 < e0).all())


def test_grad_route_equals_apply():
    """to_grad + SGD(lr=1) applies exactly the rule's Δ: the .grad route needs no other code."""
    xi, phi, v, s, x, sigma, yh, a_s, a_c = _data(2, 5, 3, True, 8)
    rule = GSEMMPhi(alpha_c=a_c, eta=0.5)
    pre = _xi_t(xi, s)
    dphi, _ = rule.delta(phi, pre, sigma, rule.init_state(phi), 0.1)
    p = torch.nn.Parameter(phi.clone())
    opt = torch.optim.SGD([p], lr=1.0)
    to_grad(p, dphi)
    opt.step()
    torch.testing.assert_close(p.detach(), apply(phi, dphi))


def test_contrastive_of_hebb_and_bad_inputs():
    w = torch.zeros(2, 3, dtype=D)
    pre = torch.ones(1, 3, dtype=D)
    post = torch.tensor([[1.0, 0.0]], dtype=D)
    rule = Contrastive(rule=Hebb(eta=1.0))
    dw, _ = rule.delta(w, pre, post, rule.init_state(w), 1.0, target_post=2 * post)
    torch.testing.assert_close(dw, torch.outer(post[0], pre[0]))
    with pytest.raises(ValueError, match="energy must return"):
        energy_grad(lambda W, x: (x @ W.T).sum(), w, pre)
    with pytest.raises(ValueError, match="signals"):
        EnergyGradient(energy=lambda W, x, y, s: (x @ W.T).sum(-1), signal_names=("s",)).delta(
            w, pre, post, (), 0.1)
    with pytest.raises(ValueError, match="dt"):
        GSEMMXi().delta(w.T.contiguous(), post, pre, (), -1.0)
    with pytest.raises(ValueError, match="NaN"):
        GSEMMPhi().delta(torch.zeros(2, 2, dtype=D), torch.full((1, 2), float("nan"), dtype=D), post, (), 0.1)
    with pytest.raises(ValueError, match="phi is required"):
        gsemm_xi_grad(w.T, pre, post, s=pre)
    with pytest.raises(ValueError, match="eta"):
        GSEMMXi(eta=float("nan"))


def test_exports_and_doctests():
    for name in ("energy_grad", "contrastive_grad", "EnergyGradient", "Contrastive", "gsemm_xi_grad",
                 "gsemm_phi_grad", "GSEMMXi", "GSEMMPhi", "authors_rule", "Hebb", "Oja"):
        assert name in plasticity.__all__ and hasattr(plasticity, name)
    import plasticity.energy as m
    res = doctest.testmod(m, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted >= 10 and res.failed == 0


def test_gsemm_closed_forms_reject_mismatched_shapes():
    import pytest
    from plasticity import gsemm_phi_grad, gsemm_xi_grad
    xi = torch.zeros(16, 4)
    with pytest.raises(ValueError, match="sigma_f must be"):
        gsemm_xi_grad(xi, torch.zeros(3, 15), torch.zeros(3, 4))          # used to return a (15, 4) tensor
    with pytest.raises(ValueError, match="sigma_h must be"):
        gsemm_xi_grad(xi, torch.zeros(3, 16), torch.zeros(2, 4))          # batch disagrees
    with pytest.raises(ValueError, match="phi must be"):
        gsemm_phi_grad(torch.zeros(5, 5), xi, torch.zeros(3, 16), torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"s must be \(2, 16\)"):
        gsemm_phi_grad(torch.zeros(2, 4, 4), torch.zeros(2, 16, 4), torch.zeros(3, 16), torch.zeros(2, 4))
    assert gsemm_phi_grad(torch.zeros(4, 4), xi, torch.zeros(3, 16), torch.zeros(3, 4)).shape == (4, 4)


def test_contrastive_keeps_each_phase_state_with_its_phase():
    """Contrastive(PairSTDP) with different free and target spike trains: every phase's traces evolve as a
    separate PairSTDP run on that phase's spikes (a swapped state would mix the two)."""
    from plasticity import PairSTDP
    inner = PairSTDP(a_plus=0.01, a_minus=0.012, tau_plus=5.0, tau_minus=7.0)
    rule = Contrastive(rule=inner)
    w = torch.zeros(1, 1, dtype=torch.float64)
    g = torch.Generator().manual_seed(3)
    spikes = (torch.rand(40, 4, generator=g) < 0.3).double()      # free pre, free post, target pre, target post
    s, s_free, s_tgt = rule.init_state(w), inner.init_state(w), inner.init_state(w)
    for t in range(40):
        fp, fq, tp, tq = (spikes[t, k].reshape(1, 1) for k in range(4))
        dw, s = rule.delta(w, fp, fq, s, 1.0, target_pre=tp, target_post=tq)
        d_free, s_free = inner.delta(w, fp, fq, s_free, 1.0)
        d_tgt, s_tgt = inner.delta(w, tp, tq, s_tgt, 1.0)
        assert torch.allclose(dw, d_tgt - d_free, rtol=0, atol=1e-15)
    for a, b in zip(s.free, s_free):
        assert torch.equal(a, b)
    for a, b in zip(s.target, s_tgt):
        assert torch.equal(a, b)
