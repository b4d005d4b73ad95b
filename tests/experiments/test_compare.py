"""The ``compare`` experiment: quick mode through the CLI, table structure, finite metrics, bad names."""
from __future__ import annotations

import csv
import json
import math

import pytest
import torch

from experiments.cli import main
from experiments.compare.contenders import CONTENDERS, make
from experiments.compare.measure import mean_ci
from experiments.compare.tasks import TASKS, flip_bits, random_sequence, score, task_generator

pytest.importorskip("matplotlib", reason="the experiment writes figures (extra `plot`)")
pytest.importorskip("sklearn", reason="the digits task needs scikit-learn (extra `data`)")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "run"
    rc = main(["run", "compare", "--quick", "--out", str(out)])
    return rc, out


def test_quick_mode_writes_table_plots_and_finite_metrics(quick_run):
    rc, out = quick_run
    assert rc == 0
    for name in ("table.md", "table.csv", "metrics.json", "accuracy_vs_presentations.png",
                 "accuracy_vs_wallclock.png", "capacity_vs_N.png", "retention.png", "robustness.png"):
        assert (out / name).is_file(), name
    rows = list(csv.reader(open(out / "table.csv")))
    assert rows[0] == ["model", "task", "metric", "mean", "ci_low", "ci_high", "n"]
    seen = {(r[0], r[1]) for r in rows[1:]}
    assert seen == {(m, t) for m in CONTENDERS for t in TASKS}          # every contender on every task
    metrics = json.load(open(out / "metrics.json"))
    assert metrics["summary"] and set(metrics["models"]) == set(CONTENDERS)
    for m in CONTENDERS:
        res = metrics["results"][m]
        for t, key in (("sequence", "bit_acc"), ("sequence", "train_seconds"), ("digits", "bit_acc"),
                       ("noisy", "bit_acc@0.3"), ("continual", "A_after_B"), ("capacity", "capacity@N=16")):
            v = res[t][key]["mean"]
            assert isinstance(v, (int, float)) and math.isfinite(v), (m, t, key, v)
        assert 0.0 <= res["sequence"]["bit_acc"]["mean"] <= 1.0
        assert metrics["budgets"][m]["epochs"] >= 1
    md = (out / "table.md").read_text()
    for t in TASKS:
        assert f"## {t}" in md
    for m in CONTENDERS:
        assert md.count(f"| {m} |") == len(TASKS)


def test_backprop_baselines_learn_the_quick_sequence(quick_run):
    """A check that could fail: the LSTM and Elman baselines must recall the tiny sequence."""
    _, out = quick_run
    res = json.load(open(out / "metrics.json"))["results"]
    assert res["lstm"]["sequence"]["success"]["mean"] == 1.0
    assert res["elman"]["sequence"]["success"]["mean"] == 1.0


def test_spiking_column_and_twm(quick_run):
    """The Brian2 rate mirror of the locally learned GSEMM replays the torch order (the spiking column);
    non-GSEMM models have no mirror (nan); the TWM contender is present and learns the tiny sequence."""
    _, out = quick_run
    res = json.load(open(out / "metrics.json"))["results"]
    assert res["gsemm_local"]["sequence"]["spiking_agreement"]["mean"] == 1.0
    assert res["lstm"]["sequence"]["spiking_agreement"]["mean"] is None          # nan, written as null
    assert res["twm"]["sequence"]["success"]["mean"] == 1.0
    assert "Brian2 mirror agreement" in (out / "table.md").read_text()


@pytest.mark.parametrize("arg,word", [("tasks=sequence,bogus", "bogus"), ("models=lstm,gru", "gru")])
def test_unknown_task_or_model_names_the_choices(tmp_path, capsys, arg, word):
    rc = main(["run", "compare", "--quick", "--set", arg, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert rc == 2 and word in err and "valid choices" in err
    assert not (tmp_path / "x").exists()


def test_streams_are_seeded_and_identical_across_calls():
    a = random_sequence(16, 5, task_generator(3, "sequence"))
    b = random_sequence(16, 5, task_generator(3, "sequence"))
    c = random_sequence(16, 5, task_generator(4, "sequence"))
    assert torch.equal(a, b) and not torch.equal(a, c)
    cue = flip_bits(a[0], 0.25, torch.Generator().manual_seed(0))
    assert int((cue != a[0]).sum()) == 4


def test_score_and_ci():
    X = torch.tensor([[1., 1.], [1., -1.], [-1., -1.]])
    assert score(X[1:], X) == (True, 1.0)
    assert score(-X[1:], X) == (False, 0.0)
    m, lo, hi = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    assert m == 3.0 and lo < 3.0 < hi and abs((hi - lo) / 2 - 2.776 * math.sqrt(2.5) / math.sqrt(5)) < 1e-9


def test_make_rejects_unknown_model():
    with pytest.raises(ValueError, match="valid choices"):
        make("transformer", N=8, items=3, seed=0)


def test_docstring_examples_of_the_compare_modules_run():
    import doctest

    from experiments.compare import compare, contenders, measure, report, tasks
    for mod in (tasks, measure, contenders, report, compare):
        res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
        assert res.failed == 0 and res.attempted > 0, mod.__name__
