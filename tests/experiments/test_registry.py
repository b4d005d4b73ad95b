"""The framework's one way of doing things: names from the catalogue, settings blocks, threads and figures set by
the framework, no experiment importing another."""
from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
from pathlib import Path

import pytest
import torch

from experiments import registry
from experiments.config import ConfigError, apply_overrides, setting, with_defaults
from experiments.registry import CATALOG, Experiment

ROOT = Path(__file__).resolve().parents[2]


def _module(name):
    try:
        return importlib.import_module(CATALOG[name])
    except ImportError as e:                                    # an optional package the module needs
        pytest.skip(f"{name}: {e}")


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_name_is_written_once_in_the_catalogue(name):
    module = _module(name)
    assert module.EXPERIMENT.name == ""                          # the module does not repeat its name
    exp = registry.get(name)
    assert exp.name == name and exp.config is module.EXPERIMENT.config
    apply_overrides(exp.config(), exp.quick)                     # the quick settings exist and are valid


def _imported_modules(path: Path, package: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level \
                else node.module
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


def test_no_experiment_imports_another():
    """Helpers used by several experiments live in shared modules (``common``) or the library."""
    experiment_modules = set(CATALOG.values())
    for name, mod in CATALOG.items():
        path = ROOT / (mod.replace(".", "/") + ".py")
        package = mod.rsplit(".", 1)[0]
        others = (_imported_modules(path, package) & experiment_modules) - {mod}
        assert not others, f"{name} imports the experiment module(s) {sorted(others)}"


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_threads_and_backend_are_the_framework_s(name):
    """No experiment sets matplotlib's backend or the thread count itself (experiments.context.pyplot and
    Experiment.run do)."""
    text = (ROOT / (CATALOG[name].replace(".", "/") + ".py")).read_text(encoding="utf-8")
    assert "matplotlib.use(" not in text and "cpu_threads(" not in text and "set_num_threads" not in text


def test_run_sets_the_thread_count():
    seen = []

    def main(cfg, ctx):
        seen.append(torch.get_num_threads())
        return {}

    @dataclasses.dataclass(frozen=True)
    class Plain:
        x: int = 1

    @dataclasses.dataclass(frozen=True)
    class WithThreads:
        threads: int = 2

    before = torch.get_num_threads()
    Experiment(Plain, main, "", threads=1).run(Plain(), None)
    Experiment(WithThreads, main, "", threads=1).run(WithThreads(threads=1), None)   # the setting wins
    Experiment(Plain, main, "").run(Plain(), None)                                    # 0: torch's default
    assert seen == [1, 1, before] and torch.get_num_threads() == before


def test_with_defaults_keeps_help_choices_and_bounds():
    @dataclasses.dataclass(frozen=True)
    class Block:
        method: str = setting("euler", "integrator", choices=("euler", "rk4"))
        dt: float = setting(0.1, "step", positive=True)

    @with_defaults(method="rk4", dt=0.5)
    class Cfg(Block):
        N: int = setting(3, "size")

    f = {x.name: x for x in dataclasses.fields(Cfg)}
    assert Cfg() == Cfg(method="rk4", dt=0.5, N=3) and f["dt"].metadata == dataclasses.fields(Block)[1].metadata
    with pytest.raises(ConfigError, match="must be > 0"):
        apply_overrides(Cfg(), ["dt=-1"])
    with pytest.raises(ConfigError, match="not one of"):
        apply_overrides(Cfg(), ["method=split"])
    with pytest.raises(TypeError, match="not settings"):
        with_defaults(typo=1)(type("Bad", (Block,), {}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        Cfg().N = 4


def test_shared_settings_keep_their_names_and_defaults():
    """The settings blocks change where settings are declared, not what they are called or their defaults."""
    want = {
        "learn_sequence": dict(alpha_s=1.0, alpha_c=2.0, beta=1.0, beta_d=1.0, T_f=0.05, T_d=1.0, dt=0.05,
                               item_steps=60, epochs=20, theta=0.5, recall_dt=0.005, recall_items=3.0, record_every=10,
                               min_dwell=5, rule="recruiting", pre_code="sharp"),
        "replay": dict(alpha_s=1.0, alpha_c=4.9, beta=1.0, T_f=1.0, T_d=20.0, dt=0.01, record_every=10, min_dwell=5,
                       model="dsem", method="split", backend="auto"),
        "spike": dict(alpha_s=0.5, alpha_c=1.0, beta=4.0, T_d=2.0, target="runtime"),
        "capacity": dict(r=0.3, beta=3.0, T_d=10.0, dt=0.1),
        "time_cells": dict(r=0.6, beta=10.0, T_d=20.0, dt=0.01),
        "wave_copy": dict(T=50, n=100, c=6, irnn_hidden=100, steps=20000, batch=128, lr=1e-3, clip=1.0, threads=1),
        "wave_adding": dict(T=400, n=100, c=27, irnn_hidden=100, steps=4000, batch=128, lr=1e-3, clip=1.0, threads=1),
        "emt": dict(steps=20000, batch=64, lr=1e-3, clip=1.0, threads=1, backend="aten"),
        "continuous": dict(threads=1),
    }
    for name, values in want.items():
        cfg = _module(name).EXPERIMENT.config()
        assert {k: getattr(cfg, k) for k in values} == values, name


def test_choices_come_from_the_library():
    from networks.gsemm import METHODS, MODELS, RULES
    from networks.gsemm.integrate import BACKENDS

    def choices(name, key):
        return next(f for f in dataclasses.fields(_module(name).EXPERIMENT.config) if f.name == key).metadata["choices"]

    assert choices("replay", "model") == tuple(MODELS) and choices("replay", "method") == METHODS
    assert choices("replay", "backend") == BACKENDS and choices("learn_sequence", "rule") == tuple(RULES)
