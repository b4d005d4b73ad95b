"""Additive (hard-bound) and multiplicative (soft-bound) weight dependence."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from plasticity import Additive, Hebb, Multiplicative, PairSTDP, apply
from ._plasticity_helpers import F64


def _stdp():
    return PairSTDP(a_plus=0.05, a_minus=0.06, tau_plus=10.0, tau_minus=10.0)


def test_multiplicative_scales_potentiation_and_depression_separately():
    """A step with both an LTP and an LTD pairing on the same synapse: the exact parts are scaled by
    (w_max - w)/(w_max - w_min) and (w - w_min)/(w_max - w_min) — not the sign of the net update."""
    inner = _stdp()
    rule = Multiplicative(rule=inner, w_min=-0.5, w_max=2.0)
    w = torch.tensor([[0.3]], dtype=F64)
    one = torch.ones(1, 1, dtype=F64)
    s_in, s = inner.init_state(w), rule.init_state(w)
    _, s_in = inner.delta(w, one, one, s_in, 1.0)
    _, s = rule.delta(w, one, one, s, 1.0)
    plus, minus, _ = inner.delta_parts(w, one, one, s_in, 1.0)
    dw, _ = rule.delta(w, one, one, s, 1.0)
    assert plus.item() > 0 > minus.item()
    assert dw.item() == pytest.approx(((2.0 - 0.3) * plus.item() + (0.3 + 0.5) * minus.item()) / 2.5, rel=1e-14)


def test_multiplicative_factors_are_normalised_and_exponents_split():
    """Gütig et al. (2003): factors (1 - w/w_max)^mu+ and (w/w_max)^mu- for w_min = 0, whatever w_max;
    mu_plus=0, mu_minus=1 is van Rossum et al. (2000)."""
    g = torch.Generator().manual_seed(1)
    w = torch.rand(3, 4, generator=g, dtype=F64) * 10.0
    x, y = torch.rand(2, 4, generator=g, dtype=F64), torch.randn(2, 3, generator=g, dtype=F64)
    inner = Hebb(eta=0.3)
    d_in, _ = inner.delta(w, x, y, inner.init_state(w, 2), 0.1)
    up, down = d_in.clamp(min=0), d_in.clamp(max=0)
    d1, _ = Multiplicative(rule=inner, w_max=10.0).delta(w, x, y, inner.init_state(w, 2), 0.1)
    torch.testing.assert_close(d1, (1 - w / 10) * up + (w / 10) * down, rtol=1e-14, atol=0)
    vr, _ = Multiplicative(rule=inner, w_max=10.0, mu_plus=0.0, mu_minus=1.0).delta(w, x, y,
                                                                                     inner.init_state(w, 2), 0.1)
    torch.testing.assert_close(vr, up + (w / 10) * down, rtol=1e-14, atol=0)
    with pytest.raises(ValueError, match="mu_minus"):
        Multiplicative(rule=inner, mu_minus=-1.0)


def test_multiplicative_mu0_is_the_inner_rule_and_mu_half_is_power_law():
    g = torch.Generator().manual_seed(0)
    w = torch.rand(3, 4, generator=g, dtype=F64)
    x, y = torch.rand(2, 4, generator=g, dtype=F64), torch.randn(2, 3, generator=g, dtype=F64)
    inner = Hebb(eta=0.3)
    d_in, _ = inner.delta(w, x, y, inner.init_state(w, 2), 0.1)
    d0, _ = Multiplicative(rule=inner, mu=0.0).delta(w, x, y, inner.init_state(w, 2), 0.1)
    torch.testing.assert_close(d0, d_in, rtol=1e-14, atol=0)
    dh, _ = Multiplicative(rule=inner, mu=0.5).delta(w, x, y, inner.init_state(w, 2), 0.1)
    expected = (1 - w).sqrt() * d_in.clamp(min=0) + w.sqrt() * d_in.clamp(max=0)
    torch.testing.assert_close(dh, expected, rtol=1e-14, atol=0)


def test_additive_clips_at_bounds():
    rule = Additive(rule=Hebb(eta=1.0), w_min=-1.0, w_max=1.0)
    w = torch.tensor([[0.9, -0.9, 0.0]], dtype=F64)
    x = torch.tensor([[1.0, 1.0, 0.1]], dtype=F64)
    for y, expected in [(1.0, [0.1, 1.0, 0.1]), (-1.0, [-1.0, -0.1, -0.1])]:
        dw, _ = rule.delta(w, x, torch.tensor([[y]], dtype=F64), rule.init_state(w), dt=1.0)
        torch.testing.assert_close(dw, torch.tensor([expected], dtype=F64), rtol=1e-14, atol=1e-15)


def test_multiplicative_weights_approach_bounds_exponentially():
    """Pure potentiation of constant size a per step: w_max - w_n = (w_max - w_0)(1 - a)^n (soft bound)."""
    rule = Multiplicative(rule=Hebb(eta=1.0), w_min=0.0, w_max=1.0)
    w = torch.tensor([[0.2]], dtype=F64)
    one = torch.ones(1, 1, dtype=F64)
    s = rule.init_state(w)
    for _ in range(30):
        dw, s = rule.delta(w, one, one, s, dt=0.1)
        w = apply(w, dw)
    assert 1.0 - w.item() == pytest.approx(0.8 * 0.9**30, rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), additive=st.booleans(), per_stream=st.booleans())
def test_weights_stay_within_bounds(seed, additive, per_stream):
    g = torch.Generator().manual_seed(seed)
    # Soft bounds hold when every per-step part is ≤ 1 in size: traces are ≤ 1/(1 - e^{-1/5}) ≈ 5.5, so
    # amplitudes 0.15/0.17 (averaged over streams) keep |Δ±| ≤ 0.94.
    inner = PairSTDP(a_plus=0.15, a_minus=0.17, tau_plus=5.0, tau_minus=5.0)
    w_min, w_max = -0.2, 0.7
    rule = (Additive if additive else Multiplicative)(rule=inner, w_min=w_min, w_max=w_max)
    B = 3
    w = w_min + (w_max - w_min) * torch.rand(*((B,) if per_stream else ()), 4, 5, generator=g, dtype=F64)
    s = rule.init_state(w, B)
    for _ in range(40):
        pre = (torch.rand(B, 5, generator=g) < 0.3).to(F64)
        post = (torch.rand(B, 4, generator=g) < 0.3).to(F64)
        dw, s = rule.delta(w, pre, post, s, dt=1.0)
        w = apply(w, dw)
        assert w.min().item() >= w_min - 1e-12 and w.max().item() <= w_max + 1e-12


def test_bad_bounds():
    with pytest.raises(ValueError, match="w_min must be < w_max"):
        Multiplicative(rule=Hebb(), w_min=1.0, w_max=0.0)
    with pytest.raises(ValueError, match="mu"):
        Multiplicative(rule=Hebb(), mu=-1.0)
    with pytest.raises(ValueError, match="rule must implement"):
        Additive(rule=object())
    assert math.isfinite(Additive(rule=Hebb()).w_max)
