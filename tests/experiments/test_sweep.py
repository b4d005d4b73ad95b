"""Sweeps: planning and its errors, local vs Ray tables, failures reported without stopping the others,
resumption that skips finished runs, and the aggregated report."""
import csv
import io
import json

import pytest

from experiments.cli import main
from experiments.config import ConfigError
from experiments.sweep import parse_grid, plan, run_name, run_sweep, split_values
from experiments.sweep_report import mean_ci, to_csv

# time_cells at its quick size with a short trial: random patterns make the metrics depend on the seed;
# Hadamard patterns with N=48 (not a power of two) fail at run time, after validation.
NAME = "time_cells"
SETS = ["duration=60"]
GRID = ["patterns=random,hadamard", "N=32,48"]
SEEDS = 2


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    argv = ["sweep", NAME, "--quick", "--seeds", str(SEEDS), "--workers", "2", "--out", str(out)]
    for s in SETS:
        argv += ["--set", s]
    for g in GRID:
        argv += ["--grid", g]
    rc = main(argv)
    return out, rc, argv


def _specs(out):
    return plan(NAME, parse_grid(GRID), seeds=SEEDS, sets=SETS, quick=True, out=out)


def test_local_sweep_report_and_failures(local_sweep):
    out, rc, _ = local_sweep
    assert rc == 1  # some runs failed: non-zero exit, but every run was attempted
    rows = (out / "results.csv").read_text().splitlines()
    assert rows[0].startswith("run,patterns,N,seed,") and rows[0].endswith(",status,error")
    assert len(rows) == 1 + 4 * SEEDS
    failed = [r for r in rows[1:] if ",failed," in r]
    assert len(failed) == SEEDS and all("power of two" in r for r in failed)
    assert all("patterns=hadamard,N=48" in r for r in failed)
    err = out / "runs" / "patterns=hadamard,N=48-seed0" / "error.txt"
    assert "ValueError" in err.read_text() and not (err.parent / "metrics.json").exists()
    ok = out / "runs" / "patterns=random,N=32-seed1"
    assert json.loads((ok / "config.json").read_text())["seed"] == 1 and (ok / "metrics.json").exists()
    assert (out / "plots" / "ramp_decay_tau.png").stat().st_size > 1000
    assert "| patterns=random,N=32-seed0 | random | 32 | 0 |" in (out / "results.md").read_text()
    # the seed matters with random patterns: the table is not one row repeated
    table = {r["run"]: r for r in csv.DictReader(io.StringIO((out / "results.csv").read_text()))}
    tau0, tau1 = (float(table[f"patterns=random,N=32-seed{k}"]["ramp_decay_tau"]) for k in (0, 1))
    assert tau0 != tau1 and tau0 > 0


def test_ray_gives_the_same_table(local_sweep, tmp_path):
    import ray  # installed by .ci/setup (extra `ray`): an import failure must fail this test

    out, _, _ = local_sweep
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        rows, counts = run_sweep(_specs(tmp_path), engine="ray")
    finally:
        ray.shutdown()
    assert counts == {"reused": 0, "ran": 4 * SEEDS, "failed": SEEDS}
    assert to_csv(rows) == (out / "results.csv").read_text()


def test_resume_skips_finished_runs(local_sweep, capsys):
    out, _, argv = local_sweep
    finished = sorted((out / "runs").glob("*/metrics.json"))
    assert len(finished) == 3 * SEEDS
    before = {p: p.stat().st_mtime_ns for p in finished}
    rows_before = (out / "results.csv").read_text()
    stale = out / "runs" / ".patterns=hadamard,N=48-seed0.partial-99999"  # left by an interrupted attempt
    stale.mkdir()
    assert main(argv) == 1  # the failing setting is retried (and fails again); finished ones are reused
    assert "0 reused" not in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in finished} == before
    assert not stale.exists()
    assert (out / "results.csv").read_text() == rows_before
    rows, counts = run_sweep(_specs(out)[:6])  # the first 6 runs are all finished: nothing runs
    assert counts == {"reused": 6, "ran": 0, "failed": 0} and all(r["status"] == "ok" for r in rows)


def test_resume_refuses_a_folder_with_other_settings(local_sweep):
    out, _, _ = local_sweep
    other = plan(NAME, parse_grid(GRID), seeds=SEEDS, sets=["duration=70"], quick=True, out=out)
    with pytest.raises(ConfigError, match="other settings"):
        run_sweep(other)


@pytest.mark.parametrize("grid,match", [
    (["Nn=32,64"], "Did you mean N"),
    (["N=32,abc"], "expected an integer"),
    (["N=32,0"], "must be >= "),
    (["patterns=random,sobol"], "not one of"),
    (["N="], "empty value"),
    (["N32"], "key=v1,v2"),
    (["N=32,32"], "repeated"),
    (["duration=50,60"], "both in --set and in --grid"),
])
def test_bad_grid_fails_before_any_run(grid, match, tmp_path, capsys):
    argv = ["sweep", NAME, "--set", "duration=60", "--out", str(tmp_path / "sw")]
    for g in grid:
        argv += ["--grid", g]
    assert main(argv) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "sw").exists()


def test_unknown_experiment_and_engine_messages(tmp_path, capsys):
    assert main(["sweep", "time_cell", "--grid", "N=32", "--out", str(tmp_path / "a")]) == 2
    assert "Did you mean time_cells" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sweep", "time_cells", "--engine", "dask"])
    assert "invalid choice" in capsys.readouterr().err
    assert main(["sweep", "time_cells", "--grid", "N=32", "--workers", "0", "--out", str(tmp_path / "a")]) == 2
    assert "--workers 0: needs at least 1" in capsys.readouterr().err
    assert main(["sweep", "time_cells", "--grid", "N=32", "--seeds", "0", "--out", str(tmp_path / "a")]) == 2
    assert "--seeds 0" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_names_and_parsing():
    assert split_values("1,[2,3],(4,5)") == ["1", "[2,3]", "(4,5)"]
    assert run_name([("r", "[0.3, 0.6]"), ("T_d", "10")], 2) == "r=0.3_0.6,T_d=10-seed2"
    assert run_name([], 0) == "default-seed0"
    specs = plan("escape_time", parse_grid(["r=[0.3,0.6],[0.9]"]), seeds=1, out="/tmp/x")
    assert [s.name for s in specs] == ["r=0.3_0.6-seed0", "r=0.9-seed0"]
    # values whose folder names would collide get a hash suffix instead of sharing a folder
    clash = [s.name for s in plan("escape_time", parse_grid(["r=[0.3],0.3"]), out="/tmp/x")]
    assert len(set(clash)) == 2 and all(n.startswith("r=0.3-seed0-") for n in clash)
    m, h = mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and abs(h - 4.303 / 3 ** 0.5) < 1e-9


def test_docstring_examples():
    import doctest

    import experiments.sweep
    import experiments.sweep_report
    for mod in (experiments.sweep, experiments.sweep_report):
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 5 and result.failed == 0, mod.__name__
