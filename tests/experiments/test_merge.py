"""``python -m experiments merge``: runs split by seed merge into the report of one run over all seeds;
incompatible folders are refused with a one-line error before anything is written."""
import json

import pytest

from experiments.cli import main

SMALL = ["--quick", "--set", "tasks=parity", "--set", "models=a,m", "--set", "steps=30"]


def _run(path, seed, seeds):
    assert main(["run", "formal_languages", *SMALL, "--set", f"seeds={seeds}", "--seed", str(seed),
                 "--out", str(path)]) == 0
    return json.loads((path / "metrics.json").read_text())


def _without_time(runs):
    return sorted(({k: v for k, v in r.items() if k != "train_seconds"} for r in runs),
                  key=lambda r: (r["task"], r["model"], r["seed"]))


@pytest.fixture(scope="module")
def split_runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("merge")
    return d, _run(d / "all", 0, 3), _run(d / "s0", 0, 1), _run(d / "s12", 1, 2)


def test_merge_equals_one_run_over_all_seeds(split_runs, capsys):
    d, whole, *_ = split_runs
    assert main(["merge", "formal_languages", str(d / "s0"), str(d / "s12"), "--out", str(d / "m")]) == 0
    assert "report:" in capsys.readouterr().out
    merged = json.loads((d / "m" / "metrics.json").read_text())
    assert _without_time(merged["runs"]) == _without_time(whole["runs"])
    assert merged["summary"] == whole["summary"]
    assert all(s["seeds"] == 3 for ms in merged["summary"].values() for s in ms.values())
    cfg = json.loads((d / "m" / "config.json").read_text())
    assert cfg["merged_from"] == [str(d / "s0"), str(d / "s12")] and cfg["seed"] == 0
    assert (d / "m" / "accuracy_vs_length.png").stat().st_size > 0
    assert (d / "m" / "results.md").read_text() == (d / "all" / "results.md").read_text()


def _err(argv, capsys):
    assert main(argv) == 2
    return capsys.readouterr().err


def test_merge_refuses_overlapping_seeds(split_runs, capsys):
    d, *_ = split_runs
    err = _err(["merge", "formal_languages", str(d / "all"), str(d / "s12"), "--out", str(d / "x")], capsys)
    assert "appears in more than one run" in err and not (d / "x").exists()


def test_merge_refuses_other_settings_and_experiments(split_runs, tmp_path, capsys):
    d, *_ = split_runs
    other = tmp_path / "other"
    assert main(["run", "formal_languages", *SMALL, "--set", "steps=31", "--set", "seeds=1", "--seed", "5",
                 "--out", str(other)]) == 0
    err = _err(["merge", "formal_languages", str(d / "s0"), str(other), "--out", str(tmp_path / "x")], capsys)
    assert "in setting 'steps'" in err
    err = _err(["merge", "replay", str(d / "s0"), str(d / "s12"), "--out", str(tmp_path / "x")], capsys)
    assert "has no merge step" in err and "formal_languages" in err
    err = _err(["merge", "formal_languages", str(d / "s0"), "--out", str(tmp_path / "x")], capsys)
    assert "at least two" in err
    err = _err(["merge", "formal_languages", str(d / "s0"), str(tmp_path), "--out", str(tmp_path / "x")], capsys)
    assert "not a finished run folder" in err


def test_merge_hook_refuses_uneven_seed_coverage(split_runs, tmp_path):
    from experiments.aussm.formal_languages import Config, merge
    from experiments.context import RunContext
    _, _, s0, s12 = split_runs
    doctored = {**s12, "runs": [r for r in s12["runs"] if not (r["model"] == "m" and r["seed"] == 2)]}
    ctx = RunContext.create(tmp_path / "x", config={}, seed=0, quiet=True)
    with pytest.raises(ValueError, match="do not cover the same seeds"):
        merge(Config(tasks=["parity"], models=["a", "m"]), [s0, doctored], ctx)
    ctx.abort()
