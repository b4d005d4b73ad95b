"""User-defined network rules: the protocol check, registration, a Learner run and checkpoints."""
from dataclasses import dataclass
from typing import NamedTuple

import pytest
import torch

from networks.gsemm import RULES, Learner, RecruitingRule, dsem, register_rule
from networks.gsemm.learning import check_rule


class _S(NamedTuple):
    n: torch.Tensor


@dataclass(frozen=True)
class DecayOnly:
    """Φ and Ξ decay towards zero at rate ``gamma``: dΞ = −γ dt Ξ, dΦ = −γ dt Φ."""
    gamma: float = 0.5
    name = "test_decay_only"
    input_mode = "clamp"

    def config(self):
        return {"name": self.name, "gamma": self.gamma}

    def init_state(self, model, batch):
        return _S(torch.zeros(batch, dtype=torch.int64))

    def update(self, model, x, old, new, state, dt):
        return -self.gamma * dt * model.xi, -self.gamma * dt * model.phi, _S(state.n + 1)


def _net():
    g = torch.Generator().manual_seed(0)
    return dsem(torch.randn(8, 4, generator=g, dtype=torch.float64), torch.eye(4, dtype=torch.float64).roll(1, 1),
                T_f=0.05, T_d=1.0)


def test_protocol_check_names_what_is_missing():
    with pytest.raises(ValueError, match="lacks name, input_mode, init_state, update, config"):
        check_rule(object())

    class BadMode(DecayOnly):
        input_mode = "telepathy"
    with pytest.raises(ValueError, match="input_mode"):
        check_rule(BadMode())
    with pytest.raises(ValueError, match="lacks"):
        Learner(_net(), object(), dt=0.05)


def test_a_custom_rule_runs_in_the_learner_and_its_delta_is_applied():
    net = _net()
    xi0, phi0 = net.xi.clone(), net.phi.clone()
    lrn = Learner(net, DecayOnly(gamma=0.5), dt=0.1)
    lrn.run(torch.ones(3, 1, 8, dtype=torch.float64))
    assert int(lrn.rule_state.n) == 3
    assert torch.allclose(lrn.model.xi, xi0 * 0.95 ** 3) and torch.allclose(lrn.model.phi, phi0 * 0.95 ** 3)


def test_checkpoints_need_registration(tmp_path):
    RULES.pop(DecayOnly.name, None)
    lrn = Learner(_net(), DecayOnly(), dt=0.1)
    lrn.run(torch.ones(2, 1, 8, dtype=torch.float64))
    path = lrn.save(tmp_path / "c.pt")
    with pytest.raises(ValueError, match="register_rule"):
        Learner.load(path)
    register_rule(DecayOnly)
    try:
        again = Learner.load(path)
        assert again.rule == DecayOnly() and torch.equal(again.model.xi, lrn.model.xi) and again.steps == 2
    finally:
        RULES.pop(DecayOnly.name, None)


def test_registration_guards_names():
    assert register_rule(RecruitingRule) is RecruitingRule and RULES["recruiting"] is RecruitingRule

    class Impostor(DecayOnly):
        name = "recruiting"
    with pytest.raises(ValueError, match="already registered"):
        register_rule(Impostor)
    assert RULES["recruiting"] is RecruitingRule
