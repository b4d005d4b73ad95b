"""The run-folder code never deletes or replaces what it did not create (issue: reliability, items 1, 4, 10, 12, 16)."""
import dataclasses
import json
import os
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments import cli

from experiments.context import RunContext, is_run_folder, remove_stale_partials


def _err(capsys):
    return capsys.readouterr().err


def test_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "keep").write_text("precious")
    out = str(tmp_path / "a" / "b" / "..")                          # really tmp_path/a, which holds `keep`
    assert cli.main(["run", "replay", "--quick", "--out", out, "--overwrite"]) == 2
    assert "replaces only a run folder" in _err(capsys)
    assert (tmp_path / "a" / "keep").read_text() == "precious"
    assert not list((tmp_path / "a").glob(".*partial*"))


def test_overwrite_replaces_a_finished_run(tmp_path):
    out = tmp_path / "r"
    assert cli.main(["run", "replay", "--quick", "--out", str(out)]) == 0
    (out / "old-marker").write_text("from the first run")
    assert cli.main(["run", "replay", "--quick", "--out", str(out), "--overwrite"]) == 0
    assert is_run_folder(out) and not (out / "old-marker").exists()


@pytest.mark.parametrize("overwrite", [False, True])
def test_out_is_an_existing_file(tmp_path, capsys, overwrite):
    f = tmp_path / "f"
    f.write_text("x")
    args = ["run", "replay", "--quick", "--out", str(f)] + (["--overwrite"] if overwrite else [])
    assert cli.main(args) == 2
    assert "is a file" in _err(capsys)
    assert f.read_text() == "x" and not list(tmp_path.glob(".*partial*"))


def test_out_below_a_file_and_without_a_name(tmp_path, capsys, monkeypatch):
    f = tmp_path / "f"
    f.write_text("x")
    assert cli.main(["run", "replay", "--quick", "--out", str(f / "sub")]) == 2
    assert "is a file, not a folder" in _err(capsys)
    monkeypatch.chdir("/")
    assert cli.main(["run", "replay", "--quick", "--out", "/"]) == 2
    assert "no folder name" in _err(capsys)


def test_a_run_that_finished_meanwhile_is_never_replaced(tmp_path, capsys):
    out = tmp_path / "x"
    a = RunContext.create(out, config={}, seed=1)                  # run A starts; out does not exist yet
    b = RunContext.create(out, config={}, seed=2)                  # run B starts too (same pid here: the test
    b.tmp = b.tmp.with_name(b.tmp.name + "-b")                     # process plays both)
    b.tmp.mkdir()
    b.finish({"who": "b"})                                         # B finishes first
    path = a.finish({"who": "a"})                                  # A must not replace B's report
    assert json.loads((out / "metrics.json").read_text())["who"] == "b"
    assert path != out and json.loads((path / "metrics.json").read_text())["who"] == "a"
    assert "appeared while this run was going" in _err(capsys)


def test_stale_partial_folders_of_dead_runs_are_removed(tmp_path):
    stale = tmp_path / ".r.partial-999999999"
    stale.mkdir()
    live = tmp_path / f".r.partial-{os.getppid()}"                  # a live process: kept
    live.mkdir()
    ctx = RunContext.create(tmp_path / "r", config={}, seed=0)
    assert not stale.exists() and live.exists()
    ctx.finish({})
    assert remove_stale_partials(tmp_path / "r") == []


names = st.sampled_from(["a", "b", "c", "..", "."])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(names, min_size=1, max_size=4), overwrite=st.booleans(),
       run_at=st.sampled_from([None, "a", "a/b"]))
def test_property_nothing_foreign_is_deleted(tmp_path_factory, parts, overwrite, run_at):
    root = tmp_path_factory.mktemp("tree")
    for d in ("a/b/c", "b/c"):
        (root / d).mkdir(parents=True, exist_ok=True)
    foreign = [root / "a" / "f1", root / "a" / "b" / "f2", root / "b" / "f3", root / "f4"]
    for f in foreign:
        f.write_text("keep")
    if run_at:                                                     # one genuine finished run folder
        c = RunContext.create(root / run_at / "run", config={}, seed=0)
        c.finish({})
        run_dir = root / run_at / "run"
    out = root.joinpath("a", *parts)
    try:
        ctx = RunContext.create(out, config={}, seed=0, overwrite=overwrite)
    except (ValueError, FileExistsError):
        pass
    else:
        ctx.finish({"ok": True})
    for f in foreign:
        assert f.read_text() == "keep", f
    if run_at and run_dir.exists():
        assert is_run_folder(run_dir)


@pytest.mark.parametrize("arr, msg", [
    (np.ones((3, 4), dtype=complex), "complex values are refused"),
    (np.array([["a", "b"], ["c", "d"]]), "real numeric array"),
])
def test_stream_refuses_complex_and_string_arrays(tmp_path, capsys, arr, msg):
    p = tmp_path / "x.npy"
    np.save(p, arr)
    assert cli.main(["run", "stream", "--set", f"data={p}", "--out", str(tmp_path / "o")]) == 2
    err = _err(capsys)
    assert msg in err and "x.npy" in err
    assert not (tmp_path / "o").exists()


def test_sweep_cleanup_leaves_live_partials_alone(tmp_path):
    """Another live process's partial folder (a concurrent sweep's run) is never removed."""
    live = tmp_path / f".r.partial-{os.getppid()}"
    live.mkdir()
    assert remove_stale_partials(tmp_path / "r") == [] and live.exists()


def test_arithmetic_errors_from_settings_are_one_line(tmp_path, capsys, monkeypatch):
    """alpha_c=0 (issue 16's reproduction) is now refused by its bound; an ArithmeticError that a setting causes
    inside an experiment still gives the one-line error (here a stand-in experiment divides by its setting)."""
    assert cli.main(["run", "replay", "--quick", "--set", "alpha_c=0", "--out", str(tmp_path / "o")]) == 2
    assert "alpha_c=0.0 must be > 0" in _err(capsys)
    from experiments import registry
    exp = registry.get("replay")
    divides = dataclasses.replace(exp, main=lambda cfg, ctx: 1 / (cfg.alpha_s - 1))
    monkeypatch.setattr(registry, "get", lambda name: divides)
    assert cli.main(["run", "replay", "--quick", "--set", "alpha_s=1", "--out", str(tmp_path / "o")]) == 2
    err = _err(capsys)
    assert "ZeroDivisionError" in err and "alpha_s=1" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob(".*partial*"))


def test_json_list_items_are_checked(tmp_path, capsys):
    assert cli.main(["run", "escape_time", "--quick", "--set", 'r=["a",1]', "--out", str(tmp_path / "o")]) == 2
    assert "expected a number" in _err(capsys)


def _numeric_setting(name):
    import dataclasses
    import typing
    from experiments import registry
    exp = registry.get(name)
    hints = typing.get_type_hints(exp.config)
    for f in dataclasses.fields(exp.config):
        if hints[f.name] in (int, float) and (f.metadata.get("positive") or (f.metadata.get("minimum") or -1) >= 0):
            return f.name
    return None


@pytest.mark.parametrize("name", sorted(__import__("experiments.registry", fromlist=["CATALOG"]).CATALOG))
def test_bad_input_matrix(name, tmp_path, capsys):
    """Every experiment: unknown key, wrong type, NaN, negative, empty -> rc 2, one line naming it, nothing on disk."""
    try:
        key = _numeric_setting(name)
    except ImportError as e:
        pytest.skip(f"{name} needs an optional package here: {e}")
    out = tmp_path / "o"
    cases = [("no_such_setting=1", "no_such_setting")]
    if key is not None:
        cases += [(f"{key}=abc", key), (f"{key}=nan", key), (f"{key}=-5", key), (f"{key}=", key)]
    for setting, named in cases:
        assert cli.main(["run", name, "--quick", "--set", setting, "--out", str(out)]) == 2, setting
        err = _err(capsys).strip()
        assert named in err and len(err.splitlines()) == 1 and "Traceback" not in err, (setting, err)
        assert not out.exists() and not list(tmp_path.glob(".*partial*"))


@pytest.mark.parametrize("sets, msg", [
    (["epochs=1e99"], "epochs=1e+99 is above 1e+09, the limit on any count setting"),
    (["steps=1e99"], "steps=1e+99 is above 1e+09"),
    (["epochs=100000000"], "takes 3e+10 steps, more than the limit of 1e+09"),   # each count allowed, the product not
    (["N_dsem=16,1000000000000"], "N_dsem=1000000000000 is above 1e+09"),         # list settings item by item
])
def test_work_that_cannot_finish_is_refused_up_front(tmp_path, capsys, sets, msg):
    name = {"steps": "replay", "N_dsem": "capacity"}.get(sets[0].split("=")[0], "learn_sequence")
    t0 = time.perf_counter()
    rc = cli.main(["run", name, "--quick", *[a for s in sets for a in ("--set", s)], "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2 and msg in err and len(err.strip().splitlines()) == 1, err
    assert time.perf_counter() - t0 < 30 and not (tmp_path / "r").exists() and list(tmp_path.iterdir()) == []


def test_help_shows_every_bound(capsys):
    assert cli.main(["run", "learn_sequence", "--help"]) == 0
    out = capsys.readouterr().out
    assert "[>= 1, <= 1e+09]" in out and "[> 0]" in out


def test_unwritable_out_is_one_line(tmp_path, capsys, monkeypatch):
    """A read-only parent (simulated: root ignores permission bits, so chmod cannot be used in CI)."""
    from pathlib import Path
    real = Path.mkdir

    def deny(self, *args, **kwargs):
        if str(self).startswith(str(tmp_path / "ro")):
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", deny)
    assert cli.main(["run", "escape_time", "--quick", "--out", str(tmp_path / "ro" / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "cannot create the run folder" in err and "Permission denied" in err
