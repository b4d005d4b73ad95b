"""Shared helpers for the plasticity tests (spike-train builders, runners, event-based oracles)."""

from __future__ import annotations

import math

import torch

from plasticity import apply

F64 = torch.float64


def spike_raster(times, n_steps: int, dt: float, dtype=F64) -> torch.Tensor:
    """(n_steps,) 0/1 raster with a spike in the step whose start is each time (times on the dt grid)."""
    r = torch.zeros(n_steps, dtype=dtype)
    for t in times:
        k = round(t / dt)
        assert abs(k * dt - t) < 1e-9 * max(1.0, abs(t)), "spike time must lie on the dt grid"
        r[k] += 1.0
    return r


def run_single_synapse(rule, pre_times, post_times, dt: float, t_end: float, dtype=F64):
    """Accumulated Δw of one synapse (weight fixed at 0, updates summed, not applied)."""
    n = round(t_end / dt) + 1
    pre = spike_raster(pre_times, n, dt, dtype)
    post = spike_raster(post_times, n, dt, dtype)
    w = torch.zeros(1, 1, dtype=dtype)
    state = rule.init_state(w, batch=1)
    total = torch.zeros(1, 1, dtype=dtype)
    for k in range(n):
        dw, state = rule.delta(w, pre[k].reshape(1, 1), post[k].reshape(1, 1), state, dt)
        total = total + dw
    return total.item()


def run_rule(rule, weight, pres, posts, dt: float, bounds=None, **signals):
    """Run ``rule`` over ``pres[k]``, ``posts[k]``, applying every Δ; return (weight, state)."""
    state = rule.init_state(weight, batch=pres.shape[1])
    for k in range(pres.shape[0]):
        dw, state = rule.delta(weight, pres[k], posts[k], state, dt, **signals)
        weight = apply(weight, dw, bounds)
    return weight, state


def pair_oracle(pre_times, post_times, a_plus, a_minus, tau_plus, tau_minus, nearest):
    """Event-based pair STDP: sum over spike pairs (all-to-all) or latest earlier partner (nearest)."""
    total = 0.0
    for tp in post_times:
        earlier = [t for t in pre_times if t < tp]
        if earlier:
            terms = [max(earlier)] if nearest else earlier
            total += a_plus * sum(math.exp(-(tp - t) / tau_plus) for t in terms)
    for tq in pre_times:
        earlier = [t for t in post_times if t < tq]
        if earlier:
            terms = [max(earlier)] if nearest else earlier
            total -= a_minus * sum(math.exp(-(tq - t) / tau_minus) for t in terms)
    return total


def triplet_oracle(pre_times, post_times, p, nearest):
    """Event-based Pfister–Gerstner triplet rule, from the spike lists (strictly earlier spikes only)."""

    def trace(times, t, tau):
        earlier = [s for s in times if s < t]
        if not earlier:
            return 0.0
        if nearest:
            return math.exp(-(t - max(earlier)) / tau)
        return sum(math.exp(-(t - s) / tau) for s in earlier)

    total = 0.0
    for t in post_times:
        total += trace(pre_times, t, p.tau_plus) * (p.a2_plus + p.a3_plus * trace(post_times, t, p.tau_y))
    for t in pre_times:
        total -= trace(post_times, t, p.tau_minus) * (p.a2_minus + p.a3_minus * trace(pre_times, t, p.tau_x))
    return total
