"""Hebb, Oja and BCM: closed forms, Oja → top principal component, BCM threshold and selectivity."""

from __future__ import annotations

import math

import pytest
import torch

from plasticity import BCM, Hebb, Oja, apply
from ._plasticity_helpers import F64


def test_hebb_one_step_formula_shared_and_per_stream():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(4, 3, generator=g, dtype=F64), torch.randn(4, 2, generator=g, dtype=F64)
    w = torch.randn(2, 3, generator=g, dtype=F64)
    rule = Hebb(eta=0.7, decay=0.3)
    dw, _ = rule.delta(w, x, y, rule.init_state(w, 4), dt=0.1)
    expected = 0.1 * (0.7 * (y.T @ x) / 4 - 0.3 * w)
    torch.testing.assert_close(dw, expected, rtol=1e-13, atol=0)
    summed, _ = Hebb(eta=0.7, decay=0.3, reduce="sum").delta(w, x, y, rule.init_state(w, 4), dt=0.1)
    torch.testing.assert_close(summed, 0.1 * (0.7 * (y.T @ x) - 4 * 0.3 * w), rtol=1e-13, atol=0)
    wb = w.expand(4, 2, 3).clone()
    per, _ = rule.delta(wb, x, y, rule.init_state(wb), dt=0.1)
    torch.testing.assert_close(per, 0.1 * (0.7 * y[:, :, None] * x[:, None, :] - 0.3 * wb), rtol=1e-13, atol=0)


def test_hebb_with_decay_has_closed_form_trajectory():
    """Constant x, y: W_n = W* + (W_0 - W*)(1 - γ dt)^n with W* = η y xᵀ / γ (exact Euler recursion)."""
    rule = Hebb(eta=2.0, decay=0.5)
    x = torch.tensor([[1.0, -2.0, 0.5]], dtype=F64)
    y = torch.tensor([[0.3, 1.0]], dtype=F64)
    w0 = torch.ones(2, 3, dtype=F64)
    w, s = w0, rule.init_state(w0)
    dt, n = 0.05, 200
    for _ in range(n):
        dw, s = rule.delta(w, x, y, s, dt)
        w = apply(w, dw)
    w_star = 2.0 * (y.T @ x) / 0.5
    torch.testing.assert_close(w, w_star + (w0 - w_star) * (1 - 0.5 * dt) ** n, rtol=1e-12, atol=1e-12)


def test_oja_converges_to_top_principal_component_with_unit_norm():
    """x ~ N(0, C) with C = Q diag(λ) Qᵀ; y = w·x. Minibatch Oja (B = 64 samples per step) must find
    ± the eigenvector of λ_max from torch.linalg.eigh, with unit norm.

    Tolerances: with η dt = 0.02, B = 64 and eigengap λ1 - λ2 = 1.5, the stationary angular jitter is of
    order sqrt(η dt · λ2 / (2 B (λ1-λ2))) ≈ 0.01 rad; we allow 0.05 rad (≈ 3°) and |‖w‖ - 1| < 0.03."""
    g = torch.Generator().manual_seed(1234)
    n = 5
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=F64))
    lam = torch.tensor([3.0, 1.5, 1.0, 0.5, 0.25], dtype=F64)
    cov = q @ torch.diag(lam) @ q.T
    chol = torch.linalg.cholesky(cov)
    evals, evecs = torch.linalg.eigh(cov)
    top = evecs[:, -1]
    assert evals[-1].item() == pytest.approx(3.0, rel=1e-12)

    rule = Oja(eta=0.2)
    w = 0.1 * torch.randn(1, n, generator=g, dtype=F64)
    s = rule.init_state(w, 64)
    xs = (torch.randn(1500 * 64, n, generator=g, dtype=F64) @ chol.T).reshape(1500, 64, n)
    for x in xs:
        y = x @ w.T
        dw, s = rule.delta(w, x, y, s, dt=0.1)
        w = apply(w, dw)
    w = w[0]
    cos = (w @ top).abs() / w.norm()
    assert math.acos(min(1.0, cos.item())) < 0.05
    assert abs(w.norm().item() - 1.0) < 0.03


def test_oja_fixed_point_is_exact():
    w = torch.tensor([[0.6, 0.8]], dtype=F64)
    x = torch.tensor([[0.6, 0.8]], dtype=F64) * 2.0     # along w, y = 2
    dw, _ = Oja(eta=1.0).delta(w, x, x @ w.T, Oja().init_state(w), dt=0.1)
    torch.testing.assert_close(dw, torch.zeros_like(w), rtol=0, atol=1e-15)


def test_bcm_threshold_is_exponential_running_mean_of_y_squared():
    """θ_n = a^n θ_0 + Σ_k (1-a) a^{n-1-k} y_k², a = e^{-dt/τ_θ} (exact for y held over each step)."""
    g = torch.Generator().manual_seed(7)
    tau, dt, n = 5.0, 0.5, 60
    rule = BCM(eta=0.1, tau_theta=tau, theta0=0.3)
    ys = torch.randn(n, 2, 3, generator=g, dtype=F64)
    w = torch.zeros(3, 4, dtype=F64)
    s = rule.init_state(w, 2)
    for k in range(n):
        _, s = rule.delta(w, torch.zeros(2, 4, dtype=F64), ys[k], s, dt)
    a = math.exp(-dt / tau)
    expected = 0.3 * a**n + sum((1 - a) * a ** (n - 1 - k) * ys[k] ** 2 for k in range(n))
    torch.testing.assert_close(s.theta, expected, rtol=1e-12, atol=1e-14)
    # constant y: θ(t) = y² + (θ0 - y²) e^{-t/τ}
    s = rule.init_state(w, 1)
    y = torch.full((1, 3), 2.0, dtype=F64)
    for _ in range(20):
        _, s = rule.delta(w, torch.zeros(1, 4, dtype=F64), y, s, dt)
    torch.testing.assert_close(s.theta, 4.0 + (0.3 - 4.0) * torch.full_like(s.theta, math.exp(-20 * dt / tau)))


def test_bcm_one_step_uses_the_threshold_before_the_step():
    rule = BCM(eta=2.0, tau_theta=1.0, theta0=0.5)
    w = torch.zeros(1, 2, dtype=F64)
    x, y = torch.tensor([[1.0, 3.0]], dtype=F64), torch.tensor([[1.5]], dtype=F64)
    dw, _ = rule.delta(w, x, y, rule.init_state(w), dt=0.1)
    torch.testing.assert_close(dw, 0.1 * 2.0 * 1.5 * (1.5 - 0.5) * x)


def test_bcm_becomes_selective():
    """Linear neuron, two orthogonal patterns alternating (p = 1/2 each): the stable BCM fixed point
    responds 1/p = 2 to one pattern and 0 to the other. τ_θ spans many presentations so θ ≈ ⟨y²⟩;
    residual ripple of θ keeps responses within ~2 % (we allow 5 % on the winner and 0.05 absolute)."""
    g = torch.Generator().manual_seed(3)
    rule = BCM(eta=0.05, tau_theta=10.0, theta0=0.0)
    patterns = torch.eye(2, dtype=F64)
    w = 0.4 + 0.2 * torch.rand(1, 2, generator=g, dtype=F64)
    s = rule.init_state(w)
    for k in range(6000):
        x = patterns[k % 2 : k % 2 + 1]
        dw, s = rule.delta(w, x, x @ w.T, s, dt=0.5)
        w = apply(w, dw)
    responses = (patterns @ w.T).flatten()
    hi, lo = responses.max().item(), responses.min().item()
    assert hi == pytest.approx(2.0, rel=0.05)
    assert abs(lo) < 0.05
    assert s.theta.item() == pytest.approx(0.5 * hi**2, rel=0.1)
