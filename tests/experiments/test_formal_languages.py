"""``formal_languages --quick``: run folder, table structure (Markdown + CSV), finite metrics, plot; tasks are
correct by construction (labels recomputed independently) and seeded only by the explicit generator."""
import csv
import itertools
import json
import math

import pytest
import torch

from experiments.aussm.formal_languages import TABLE_COLUMNS, Config, summarise
from experiments.aussm.tasks import A5_IDENTITY, A5_TABLE, MOD, TASKS, get_task
from experiments.cli import main
from experiments.config import ConfigError, apply_overrides
from experiments.registry import get


def test_quick_run_writes_table_and_finite_metrics(tmp_path):
    out = tmp_path / "fl"
    assert main(["run", "formal_languages", "--quick", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    cfg = apply_overrides(Config(), get("formal_languages").quick)
    summ = m["summary"]
    assert set(summ) == set(cfg.tasks)
    for t in cfg.tasks:
        assert set(summ[t]) == set(cfg.models)
        for s in summ[t].values():
            for k in ("best_test", "median_test", "median_val"):
                assert isinstance(s[k], float) and math.isfinite(s[k]) and 0.0 <= s[k] <= 1.0
            assert s["best_test"] >= s["median_test"] and s["seeds"] == cfg.seeds
    assert len(m["runs"]) == len(cfg.tasks) * len(cfg.models) * cfg.seeds
    for r in m["runs"]:
        assert sorted(int(k) for k in r["test_acc_by_length"]) == sorted(cfg.test_lengths)
        assert math.isfinite(r["final_loss"]) and 1 <= r["best_step"] <= cfg.steps
    rows = list(csv.reader(open(out / "results.csv")))
    assert rows[0] == TABLE_COLUMNS and len(rows) == 1 + len(cfg.tasks) * len(cfg.models)
    md = (out / "results.md").read_text().splitlines()
    assert md[0].startswith("| task | model | best_test") and len(md) == 2 + len(cfg.tasks) * len(cfg.models)
    assert (out / "accuracy_vs_length.png").stat().st_size > 1000
    assert math.isfinite(m["seconds_per_step"])


def test_same_seed_same_result_different_seed_differs(tmp_path):
    from experiments.aussm.formal_languages import train_one
    cfg = Config(steps=5, d_model=4, d_state=2, batch=4, eval_every=5, val_samples=8, test_lengths=[41],
                 test_samples=8, backend="torch")
    a, b = train_one("parity", "a", 3, cfg, torch.device("cpu")), train_one("parity", "a", 3, cfg, torch.device("cpu"))
    c = train_one("parity", "a", 4, cfg, torch.device("cpu"))
    assert a["final_loss"] == b["final_loss"] and a["test_acc_by_length"] == b["test_acc_by_length"]
    assert a["final_loss"] != c["final_loss"]


def _eval_brackets(tokens):
    """Independent evaluator: map tokens back to text and let Python evaluate it, then reduce mod 5."""
    text = "".join("01234+-*()"[t] for t in tokens)
    return eval(text.replace("-", " -")) % MOD   # ' -' keeps '--' as two unary minuses


@pytest.mark.parametrize("L", [1, 2, 3, 4, 5, 9, 40, 101])
def test_task_labels_recomputed_independently(L):
    g = torch.Generator().manual_seed(L)
    tok, lab = TASKS["mod_arith_brackets"].sample(16, L, g)
    assert tok.shape == (16, L)
    assert [_eval_brackets(t.tolist()) for t in tok] == lab.tolist()
    tok, lab = TASKS["cycle_nav"].sample(16, L, g)
    assert [sum({0: 1, 1: -1, 2: 0}[x] for x in t.tolist()) % 5 for t in tok] == lab.tolist()
    if L % 2 == 1:
        tok, lab = TASKS["mod_arith"].sample(16, L, g)
        for t, y in zip(tok.tolist(), lab.tolist()):
            acc = t[0]
            for op, d in zip(t[1::2], t[2::2]):
                acc = {5: acc + d, 6: acc - d, 7: acc * d}[op] % MOD
            assert acc == y


def test_a5_table_is_the_alternating_group():
    assert A5_TABLE.shape == (60, 60)
    assert all(sorted(row) == list(range(60)) for row in A5_TABLE.tolist())          # Latin square
    assert torch.equal(A5_TABLE[A5_IDENTITY], torch.arange(60))
    triples = itertools.islice(itertools.product(range(60), repeat=3), 0, 216000, 997)
    assert all(A5_TABLE[A5_TABLE[a, b], c] == A5_TABLE[a, A5_TABLE[b, c]] for a, b, c in triples)   # associative
    assert not torch.equal(A5_TABLE, A5_TABLE.t())                                     # not abelian


def test_bad_settings_raise_before_any_work(tmp_path, capsys):
    with pytest.raises(ValueError, match="task="):
        get_task("parityy")
    with pytest.raises(ValueError, match="length=0"):
        TASKS["parity"].sample(2, 0, torch.Generator())
    assert main(["run", "formal_languages", "--set", "models=a|q", "--out", str(tmp_path / "x")]) == 2
    assert "unknown layer 'q'" in capsys.readouterr().err
    assert main(["run", "formal_languages", "--set", "test_lengths=20,64", "--out", str(tmp_path / "y")]) == 2
    assert "test_lengths" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    with pytest.raises(ConfigError, match="backend"):
        apply_overrides(Config(), ["backend=cuda"])


def test_summarise_best_and_median():
    runs = [dict(task="p", model="a", test_acc=x, val_acc=1.0, chance=0.5) for x in (0.5, 0.9, 0.7)]
    s = summarise(runs)["p"]["a"]
    assert s["best_test"] == 0.9 and s["median_test"] == 0.7 and s["seeds"] == 3


def _train_lengths(monkeypatch, cfg):
    """Lengths of the training batches drawn by ``train_one`` (batches of exactly ``cfg.batch`` sequences)."""
    import experiments.aussm.formal_languages as fl
    seen, real = [], fl.get_task

    def spy(name):
        task = real(name)

        class Spy:
            def __getattr__(self, k):
                return getattr(task, k)

            def sample(self, n, L, g):
                if n == cfg.batch:
                    seen.append(L)
                return task.sample(n, L, g)
        return Spy()
    monkeypatch.setattr(fl, "get_task", spy)
    fl.train_one("cycle_nav", "a", 0, cfg, torch.device("cpu"))
    return seen


def test_length_curriculum_is_default_and_can_be_switched_off(monkeypatch):
    import doctest

    import experiments.aussm.formal_languages as fl
    assert Config().curriculum_every == 400
    assert doctest.testmod(fl, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
    small = dict(steps=12, d_model=4, d_state=2, batch=5, eval_every=12, val_samples=8, test_lengths=[41],
                 test_samples=8, backend="torch")
    on = _train_lengths(monkeypatch, Config(curriculum_every=4, **small))
    assert len(on) == 12 and all(3 <= L <= fl.curriculum_max_length(Config(curriculum_every=4), s)
                                 for s, L in enumerate(on, 1))
    assert max(on[:3]) <= 5 and max(on) > 10          # starts at 5 and moves on to the later stages
    off = _train_lengths(monkeypatch, Config(curriculum_every=0, **small))
    assert len(off) == 12 and all(3 <= L <= 40 for L in off) and max(off[:3]) > 5   # uniform 3-40 from step 1
