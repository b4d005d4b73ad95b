"""Triplet STDP (Pfister & Gerstner 2006): event-based oracle and the pairing-frequency dependence."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plasticity import PairSTDP, TripletSTDP
from ._plasticity_helpers import pair_oracle, run_single_synapse, triplet_oracle

N_PAIRINGS = 15


def _pairing_protocol(freq_hz: float, lag_ms: float, n: int = N_PAIRINGS):
    """n pre/post pairings at ``freq_hz``; ``lag_ms = t_post - t_pre``. Times in ms on a 1 ms grid."""
    period = 1000.0 / freq_hz
    start = 50.0
    pre = [start + k * period for k in range(n)]
    post = [t + lag_ms for t in pre]
    return pre, post, start + n * period + 300.0


def _per_pairing(rule, freq, lag):
    pre, post, t_end = _pairing_protocol(freq, lag)
    return run_single_synapse(rule, pre, post, dt=1.0, t_end=t_end) / N_PAIRINGS


@settings(max_examples=20, deadline=None)
@given(
    pre=st.sets(st.integers(0, 80), max_size=6),
    post=st.sets(st.integers(0, 80), max_size=6),
    nearest=st.booleans(),
)
def test_random_trains_match_event_based_oracle(pre, post, nearest):
    # Full model (all four amplitudes non-zero) so every term is exercised.
    rule = TripletSTDP(a2_plus=5e-3, a3_plus=6e-3, a2_minus=7e-3, a3_minus=2e-3,
                       tau_plus=16.8, tau_minus=33.7, tau_x=101.0, tau_y=125.0, nearest=nearest)
    pre_t, post_t = sorted(float(t) for t in pre), sorted(float(t) for t in post)
    measured = run_single_synapse(rule, pre_t, post_t, 1.0, t_end=81.0)
    # float64: ≤ 80 rounded decay factors per trace ⇒ relative error ≲ 1e-14; 1e-11 leaves margin.
    assert measured == pytest.approx(triplet_oracle(pre_t, post_t, rule, nearest), rel=1e-11, abs=1e-15)


def test_reduces_to_pair_stdp_without_triplet_terms():
    trip = TripletSTDP(a2_plus=0.01, a3_plus=0.0, a2_minus=0.012, a3_minus=0.0, tau_plus=17.0, tau_minus=34.0)
    pair = PairSTDP(a_plus=0.01, a_minus=0.012, tau_plus=17.0, tau_minus=34.0)
    pre, post = [0.0, 12.0, 30.0], [5.0, 13.0, 20.0]
    assert run_single_synapse(trip, pre, post, 1.0, 60.0) == pytest.approx(
        run_single_synapse(pair, pre, post, 1.0, 60.0), rel=1e-13)
    assert run_single_synapse(pair, pre, post, 1.0, 60.0) == pytest.approx(
        pair_oracle(pre, post, 0.01, 0.012, 17.0, 34.0, False), rel=1e-12)


def test_frequency_dependence_visual_cortex_minimal():
    """Sjöström et al. (2001) protocol as fitted by Pfister & Gerstner (2006), Fig. 5/Table 3 minimal
    all-to-all model: post-before-pre pairings (Δt = -10 ms) depress at low frequency and potentiate at
    high frequency; pre-before-post (Δt = +10 ms) gives ~no change at low frequency and potentiation at
    high frequency, growing with frequency. Protocol: 15 consecutive pairings at each frequency."""
    rule = TripletSTDP.visual_cortex_minimal()
    freqs = [1.0, 10.0, 20.0, 40.0, 50.0]
    neg = [_per_pairing(rule, f, -10.0) for f in freqs]
    pos = [_per_pairing(rule, f, +10.0) for f in freqs]

    # low frequency, Δt = -10 ms: each pre spike sees one post spike 10 ms earlier ⇒ ≈ -A2- e^{-10/τ-}
    assert neg[0] == pytest.approx(-7.1e-3 * math.exp(-10.0 / 33.7), rel=1e-3)
    assert neg[0] < 0
    assert all(v < 0 for v in neg[:3]), neg        # depression at 1, 10 and 20 Hz
    assert neg[-1] > 0.5e-2 > 0                     # potentiation at 50 Hz (≈ +5.9e-3 per pairing)
    # (all-to-all depression first deepens slightly as more post spikes fall in the τ- window, then the
    # triplet term takes over between 20 and 40 Hz; so the curve is not monotone at low frequency)
    # Δt = +10 ms: practically no change at 1 Hz (A2+ ≈ 0; triplet term needs a recent post spike)
    assert abs(pos[0]) < 1e-5
    assert pos[-1] > 1e-3 and all(b > a for a, b in zip(pos, pos[1:])), pos
    # at 50 Hz the two orders converge: both are dominated by the same triplet potentiation
    assert pos[-1] > neg[-1] > 0


def test_frequency_dependence_matches_oracle():
    rule = TripletSTDP.visual_cortex_minimal()
    for f, lag in [(1.0, -10.0), (20.0, 10.0), (50.0, -10.0)]:
        pre, post, t_end = _pairing_protocol(f, lag)
        measured = run_single_synapse(rule, pre, post, 1.0, t_end)
        assert measured == pytest.approx(triplet_oracle(pre, post, rule, False), rel=1e-10)


def test_nearest_spike_differs_from_all_to_all_for_bursts():
    kw = dict(a2_plus=5e-3, a3_plus=6e-3, a2_minus=7e-3, a3_minus=2e-3)
    a2a, near = TripletSTDP(**kw), TripletSTDP(nearest=True, **kw)
    pre, post = [0.0, 4.0, 8.0], [12.0, 16.0]
    m_a2a, m_near = (run_single_synapse(r, pre, post, 1.0, 40.0) for r in (a2a, near))
    assert m_a2a == pytest.approx(triplet_oracle(pre, post, a2a, False), rel=1e-12)
    assert m_near == pytest.approx(triplet_oracle(pre, post, near, True), rel=1e-12)
    assert m_a2a > m_near > 0


def test_full_model_reads_r2_before_the_pre_spike_adds_to_it():
    """Post at 0 ms, pre at 10 and 20 ms (dt = 1 ms, all-to-all): the depression at the second pre spike uses
    r2 from the first pre only (e^{-10/τx}), never the second spike's own contribution."""
    rule = TripletSTDP(a2_plus=0.0, a3_plus=0.0, a2_minus=1e-2, a3_minus=5e-3, tau_minus=20.0, tau_x=50.0)
    measured = run_single_synapse(rule, [10.0, 20.0], [0.0], 1.0, 30.0)
    o1 = [math.exp(-10.0 / 20.0), math.exp(-20.0 / 20.0)]
    r2_before = [0.0, math.exp(-10.0 / 50.0)]
    expected = -sum(o * (1e-2 + 5e-3 * r) for o, r in zip(o1, r2_before))
    assert measured == pytest.approx(expected, rel=1e-12)
