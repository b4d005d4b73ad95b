"""The GPU-session runner: plan selection, per-step limits, failures recorded, budget respected."""
import json
import sys

import pytest

from experiments.bench import gpu_session as gs


def test_every_group_fits_one_device_command():
    groups = {s.group for s in gs.STEPS}
    assert {"aussm", "waves"} <= groups
    for g in groups:
        assert sum(s.limit_s for s in gs.plan(g)) <= 600, g       # a device command is at most 10 minutes
    assert len({s.name for s in gs.STEPS}) == len(gs.STEPS)


def test_plan_rejects_unknown_names_and_groups():
    with pytest.raises(ValueError, match="unknown steps"):
        gs.plan(only=["nope"])
    with pytest.raises(ValueError, match="unknown group"):
        gs.plan("nope")


def test_a_failing_or_hanging_step_is_recorded_and_the_next_one_runs(tmp_path):
    steps = [gs.Step("ok", "t", (sys.executable, "-c", "print('hello {out}')"), 30, "prints"),
             gs.Step("bad", "t", (sys.executable, "-c", "raise SystemExit(3)"), 30, "fails"),
             gs.Step("slow", "t", (sys.executable, "-c", "import time; time.sleep(30)"), 1, "hangs"),
             gs.Step("after", "t", (sys.executable, "-c", "print(1)"), 30, "still runs")]
    recs = gs.run_steps(steps, tmp_path, log=lambda *a: None)
    assert [(r["name"], r["status"], r["rc"]) for r in recs] == [
        ("ok", "passed", 0), ("bad", "failed", 3), ("slow", "timed out", None), ("after", "passed", 0)]
    assert f"hello {tmp_path}" in (tmp_path / "ok.log").read_text()           # {out} is substituted
    assert json.loads((tmp_path / "summary.json").read_text())[2]["status"] == "timed out"
    assert "| bad | failed |" in (tmp_path / "summary.md").read_text()


def test_budget_stops_starting_steps_that_would_overrun(tmp_path):
    steps = [gs.Step("a", "t", (sys.executable, "-c", "pass"), 10, ""),
             gs.Step("b", "t", (sys.executable, "-c", "pass"), 100, "")]
    recs = gs.run_steps(steps, tmp_path, budget_s=50, log=lambda *a: None)
    assert recs[0]["status"] == "passed" and recs[1]["status"] == "not started"
    assert "budget" in recs[1]["reason"]


def test_list_prints_the_plan(capsys):
    assert gs.main(["--list", "--group", "waves"]) == 0
    out = capsys.readouterr().out
    assert "bench_rnn" in out and "aussm_bench" not in out
