"""learn_sequence and stream run end to end through the CLI (--quick) and write finite metrics;
docs/learning.md executes; stream rejects bad data files."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from experiments import cli, registry


def _finite(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def test_catalog_lines():
    assert registry.CATALOG["learn_sequence"] == "experiments.gsemm.learn_sequence"
    assert registry.CATALOG["stream"] == "experiments.gsemm.stream"


def test_learn_sequence_quick(tmp_path):
    out = tmp_path / "ls"
    assert cli.main(["run", "learn_sequence", "--quick", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    for key in ("success_rate", "seeds", "per_seed", "retention", "energy_per_epoch", "wall_seconds"):
        assert key in m
    assert m["seeds"] == 4 and len(m["per_seed"]) == 4
    assert 0.0 <= m["success_rate"] <= 1.0 and m["success_rate"] == m["successes"] / m["seeds"]
    assert all(set(s) >= {"success", "order", "unique_units", "energy_decreasing"} for s in m["per_seed"])
    assert all(_finite(v) for v in m["retention"].values() if not isinstance(v, list))
    assert all(_finite(e) for e in m["energy_per_epoch"])
    assert m["energy_per_epoch"][-1] < m["energy_per_epoch"][0]         # learning lowers the energy
    assert m["unique_units_rate"] == 1.0                                 # recruitment: one unit per pattern
    for fig in ("phi_memory_coords.png", "hidden_assignment.png", "energy_per_epoch.png"):
        assert (out / fig).stat().st_size > 1000


def test_stream_quick(tmp_path):
    pytest.importorskip("sklearn", reason="stream's default data needs scikit-learn (the 'data' extra)")
    out = tmp_path / "st"
    assert cli.main(["run", "stream", "--quick", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert isinstance(m["recall_correct"], bool)
    assert m["presentations"] == 10 and m["items"] == 10          # one pass: each digit shown once
    assert _finite(m["wall_seconds"]) and isinstance(m["summary"], str)
    assert m["recall_correct"] == (m["recall_order"] == list(range(10)))
    assert m["recall_correct"], m["recall_order"]
    assert m["energy_replay_order"][:3] == [0, 1, 2], m["energy_replay_order"]   # the energy network replays too
    for fig in ("xi_images.png", "phi.png", "overlaps_energy_recall.png"):
        assert (out / fig).stat().st_size > 1000


def test_stream_user_data_and_bad_files(tmp_path, capsys):
    rng = np.random.default_rng(0)
    seq = rng.integers(0, 2, size=(4, 36)).astype(float) * 255          # 0/255 values: binarised at the midpoint
    good = tmp_path / "seq.npy"
    np.save(good, seq)
    out = tmp_path / "user"
    assert cli.main(["run", "stream", "--set", f"data={good}", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["items"] == 4 and m["N"] == 36 and m["recall_order"] == [0, 1, 2, 3] and m["recall_correct"]
    bad = tmp_path / "nan.npy"
    arr = seq.copy()
    arr[0, 0] = np.nan
    np.save(bad, arr)
    for spec, msg in ((bad, "NaN"), (tmp_path / "missing.npy", "not found"), (tmp_path / "x.txt", ".npy")):
        assert cli.main(["run", "stream", "--set", f"data={spec}", "--out", str(tmp_path / "o")]) == 2
        assert msg in capsys.readouterr().err
        assert not (tmp_path / "o").exists()
    args = ["run", "stream", "--set", f"data={good}", "--set", "capacity=3", "--out", str(tmp_path / "o")]
    assert cli.main(args) == 2
    assert "cannot hold 4 items" in capsys.readouterr().err


def test_stream_warns_about_patterns_beta_cannot_separate(tmp_path, capsys):
    seq = np.ones((3, 16))
    seq[1, :8] = -1.0
    seq[2] = seq[0]
    seq[2, 0] = -1.0                                   # cosine 0.875 with pattern 0
    path = tmp_path / "alike.npy"
    np.save(path, seq)
    out = tmp_path / "w"
    assert cli.main(["run", "stream", "--set", f"data={path}", "--set", "beta=100", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "cosine 0.875" in err and "--set beta=" in err
    assert json.loads((out / "metrics.json").read_text())["max_pattern_cosine"] == 0.875


DOC = Path(__file__).resolve().parents[2] / "docs" / "learning.md"


def test_learning_page_executes():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 1
    ns: dict = {"__name__": "docs_learning"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name}[block {i}]", "exec", dont_inherit=True), ns)
    assert "rate" in ns and 0.0 <= ns["rate"] <= 1.0


def test_docstring_examples():
    import doctest

    import experiments.gsemm.learn_sequence as ls
    import networks.gsemm.learner as lr
    import networks.gsemm.learning as lg
    for mod in (ls, lr, lg):
        res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert res.attempted > 0 and res.failed == 0, mod.__name__
