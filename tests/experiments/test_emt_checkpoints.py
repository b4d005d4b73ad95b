"""`emt` checkpoints (the paper's per-seed statistic): Lightning-style top-k selection, snapshots that do not
perturb training, best-checkpoint accuracy vs the final model, determinism and the seeds>1 aggregation."""
from __future__ import annotations

import random

import pytest
import torch

from experiments.config import apply_overrides
from experiments.context import RunContext
from experiments.registry import get
from experiments.waves.emt import _pattern, aggregate_cells
from experiments.waves.emt_train import TopK, select_top_k, train_emt

TINY = ["tasks=repeat_copy", "l2=0.0", "hidden=8", "steps=40", "batch=8", "levels=4,8", "test_horizon=12",
        "test_batches=2", "checkpoint_every=10", "checkpoint_top=4"]
TIMING = ("train_seconds", "steps_per_second")


def _run(tmp_path, name, extra=(), seed=0):
    exp = get("emt")
    cfg = apply_overrides(exp.config(), [*TINY, *extra])
    ctx = RunContext.create(tmp_path / name, config={"experiment": "emt"}, seed=seed, device="cpu", quiet=True)
    metrics = exp.run(cfg, ctx)
    ctx.abort()
    return metrics


def _strip(row):
    return {k: v for k, v in row.items() if k not in TIMING}


# ---- top-k selection -------------------------------------------------------------------------------------

def test_select_top_k_with_distinct_scores_is_the_k_largest():
    rng = random.Random(0)
    for _ in range(200):
        n, k = rng.randint(1, 12), rng.randint(1, 6)
        scores = rng.sample(range(1000), n)
        want = sorted(sorted(range(n), key=lambda i: -scores[i])[:k])
        assert select_top_k(scores, k) == want


def test_select_top_k_follows_lightnings_tie_rules():
    # a tie with the worst kept snapshot does not replace it (strict improvement) ...
    assert select_top_k([0.9, 0.8, 0.8], 2) == [0, 1]
    # ... and when a better one arrives, the earliest of the equally-worst kept snapshots is dropped
    assert select_top_k([0.5, 0.5, 0.7], 2) == [1, 2]
    assert select_top_k([1.0] * 10, 5) == [0, 1, 2, 3, 4]
    assert select_top_k([0.1, 0.2], 5) == [0, 1]
    with pytest.raises(ValueError):
        TopK(0)


# ---- snapshots during training ---------------------------------------------------------------------------

def _train(**kw):
    return train_emt((255, 0, 0), hidden=8, steps=60, batch=8, levels=(4, 8),
                     generator=torch.Generator().manual_seed(3), **kw)


def test_snapshots_are_top_k_cpu_copies_and_do_not_perturb_training():
    plain = _train()
    res = _train(checkpoint_every=10, checkpoint_top=3)
    # taking snapshots changes nothing in the training run itself
    assert res["history"] == plain["history"]
    for a, b in zip(res["model"].parameters(), plain["model"].parameters()):
        assert torch.equal(a, b)
    ck = res["checkpoints"]
    assert [c["step"] for c in ck] == [10, 20, 30, 40, 50, 60]
    kept_idx = select_top_k([c["train_acc"] for c in ck], 3)
    assert [c["kept"] for c in ck] == [i in kept_idx for i in range(6)]
    assert sorted(res["kept_states"]) == [ck[i]["step"] for i in kept_idx]
    # the default ranking is the epoch's last training batch; a logged step reuses the logged value
    assert all(c["train_acc"] == c["train_acc_last_batch"] for c in ck)
    assert ck[-1]["train_acc_last_batch"] == res["history"]["acc"][-1][1]
    # the kept state of the final step is the final model, and it is a copy on the CPU
    if 60 in res["kept_states"]:
        st = res["kept_states"][60]
        assert all(v.device.type == "cpu" for v in st.values())
        assert torch.equal(st["weight_hh"], res["model"].weight_hh.detach())
        with torch.no_grad():
            res["model"].weight_hh.add_(1.0)
        assert not torch.equal(st["weight_hh"], res["model"].weight_hh.detach())
    states = list(res["kept_states"].values())
    assert not torch.equal(states[0]["weight_hh"], states[-1]["weight_hh"])


def test_window_ranking_uses_the_mean_of_the_logged_accuracies():
    res = _train(checkpoint_every=20, checkpoint_top=2, checkpoint_rank="window")
    hist = res["history"]["acc"]
    for c in res["checkpoints"]:
        vals = [a for s, a in hist if c["step"] - 1 - 200 < s <= c["step"] - 1]
        assert c["train_acc"] == pytest.approx(sum(vals) / len(vals))
    with pytest.raises(ValueError, match="checkpoint_rank"):
        _train(checkpoint_every=20, checkpoint_rank="mean")


def test_no_checkpoints_when_off():
    res = _train(checkpoint_every=0)
    assert res["checkpoints"] == [] and res["kept_states"] == {}


# ---- the experiment ----------------------------------------------------------------------------------------

def test_best_checkpoint_is_at_least_the_final_model_when_the_final_model_is_a_candidate(tmp_path):
    # 40 steps, a snapshot every 10, top 4: every snapshot is kept, including the final model (step 40)
    m = _run(tmp_path, "all")
    (row,) = m["runs"]
    assert row["final_in_kept_ckpts"] and all(c["kept"] for c in row["checkpoints"])
    final = next(c for c in row["checkpoints"] if c["step"] == row["steps_done"])
    assert final["test_acc"] == row["test_acc"]          # same weights, same fixed test stream
    assert row["test_acc_best_ckpt"] == max(c["test_acc"] for c in row["checkpoints"]) >= row["test_acc"]
    assert row["best_ckpt_step"] in (10, 20, 30, 40)
    # only one kept: the best checkpoint is the one with the highest training accuracy, whatever its test score
    m1 = _run(tmp_path, "top1", ["checkpoint_top=1"])
    (r1,) = m1["runs"]
    ck = r1["checkpoints"]
    (i,) = select_top_k([c["train_acc"] for c in ck], 1)
    assert r1["best_ckpt_step"] == ck[i]["step"] and r1["test_acc_best_ckpt"] == ck[i]["test_acc"]
    assert r1["final_in_kept_ckpts"] == (ck[i]["step"] == r1["steps_done"])
    assert r1["test_acc"] == row["test_acc"]              # checkpoint settings do not change the final model
    m0 = _run(tmp_path, "off", ["checkpoint_every=0"])
    assert m0["runs"][0]["test_acc_best_ckpt"] is None and m0["pattern_reproduced_best_ckpt"] is None
    assert m0["runs"][0]["test_acc"] == row["test_acc"]


def test_same_seed_same_rows_and_seeds_aggregate(tmp_path):
    a = _run(tmp_path, "a", ["seeds=2"], seed=5)
    b = _run(tmp_path, "b", ["seeds=2"], seed=5)
    assert [_strip(r) for r in a["runs"]] == [_strip(r) for r in b["runs"]]
    assert a["cells"] == b["cells"]
    r5, r6 = a["runs"]
    assert (r5["seed"], r6["seed"]) == (5, 6) and r5["test_acc"] != r6["test_acc"]
    # seed index 1 is exactly the run of --seed 6
    (single,) = _run(tmp_path, "c", seed=6)["runs"]
    assert _strip(single) == _strip(r6)
    (cell,) = a["cells"]
    assert cell["seeds"] == [5, 6] and cell["n"] == 2
    assert cell["test_acc_mean"] == pytest.approx((r5["test_acc"] + r6["test_acc"]) / 2)
    assert cell["test_acc_best_ckpt_mean"] == pytest.approx((r5["test_acc_best_ckpt"] + r6["test_acc_best_ckpt"]) / 2)
    assert "final model" in a["pattern_statistic"]["pattern_reproduced"]
    assert a["pattern_reproduced"] is None                 # only L2 = 0 runs: the pattern needs both kinds


def test_pattern_flags_use_cell_means():
    rows = [{"task": "t", "l2": 1e-3, "seed": s, "test_acc": a, "test_acc_best_ckpt": b}
            for s, a, b in [(0, 0.90, 0.95), (1, 0.93, 0.96)]]
    rows += [{"task": "t", "l2": 0.1, "seed": s, "test_acc": 0.5, "test_acc_best_ckpt": 0.55} for s in (0, 1)]
    cells = aggregate_cells(rows)
    assert [c["n"] for c in cells] == [2, 2]
    assert _pattern(cells, "test_acc_mean") is False           # final-model mean 0.915 < 0.94
    assert _pattern(cells, "test_acc_best_ckpt_mean") is True  # best-checkpoint mean 0.955
    cells[1]["test_acc_best_ckpt_mean"] = 0.7                  # not at chance at L2 = 0.1
    assert _pattern(cells, "test_acc_best_ckpt_mean") is False
