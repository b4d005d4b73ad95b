"""The ``continuous`` experiment: the Cui et al. (2016) stream, the user's own stream, and bad input."""
import json

import numpy as np
import pytest

from experiments import cli
from experiments.continuous.task import (SEQUENCES, cui_stream, elements_to_criterion, moving_accuracy,
                                         recovery_elements, swapped)


def test_stream_follows_the_protocol():
    s = cui_stream(3, elements=3000, switch=1500)
    assert s.ids.shape == (3000,)
    # every scored position ends a sequence of the set in force, and a noise symbol (id >= 10) follows it
    for t, k, start in zip(s.scored, s.which, s.starts):
        seqs = s.switched if start >= 1500 else s.sequences
        assert list(s.ids[start:t + 1]) == list(seqs[k])
        if t + 1 < 3000:
            assert s.ids[t + 1] >= 10
    assert swapped()[2][-1] == SEQUENCES[3][-1] and swapped()[3][-1] == SEQUENCES[2][-1]
    # same seed, same stream
    assert np.array_equal(cui_stream(3, elements=3000, switch=1500).ids, s.ids)


def test_scoring_helpers():
    c = moving_accuracy(np.r_[np.zeros(10), np.ones(200)], window=100)
    at = np.arange(210) * 10
    assert elements_to_criterion(c, at, until=5000, level=0.98) == at[np.flatnonzero(c >= 0.98)[0]]
    assert recovery_elements(c, at, switch=1500) == 0
    assert recovery_elements(c, at, switch=1000) == 1070 - 1000      # the window drops the last miss at 1070
    assert elements_to_criterion(np.full(5, 0.5), np.arange(5), until=10) is None


def test_continuous_quick(tmp_path):
    out = tmp_path / "c"
    assert cli.main(["run", "continuous", "--quick", "--out", str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    g = m["models"]["gsemm"]
    for key in ("accuracy_curve", "accuracy_before_switch", "accuracy_final", "elements_to_criterion",
                "recovery_elements", "seconds"):
        assert key in g and key in m["models"]["lstm_online"]
    # one pass of 2,000 elements (≈ 230 sequences): GSEMM is at criterion before the switch and recovers
    assert g["elements_to_criterion"]["reached"] == "2/2", g["elements_to_criterion"]
    assert g["elements_to_criterion"]["max"] <= 1000
    assert g["accuracy_before_switch"]["mean"] >= 0.98
    assert m["replay_accuracy"] >= 0.9
    assert (out / "accuracy.png").stat().st_size > 1000


def test_continuous_user_stream_writes_predictions(tmp_path):
    rng = np.random.default_rng(0)
    items = rng.choice([-1.0, 1.0], size=(6, 32))
    seq = np.concatenate([items[[0, 1, 2, 3]], items[[4, 1, 2, 5]]] * 6)        # shared middle, no boundaries
    path = tmp_path / "s.npy"
    np.save(path, seq)
    out = tmp_path / "u"
    assert cli.main(["run", "continuous", "--set", f"data={path}", "--set", "capacity=64", "--out", str(out)]) == 0
    pred = np.load(out / "predictions.npy")
    assert pred.shape == seq.shape and pred.dtype == np.float32
    m = json.loads((out / "metrics.json").read_text())["models"]["gsemm"]
    assert m["next_element_accuracy_second_half"] == 1.0
    # row t predicts row t+1: the last prediction of the first cycle after it was seen once
    assert int(np.argmax(pred[9] @ items.T)) == 2


@pytest.mark.parametrize("arr, msg", [
    (np.ones((1, 4)), "T >= 2"),
    (np.ones(5), "2-D"),
    (np.array([[1.0, np.nan], [1.0, 1.0]]), "NaN"),
    (np.zeros((3, 4)), "all zeros"),
    (np.ones((3, 4), dtype=complex), "real"),
])
def test_continuous_bad_user_stream(tmp_path, capsys, arr, msg):
    path = tmp_path / "bad.npy"
    np.save(path, arr)
    assert cli.main(["run", "continuous", "--set", f"data={path}", "--out", str(tmp_path / "o")]) == 2
    assert msg in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_continuous_bad_settings(tmp_path, capsys):
    assert cli.main(["run", "continuous", "--set", "contenders=gsemm,htm", "--out", str(tmp_path / "o")]) == 2
    assert "contenders" in capsys.readouterr().err
    assert cli.main(["run", "continuous", "--set", "switch=50", "--set", "elements=40",
                     "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()
