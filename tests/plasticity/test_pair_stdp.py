"""Pair STDP: the measured window equals the analytic one; all-to-all vs nearest-spike pairing."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from plasticity import PairSTDP
from ._plasticity_helpers import F64, pair_oracle, run_single_synapse

A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS = 0.01, 0.012, 17.0, 34.0
# Float64 tolerance: the simulated value is a product of ~|Δt|/dt rounded decay factors; with ≤ 100
# multiplications the relative rounding error is ≤ 100 · 2⁻⁵³ ≈ 1e-14, so 1e-12 is a safe, tight bound.
RTOL64 = 1e-12


def _rule(nearest, **kw):
    return PairSTDP(a_plus=A_PLUS, a_minus=A_MINUS, tau_plus=TAU_PLUS, tau_minus=TAU_MINUS, nearest=nearest, **kw)


@pytest.mark.parametrize("nearest", [False, True])
@pytest.mark.parametrize("dt", [1.0, 0.25])
def test_window_matches_exponentials_float64(nearest, dt):
    rule = _rule(nearest)
    t_pre = 60.0
    for lag in [-50.0, -20.0, -7.5, -1.0, -0.25, 0.25, 1.0, 3.0, 7.5, 20.0, 50.0]:
        if abs(lag / dt - round(lag / dt)) > 1e-12:
            continue
        measured = run_single_synapse(rule, [t_pre], [t_pre + lag], dt, t_end=130.0)
        expected = A_PLUS * math.exp(-lag / TAU_PLUS) if lag > 0 else -A_MINUS * math.exp(lag / TAU_MINUS)
        assert measured == pytest.approx(expected, rel=RTOL64, abs=0), lag


def test_simultaneous_spikes_do_not_pair():
    assert run_single_synapse(_rule(False), [10.0], [10.0], 1.0, t_end=40.0) == 0.0


def test_window_float32_path():
    # float32: ≤ 50 multiplications of factors rounded to 2⁻²⁴ relative ⇒ ≲ 50 · 6e-8 = 3e-6; use 1e-5.
    rule = _rule(False)
    for lag in [-30.0, -5.0, 5.0, 30.0]:
        measured = run_single_synapse(rule, [40.0], [40.0 + lag], 1.0, t_end=80.0, dtype=torch.float32)
        expected = A_PLUS * math.exp(-lag / TAU_PLUS) if lag > 0 else -A_MINUS * math.exp(lag / TAU_MINUS)
        assert measured == pytest.approx(expected, rel=1e-5)


def test_pre_burst_all_to_all_vs_nearest():
    """Pre burst at 0, 5, 10 then a post spike at 20: all-to-all sums three pairings, nearest keeps one."""
    pre, post = [0.0, 5.0, 10.0], [20.0]
    a2a = run_single_synapse(_rule(False), pre, post, 1.0, t_end=30.0)
    near = run_single_synapse(_rule(True), pre, post, 1.0, t_end=30.0)
    assert a2a == pytest.approx(A_PLUS * sum(math.exp(-(20.0 - t) / TAU_PLUS) for t in pre), rel=RTOL64)
    assert near == pytest.approx(A_PLUS * math.exp(-10.0 / TAU_PLUS), rel=RTOL64)
    assert a2a > near > 0


def test_post_burst_depression_all_to_all_vs_nearest():
    """Post burst at 20, 25 then a pre spike at 30: nearest pairs the pre spike with the post spike at 25 only."""
    pre, post = [30.0], [20.0, 25.0]
    a2a = run_single_synapse(_rule(False), pre, post, 1.0, t_end=40.0)
    near = run_single_synapse(_rule(True), pre, post, 1.0, t_end=40.0)
    assert a2a == pytest.approx(-A_MINUS * (math.exp(-10.0 / TAU_MINUS) + math.exp(-5.0 / TAU_MINUS)), rel=RTOL64)
    assert near == pytest.approx(-A_MINUS * math.exp(-5.0 / TAU_MINUS), rel=RTOL64)
    assert a2a < near < 0


def test_post_burst_after_single_pre_is_the_same_for_both_schemes():
    """Symmetric nearest-spike: every post spike pairs with the latest earlier pre spike, so one pre
    spike followed by two post spikes gives two pairings in both schemes."""
    pre, post = [0.0], [10.0, 15.0]
    expected = A_PLUS * (math.exp(-10.0 / TAU_PLUS) + math.exp(-15.0 / TAU_PLUS))
    for nearest in (False, True):
        assert run_single_synapse(_rule(nearest), pre, post, 1.0, t_end=30.0) == pytest.approx(expected, rel=RTOL64)


@settings(max_examples=25, deadline=None)
@given(
    pre=st.sets(st.integers(0, 60), max_size=6),
    post=st.sets(st.integers(0, 60), max_size=6),
    nearest=st.booleans(),
)
def test_random_trains_match_event_based_oracle(pre, post, nearest):
    pre_t, post_t = sorted(float(t) for t in pre), sorted(float(t) for t in post)
    measured = run_single_synapse(_rule(nearest), pre_t, post_t, 1.0, t_end=61.0)
    expected = pair_oracle(pre_t, post_t, A_PLUS, A_MINUS, TAU_PLUS, TAU_MINUS, nearest)
    assert measured == pytest.approx(expected, rel=1e-11, abs=1e-15)


def test_delta_parts_are_the_exact_potentiation_and_depression():
    rule = _rule(False)
    w = torch.zeros(1, 1, dtype=F64)
    s = rule.init_state(w)
    one = torch.ones(1, 1, dtype=F64)
    _, s = rule.delta(w, one, one, s, 1.0)             # pre and post spike at t = 0 (do not pair)
    plus, minus, _ = rule.delta_parts(w, one, one, s, 1.0)   # both again at t = 1: one LTP + one LTD pairing
    assert plus.item() == pytest.approx(A_PLUS * math.exp(-1.0 / TAU_PLUS), rel=RTOL64)
    assert minus.item() == pytest.approx(-A_MINUS * math.exp(-1.0 / TAU_MINUS), rel=RTOL64)


def test_finer_grid_gives_identical_result():
    """Spike times on both grids: halving dt and doubling the steps changes nothing (exact trace decay)."""
    pre, post = [3.0, 11.0, 30.0], [7.0, 12.0, 25.0, 31.0]
    coarse = run_single_synapse(_rule(False), pre, post, 1.0, t_end=60.0)
    fine = run_single_synapse(_rule(False), pre, post, 0.5, t_end=60.0)
    assert fine == pytest.approx(coarse, rel=1e-12)
