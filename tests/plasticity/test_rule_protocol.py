"""Bad input raises ValueError naming the argument, before any work; constructor validation."""

from __future__ import annotations

import pytest
import torch

from plasticity import BCM, Additive, Hebb, Modulated, Multiplicative, Oja, PairSTDP, Rule, Sum, TripletSTDP
from plasticity.rule import check_inputs

RULES = {
    "hebb": Hebb(eta=0.1),
    "oja": Oja(eta=0.1),
    "bcm": BCM(tau_theta=2.0),
    "stdp": PairSTDP(),
    "triplet": TripletSTDP(),
    "multiplicative": Multiplicative(rule=PairSTDP()),
    "additive": Additive(rule=Hebb()),
    "modulated": Modulated(rule=PairSTDP(), tau_e=10.0),
    "sum": Sum(Hebb(), PairSTDP()),
}
W, PRE, POST = torch.zeros(2, 3), torch.zeros(4, 3), torch.zeros(4, 2)


def _nan(shape):
    t = torch.zeros(*shape)
    t.view(-1)[0] = float("nan")
    return t


BAD_CALLS = [
    (dict(pre=torch.zeros(4, 5)), "pre has 5 columns"),
    (dict(post=torch.zeros(4, 7)), "post has 7 columns"),
    (dict(post=torch.zeros(3, 2)), "same batch size"),
    (dict(pre=torch.zeros(3)), "pre must have shape"),
    (dict(weight=torch.zeros(3)), "weight must have shape"),
    (dict(weight=torch.zeros(5, 2, 3)), "per-stream weight has batch 5"),
    (dict(pre=_nan((4, 3))), "pre contains NaN"),
    (dict(post=torch.full((4, 2), float("inf"))), "post contains NaN"),
    (dict(weight=_nan((2, 3))), "weight contains NaN"),
    (dict(dt=0.0), "dt must be finite and > 0"),
    (dict(dt=-1.0), "dt must be finite and > 0"),
    (dict(dt=float("nan")), "dt must be finite and > 0"),
    (dict(dt="1"), "dt must be a positive float"),
    (dict(pre=torch.zeros(4, 3, dtype=torch.float64)), "pre must have the dtype"),
    (dict(pre=torch.zeros(4, 3, dtype=torch.int64)), "pre must be a floating-point"),
]


@pytest.mark.parametrize("name", sorted(RULES))
@pytest.mark.parametrize("override, match", BAD_CALLS)
def test_bad_calls_raise_value_error_naming_the_argument(name, override, match):
    rule = RULES[name]
    state = rule.init_state(W, 4)
    args = dict(weight=W, pre=PRE, post=POST, dt=1.0)
    args.update(override)
    with pytest.raises(ValueError, match=match):
        rule.delta(args["weight"], args["pre"], args["post"], state, args["dt"], modulator=0.0)


@pytest.mark.parametrize("name", ["bcm", "stdp", "triplet", "multiplicative", "modulated", "sum"])
def test_state_from_another_batch_size_is_rejected(name):
    rule = RULES[name]
    with pytest.raises(ValueError, match="state"):
        rule.delta(W, PRE, POST, rule.init_state(W, 3), 1.0, modulator=0.0)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: PairSTDP(tau_plus=-1.0), "tau_plus"),
        (lambda: PairSTDP(tau_minus=0.0), "tau_minus"),
        (lambda: PairSTDP(a_plus=-0.1), "a_plus"),
        (lambda: PairSTDP(nearest="yes"), "nearest"),
        (lambda: TripletSTDP(tau_y=-5.0), "tau_y"),
        (lambda: TripletSTDP(tau_x=float("inf")), "tau_x"),
        (lambda: TripletSTDP(a3_plus=-1.0), "a3_plus"),
        (lambda: BCM(tau_theta=0.0), "tau_theta"),
        (lambda: BCM(eta=float("nan")), "eta"),
        (lambda: Hebb(decay=-1.0), "decay"),
        (lambda: Oja(eta="fast"), "eta"),
        (lambda: Modulated(rule=Hebb(), tau_e=-2.0), "tau_e"),
        (lambda: Hebb(reduce="max"), "reduce"),
        (lambda: Sum(), "rules"),
        (lambda: Sum(Hebb(), 3), r"rules\[1\]"),
    ],
)
def test_bad_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_init_state_validation_and_shapes():
    with pytest.raises(ValueError, match="batch=3 but the per-stream weight has batch 2"):
        PairSTDP().init_state(torch.zeros(2, 4, 5), 3)
    with pytest.raises(ValueError, match="batch must be a positive int"):
        PairSTDP().init_state(torch.zeros(4, 5), 0)
    s = TripletSTDP().init_state(torch.zeros(4, 5, dtype=torch.float64), 3)
    assert [tuple(t.shape) for t in s] == [(3, 5), (3, 5), (3, 4), (3, 4)]
    assert all(t.dtype == torch.float64 for t in s)
    s = Modulated(rule=Hebb(), tau_e=1.0).init_state(torch.zeros(2, 4, 5))
    assert s.eligibility.shape == (2, 4, 5)


def test_check_finite_false_skips_the_scan():
    rule = Hebb(eta=1.0, check_finite=False)
    dw, _ = rule.delta(W, _nan((4, 3)), POST + 1, rule.init_state(W, 4), 1.0)
    assert torch.isnan(dw).any()             # the caller opted out of the check; NaN propagates


def test_base_rule_requires_delta_and_states_are_namedtuples():
    with pytest.raises(NotImplementedError):
        Rule().delta(W, PRE, POST, (), 1.0)
    for name, rule in RULES.items():
        st = rule.init_state(W, 4)
        assert hasattr(st, "_fields"), name           # NamedTuple: a pytree for torch.func / compile
    assert check_inputs(W, PRE, POST, 2) == 2.0
