"""Three-factor (modulated) learning: zero modulator ⇒ zero change; delayed credit is exact."""

from __future__ import annotations

import math

import pytest
import torch

from plasticity import Hebb, Modulated, PairSTDP
from ._plasticity_helpers import F64, spike_raster

A_PLUS, A_MINUS, TAU, TAU_E, ETA = 0.02, 0.025, 10.0, 200.0, 0.5


def _rule(**kw):
    return Modulated(rule=PairSTDP(a_plus=A_PLUS, a_minus=A_MINUS, tau_plus=TAU, tau_minus=TAU), tau_e=TAU_E,
                     eta=ETA, **kw)


def _run(rule, pre, post, mods, dt, w=None):
    """pre/post: (T, B, n) spike tensors; mods: list of modulator values per step. Returns Σ dw, state."""
    w = torch.zeros(post.shape[2], pre.shape[2], dtype=F64) if w is None else w
    s = rule.init_state(w, pre.shape[1])
    total = torch.zeros_like(w)
    for k in range(pre.shape[0]):
        dw, s = rule.delta(w, pre[k], post[k], s, dt, modulator=mods[k])
        total = total + dw
    return total, s


def test_zero_modulator_gives_no_change_but_eligibility_builds_up():
    g = torch.Generator().manual_seed(0)
    pre = (torch.rand(200, 2, 3, generator=g) < 0.2).to(F64)
    post = (torch.rand(200, 2, 4, generator=g) < 0.2).to(F64)
    total, s = _run(_rule(), pre, post, [0.0] * 200, dt=1.0)
    assert torch.equal(total, torch.zeros_like(total))
    assert s.eligibility.abs().max().item() > 1e-3


@pytest.mark.parametrize("delay", [0.0, 5.0, 50.0, 300.0])
def test_delayed_reward_credits_the_eligible_synapse_exactly(delay):
    """pre at 10, post at 15 ⇒ inner Δ = A₊e^{-5/τ₊} at t = 15; a reward of size R in one step at
    15 + delay (modulator R/dt) gives Δw = η R A₊ e^{-5/τ₊} e^{-delay/τ_e} (float64, rel 1e-12)."""
    dt, R = 0.5, 2.0
    n = round((15.0 + delay + 20.0) / dt)
    pre = spike_raster([10.0], n, dt).reshape(n, 1, 1)
    post = spike_raster([15.0], n, dt).reshape(n, 1, 1)
    k_reward = round((15.0 + delay) / dt)
    mods = [R / dt if k == k_reward else 0.0 for k in range(n)]
    total, _ = _run(_rule(), pre, post, mods, dt)
    expected = ETA * R * A_PLUS * math.exp(-5.0 / TAU) * math.exp(-delay / TAU_E)
    assert total.item() == pytest.approx(expected, rel=1e-12)


def test_reward_before_the_pairing_gives_nothing():
    dt, n = 1.0, 60
    pre = spike_raster([30.0], n, dt).reshape(n, 1, 1)
    post = spike_raster([35.0], n, dt).reshape(n, 1, 1)
    mods = [1.0 if k == 20 else 0.0 for k in range(n)]
    total, _ = _run(_rule(), pre, post, mods, dt)
    assert total.item() == 0.0


def test_credit_goes_to_causal_synapse_and_sign_follows_the_modulator():
    """Synapse 0: pre→post (causal, eligible for LTP); synapse 1: post→pre (LTD). Reward later."""
    dt, n = 1.0, 100
    pre = torch.stack([spike_raster([10.0], n, dt), spike_raster([20.0], n, dt)], dim=1).reshape(n, 1, 2)
    post = spike_raster([15.0], n, dt).reshape(n, 1, 1)
    for sign in (1.0, -1.0):
        mods = [sign if k == 60 else 0.0 for k in range(n)]
        total, _ = _run(_rule(), pre, post, mods, dt)
        e = math.exp(-45.0 / TAU_E)                       # eligibility set at 15 (LTP) resp. 20 (LTD)
        assert total[0, 0].item() == pytest.approx(sign * ETA * A_PLUS * math.exp(-5 / TAU) * e, rel=1e-12)
        assert total[0, 1].item() == pytest.approx(
            -sign * ETA * A_MINUS * math.exp(-5 / TAU) * math.exp(-40.0 / TAU_E), rel=1e-12)


def test_eligibility_decays_with_tau_e():
    rule = Modulated(rule=Hebb(eta=1.0), tau_e=4.0)
    w = torch.zeros(1, 1, dtype=F64)
    s = rule.init_state(w)
    one, zero = torch.ones(1, 1, dtype=F64), torch.zeros(1, 1, dtype=F64)
    _, s = rule.delta(w, one, one, s, 0.5, modulator=0.0)
    e0 = s.eligibility.item()
    for _ in range(8):
        _, s = rule.delta(w, zero, zero, s, 0.5, modulator=0.0)
    assert s.eligibility.item() == pytest.approx(e0 * math.exp(-8 * 0.5 / 4.0), rel=1e-14)


def test_per_stream_and_per_neuron_modulators():
    g = torch.Generator().manual_seed(1)
    inner = Hebb(eta=1.0)
    x = torch.rand(3, 4, generator=g, dtype=F64)
    y = torch.rand(3, 2, generator=g, dtype=F64)
    w = torch.zeros(2, 4, dtype=F64)
    outer = y[:, :, None] * x[:, None, :] * 0.1          # inner Δ per stream at dt = 0.1
    m_stream = torch.tensor([1.0, 0.0, -2.0], dtype=F64)
    rule = Modulated(rule=inner, tau_e=1.0, eta=3.0, reduce="sum")
    dw, _ = rule.delta(w, x, y, rule.init_state(w, 3), 0.1, modulator=m_stream)
    torch.testing.assert_close(dw, (3.0 * 0.1 * m_stream[:, None, None] * outer).sum(0), rtol=1e-13, atol=0)
    m_neuron = torch.rand(3, 2, generator=g, dtype=F64)
    dw, _ = rule.delta(w, x, y, rule.init_state(w, 3), 0.1, modulator=m_neuron)
    torch.testing.assert_close(dw, (3.0 * 0.1 * m_neuron[:, :, None] * outer).sum(0), rtol=1e-13, atol=0)


def test_modulator_errors():
    rule = _rule()
    w = torch.zeros(2, 3)
    s = rule.init_state(w, 4)
    pre, post = torch.zeros(4, 3), torch.zeros(4, 2)
    with pytest.raises(ValueError, match="modulator is required"):
        rule.delta(w, pre, post, s, 1.0)
    with pytest.raises(ValueError, match="modulator must be"):
        rule.delta(w, pre, post, s, 1.0, modulator=torch.zeros(5))
    with pytest.raises(ValueError, match="modulator contains NaN"):
        rule.delta(w, pre, post, s, 1.0, modulator=torch.full((4,), float("nan")))
    with pytest.raises(ValueError, match="tau_e"):
        Modulated(rule=Hebb(), tau_e=-1.0)
