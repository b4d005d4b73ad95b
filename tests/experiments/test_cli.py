"""The experiment runner: settings parsing, errors that name the fix, atomic run folders, and the GSEMM
experiments' quick modes end to end."""
import json
import math
from dataclasses import dataclass

import pytest

from experiments.cli import main
from experiments.config import ConfigError, apply_overrides, setting
from experiments.context import RunContext


@dataclass(frozen=True)
class _Cfg:
    N: int = setting(10, "neurons", minimum=1)
    r: list[float] = setting([0.5], "ratios")
    method: str = setting("euler", "integrator", choices=("euler", "rk4"))
    flag: bool = setting(False, "a flag")
    path: str | None = setting(None, "optional path")


def test_overrides_convert_types():
    cfg = apply_overrides(_Cfg(), ["N=64", "r=0.1,0.2", "method=rk4", "flag=true", "path=x.npy"])
    assert cfg == _Cfg(64, [0.1, 0.2], "rk4", True, "x.npy")
    assert apply_overrides(_Cfg(), ["N=1e2"]).N == 100


@pytest.mark.parametrize("pair,match", [("methd=rk4", "Did you mean method"), ("N=abc", "expected an integer"),
                                        ("N=0", ">= 1"), ("method=heun", "not one of"), ("N", "key=value"),
                                        ("flag=maybe", "boolean")])
def test_bad_overrides_name_the_fix(pair, match):
    with pytest.raises(ConfigError, match=match):
        apply_overrides(_Cfg(), [pair])


def test_run_folder_is_atomic(tmp_path):
    ctx = RunContext.create(tmp_path / "run", config={"a": 1}, seed=3)
    (ctx.path("partial.txt")).write_text("x")
    assert not (tmp_path / "run").exists()  # nothing visible until finish
    ctx.abort()
    assert list(tmp_path.iterdir()) == []
    ctx = RunContext.create(tmp_path / "run", config={"a": 1}, seed=3)
    out = ctx.finish({"value": float("nan"), "ok": True})
    assert json.loads((out / "metrics.json").read_text())["value"] is None
    assert json.loads((out / "config.json").read_text())["seed"] == 3


def test_cli_errors(tmp_path, capsys):
    assert main(["run", "replai"]) == 2
    assert "Did you mean replay" in capsys.readouterr().err
    assert main(["run", "replay", "--set", "alpha=1"]) == 2
    assert "Did you mean alpha_s" in capsys.readouterr().err
    assert main(["run", "replay", "--set", "steps=-5", "--out", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()
    assert main(["run", "replay", "--set", "cue=99", "--set", "steps=10", "--out", str(tmp_path / "y")]) == 2
    assert "out of range" in capsys.readouterr().err
    assert not (tmp_path / "y").exists()
    assert not list(tmp_path.glob(".y*"))  # the temporary folder was removed too


def test_cli_cuda_without_gpu(tmp_path, capsys):
    import torch
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present; this checks the error without one")
    assert main(["run", "replay", "--quick", "--device", "cuda", "--out", str(tmp_path / "z")]) == 2
    assert "no CUDA device" in capsys.readouterr().err


def test_list_and_help(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("replay", "escape_time", "capacity", "time_cells"):
        assert name in out
    assert main(["run", "replay", "--help"]) == 0
    assert "alpha_c" in capsys.readouterr().out


def _run(tmp_path, name, *extra):
    out = tmp_path / name
    assert main(["run", name, "--quick", "--out", str(out), *extra]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert (out / "config.json").exists() and list(out.glob("*.png"))
    return m


def test_replay_quick(tmp_path):
    m = _run(tmp_path, "replay")
    assert m["order_correct"] is True and m["decoded"][:3] == [4, 5, 6]
    assert m["transitions"] >= 4 and 11.0 < m["mean_dwell"] < 13.5


def test_escape_time_quick(tmp_path):
    m = _run(tmp_path, "escape_time")
    assert m["static_above_one"] is True
    assert m["mean_abs_rel_err"] < 0.05
    assert {p["r"] for p in m["points"]} == {0.6, 0.9, 1.02}


def test_time_cells_quick(tmp_path):
    m = _run(tmp_path, "time_cells")
    assert m["peak_order"] == [0, 1, 2, 3, 4]
    assert 0.7 < m["ramp_decay_over_T_d"] < 1.3


def test_capacity_quick(tmp_path):
    m = _run(tmp_path, "capacity")
    caps = {(c["model"], c["N"]): c["capacity"] for c in m["capacity"]}
    assert all(math.isfinite(v) and v >= 2 for v in caps.values())
    # 100 draws, success ≥ 0.96: noisy near the threshold, so only wide gaps in N are compared
    assert caps[("lisem", 200)] > caps[("lisem", 50)]
    assert caps[("dsem", 24)] > 2 * caps[("dsem", 16)]
