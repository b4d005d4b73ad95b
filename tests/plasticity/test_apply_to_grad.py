"""apply() and to_grad(): bounds, purity, and SGD(lr=1) after to_grad equals apply."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from plasticity import Oja, apply, to_grad
from ._plasticity_helpers import F64


def test_apply_adds_and_clips_without_mutating():
    w = torch.tensor([[0.2, 0.5, 0.9]], dtype=F64)
    w0 = w.clone()
    dw = torch.tensor([[-0.5, 0.1, 0.5]], dtype=F64)
    torch.testing.assert_close(apply(w, dw), w0 + dw, rtol=0, atol=0)
    torch.testing.assert_close(apply(w, dw, bounds=(0.0, 1.0)), torch.tensor([[0.0, 0.6, 1.0]], dtype=F64))
    torch.testing.assert_close(apply(w, dw, bounds=(None, 0.55)), torch.tensor([[-0.3, 0.55, 0.55]], dtype=F64))
    hi = torch.tensor([[1.0, 0.55, 2.0]], dtype=F64)
    torch.testing.assert_close(apply(w, dw, bounds=(0.0, hi)), torch.tensor([[0.0, 0.55, 1.4]], dtype=F64))
    assert torch.equal(w, w0)


@pytest.mark.parametrize(
    "args, match",
    [
        ((torch.zeros(2, 3), torch.zeros(3, 2)), "dw has shape"),
        ((torch.zeros(2), torch.tensor([float("nan"), 0.0])), "dw contains NaN"),
        ((torch.zeros(2), torch.zeros(2), (1.0, 0.0)), "bounds"),
        ((torch.zeros(2), torch.zeros(2), (0.0,)), "bounds"),
        ((torch.zeros(2), torch.zeros(2), (float("nan"), 1.0)), r"bounds\[0\]"),
    ],
)
def test_apply_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        apply(*args)


def test_to_grad_bad_input():
    p = torch.nn.Parameter(torch.zeros(2, 2))
    with pytest.raises(ValueError, match="dw has shape"):
        to_grad(p, torch.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        to_grad(p, torch.full((2, 2), float("inf")))
    assert p.grad is None                    # nothing written on error


@settings(max_examples=30, deadline=None)
@given(shape=st.sampled_from([(3,), (2, 5), (4, 2, 3)]), seed=st.integers(0, 2**31 - 1))
def test_sgd_lr1_after_to_grad_equals_apply(shape, seed):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(*shape, generator=g, dtype=F64)
    dw = torch.randn(*shape, generator=g, dtype=F64)
    p = torch.nn.Parameter(w.clone())
    to_grad(p, dw)
    torch.optim.SGD([p], lr=1.0).step()
    assert torch.equal(p.data, apply(w, dw))         # bit-identical: w - 1·(-dw) == w + dw


def test_to_grad_accumulates_with_backprop_gradients():
    p = torch.nn.Parameter(torch.tensor([1.0, 2.0], dtype=F64))
    (p**2).sum().backward()                      # grad = 2p
    to_grad(p, torch.tensor([0.5, -1.0], dtype=F64))
    torch.testing.assert_close(p.grad, torch.tensor([2.0 - 0.5, 4.0 + 1.0], dtype=F64))
    to_grad(p, torch.tensor([0.5, 0.0], dtype=F64))
    torch.testing.assert_close(p.grad, torch.tensor([1.0, 5.0], dtype=F64))


def test_optimizer_route_reproduces_a_local_learning_run():
    """Oja learning through SGD(lr=1) + to_grad equals the apply() loop step for step."""
    g = torch.Generator().manual_seed(5)
    xs = torch.randn(50, 8, 4, generator=g, dtype=F64)
    rule = Oja(eta=0.5)
    w = 0.3 * torch.randn(2, 4, generator=g, dtype=F64)
    p = torch.nn.Parameter(w.clone())
    opt = torch.optim.SGD([p], lr=1.0)
    s1 = s2 = rule.init_state(w, 8)
    for x in xs:
        dw, s1 = rule.delta(w, x, x @ w.T, s1, dt=0.1)
        w = apply(w, dw)
        opt.zero_grad(set_to_none=True)
        with torch.no_grad():
            dp, s2 = rule.delta(p.detach(), x, x @ p.detach().T, s2, dt=0.1)
        to_grad(p, dp)
        opt.step()
    assert torch.equal(p.data, w)
