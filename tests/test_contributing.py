"""CONTRIBUTING.md kept true: the layering rule, and its walk-throughs followed once (a rule on one weight, a
GSEMM network rule, an experiment), each used through the public entry points a user would use."""
from __future__ import annotations

import ast
import json
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pytest
import torch

from networks.gsemm import RULES, Learner, dsem, random_patterns, register_rule, rule_from_settings
from plasticity import Rule, apply
from plasticity.checks import positive
from plasticity.rule import check_inputs, outer, resolve_batch

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("package, forbidden", [("plasticity", {"networks", "experiments"}),
                                                ("networks", {"experiments"})])
def test_layering(package, forbidden):
    """experiments -> networks -> plasticity: nothing imports upward."""
    bad = {str(p.relative_to(ROOT)): sorted(_imports(p) & forbidden) for p in (ROOT / package).rglob("*.py")}
    assert {k: v for k, v in bad.items() if v} == {}


def test_contributing_names_existing_files():
    """Every repository path CONTRIBUTING.md names in backticks exists (a rename must update the map)."""
    text = (ROOT / "CONTRIBUTING.md").read_text()
    paths = {p for p in re.findall(r"`([\w./<>-]+)`", text)
             if "/" in p and "<" not in p and not p.startswith(".venv") and not p.startswith("-")}
    paths = {p.split("#")[0] for p in paths}
    assert len(paths) > 10
    assert sorted(p for p in paths if not (ROOT / p).exists()) == []


# -- walk-through 1a: a rule on one weight -------------------------------------------------------------------


class NoState(NamedTuple):
    pass


@dataclass(frozen=True, kw_only=True)
class AntiHebb(Rule):
    """dW/dt = −η y xᵀ (anti-Hebbian decorrelation)."""
    eta: float = 1.0

    def __post_init__(self):
        super().__post_init__()
        positive("eta", self.eta)

    def init_state(self, weight, batch=None):
        resolve_batch(weight, batch)
        return NoState()

    def delta(self, weight, pre, post, state, dt, **signals):
        dt = check_inputs(weight, pre, post, dt, check_finite=self.check_finite)
        return -self.eta * dt * outer(post, pre, weight, self.reduce), state


def test_walkthrough_rule_on_one_weight():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(4, 3, generator=g, dtype=torch.float64), torch.rand(4, 2, generator=g, dtype=torch.float64)
    rule = AntiHebb(eta=0.5)
    shared = torch.zeros(2, 3, dtype=torch.float64)
    dw, _ = rule.delta(shared, x, y, rule.init_state(shared, 4), 0.1)
    torch.testing.assert_close(dw, -0.5 * 0.1 * y.T @ x / 4, rtol=1e-15, atol=0)      # mean over streams
    per_stream = torch.zeros(4, 2, 3, dtype=torch.float64)
    dw, _ = rule.delta(per_stream, x, y, rule.init_state(per_stream), 0.1)
    torch.testing.assert_close(dw, -0.05 * y[:, :, None] * x[:, None, :], rtol=1e-15, atol=0)
    assert torch.equal(apply(shared, -dw[0]), 0.05 * torch.outer(y[0], x[0]))
    with pytest.raises(ValueError, match="eta"):
        AntiHebb(eta=-1.0)
    with pytest.raises(ValueError):
        rule.delta(shared, x[:, :2], y, NoState(), 0.1)                            # wrong pre size


# -- walk-through 1b: a GSEMM network rule ------------------------------------------------------------------


class Seen(NamedTuple):
    steps: torch.Tensor      # (B,) steps seen per stream


@register_rule
@dataclass(frozen=True)
class InstarXi:
    """ΔΞ = η dt · mean_b x_b σ_h(h_b)ᵀ (each hidden unit's column moves towards the patterns it responds to);
    Φ is left alone."""
    eta: float = 0.5
    name = "contributing_instar"
    input_mode = "clamp"

    def config(self):
        return {"name": self.name, "eta": self.eta}

    def init_state(self, model, batch):
        return Seen(model.xi.new_zeros(batch))

    def update(self, model, x, old, new, state, dt):
        h = model.hidden_activity(new)
        d_xi = self.eta * dt * torch.einsum("bn,bp->np", x, h) / x.shape[0]
        return d_xi, torch.zeros_like(model.phi), Seen(state.steps + 1)


def test_walkthrough_network_rule(tmp_path):
    assert RULES["contributing_instar"] is InstarXi
    rule = rule_from_settings("contributing_instar", {"eta": 0.25, "theta": 0.9})     # unrelated settings ignored
    assert rule == InstarXi(eta=0.25)
    g = torch.Generator().manual_seed(1)
    X = random_patterns(16, 3, generator=g, dtype=torch.float64)
    net = dsem(torch.zeros(16, 3, dtype=torch.float64), torch.zeros(3, 3, dtype=torch.float64), T_f=0.05, T_d=1.0)
    lrn = Learner(net, rule, dt=0.05, batch=1)
    chunk = X.T.repeat_interleave(5, 0)[:, None, :]                                    # (15, 1, 16)
    lrn.run(chunk[:7])
    lrn.save(tmp_path / "ck.pt")
    lrn.run(chunk[7:])
    again = Learner.load(tmp_path / "ck.pt")
    assert again.rule == rule and int(again.rule_state.steps.item()) == 7
    again.run(chunk[7:])
    assert torch.equal(again.xi, lrn.xi) and int(lrn.rule_state.steps.item()) == 15
    assert torch.equal(lrn.phi, torch.zeros(3, 3, dtype=torch.float64))                 # Φ left alone
    # first step from Ξ = Φ = 0: every hidden unit is equally active (1/3), so each column moves by η dt x₀ / 3
    first = Learner(net, rule, dt=0.05, batch=1)
    first.run(chunk[:1])
    expected = (0.25 * 0.05 * chunk[0, 0] / 3)[:, None].expand(16, 3)
    torch.testing.assert_close(first.xi, expected, rtol=1e-12, atol=1e-15)


# -- walk-through 3: an experiment -------------------------------------------------------------------------
EXPERIMENT_MODULE = '''
"""``contributing_cycle``: a DSEM cycle replays its memories in order (the CONTRIBUTING walk-through)."""
import torch
from networks.gsemm import cycle, decode, hadamard_patterns, simulate
from experiments.config import setting, with_defaults
from experiments.context import pyplot
from experiments.gsemm.common import DSEMSettings, build_model
from experiments.registry import Experiment


@with_defaults(alpha_c=2.0, beta=10.0, T_d=10.0)
class Config(DSEMSettings):
    P: int = setting(4, "memories in the cycle", minimum=2, maximum=64)
    steps: int = setting(3000, "Euler steps", minimum=1)


def run(cfg, ctx):
    xi = hadamard_patterns(64, cfg.P, dtype=torch.float64)
    net = build_model(cfg, xi, cycle(cfg.P, dtype=torch.float64))
    _, tr = simulate(net, net.init_state(xi[:, 0]), steps=cfg.steps, dt=0.02, record_every=10)
    order = decode(tr.overlaps[:, 0], 0.2).order
    fig, ax = pyplot().subplots()
    ax.plot(tr.t.numpy(), tr.overlaps[:, 0].numpy())
    ctx.save_figure(fig, "overlaps")
    ok = order[:cfg.P] == list(range(cfg.P))
    return {"summary": f"order {order[:cfg.P]}", "in_order": ok, "threads": torch.get_num_threads()}


EXPERIMENT = Experiment(Config, run, "a DSEM cycle replays in order", quick=("steps=2000",), threads=1)
'''


def test_walkthrough_experiment(tmp_path, monkeypatch, capsys):
    from experiments import registry
    from experiments.cli import main
    (tmp_path / "contributing_cycle.py").write_text(textwrap.dedent(EXPERIMENT_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.CATALOG, "contributing_cycle", "contributing_cycle")
    try:
        assert registry.get("contributing_cycle").name == "contributing_cycle"
        assert main(["run", "contributing_cycle", "--help"]) == 0
        help_text = capsys.readouterr().out
        assert "alpha_c" in help_text and "default=2.0" in help_text and "[>= 2, <= 64]" in help_text
        assert main(["run", "contributing_cycle", "--set", "P=65", "--out", str(tmp_path / "bad")]) == 2
        out = tmp_path / "run"
        assert main(["run", "contributing_cycle", "--quick", "--set", "alpha_c=2.5", "--out", str(out)]) == 0
        metrics = json.loads((out / "metrics.json").read_text())
        config = json.loads((out / "config.json").read_text())
        assert metrics["in_order"] is True and metrics["threads"] == 1
        assert config["alpha_c"] == 2.5 and config["steps"] == 2000 and (out / "overlaps.png").exists()
    finally:
        sys.modules.pop("contributing_cycle", None)
