"""Stopping `run` and `sweep` by signal: no orphan process, no stray temporary folder, finished runs kept.

Each test starts the CLI in a subprocess on a run that would take many minutes (escape_time with thousands of
visits), waits until the run is under way (its ``.NAME.partial-PID`` folder exists), sends the signal and
checks what is left. Worker processes are found through ``/proc`` (Linux only).
"""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")

ROOT = Path(__file__).resolve().parents[2]
LONG = ["--quick", "--set", "visits=20000"]          # minutes of work: always stopped before it ends
TIMEOUT = 120                                         # seconds for a step that takes a few seconds when idle


def _cli(*args: str, session: bool = False) -> subprocess.Popen:
    env = {**os.environ, "CI": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "experiments", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=session)


def _wait_for(cond, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not cond():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the command ended (rc {proc.returncode}) before {what}:\n{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def _children(pid: int) -> list[int]:
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(d.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"                                # a zombie has exited (it only waits to be reaped)


def _wait_gone(pids, seconds: float = 30.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    return [p for p in pids if _alive(p)]


def _partials(folder: Path) -> list[Path]:
    return sorted(folder.rglob(".*.partial-*")) if folder.exists() else []


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_run_stopped_by_signal_leaves_nothing(tmp_path, sig, status):
    out = tmp_path / "r"
    proc = _cli("run", "escape_time", *LONG, "--out", str(out))
    _wait_for(lambda: _partials(tmp_path), proc, "the run's temporary folder")
    time.sleep(1.0)                                     # inside the experiment, not in its set-up
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == status, err
    assert "interrupted; no run folder written" in err
    assert not out.exists() and _partials(tmp_path) == []


def _start_sweep(tmp_path, grid="max_steps=100,50000000", ready="max_steps=100-seed0/metrics.json",
                 *extra: str, session: bool = False):
    """A sweep of two runs on two workers, returned once the run ``ready`` names has ended (in seconds) while the
    other is under way (it would take many minutes)."""
    out = tmp_path / "sw"
    proc = _cli("sweep", "escape_time", *LONG, *extra, "--grid", grid, "--workers", "2", "--out", str(out),
                session=session)
    _wait_for(lambda: (out / "runs" / ready).exists() and _partials(out), proc, "one ended and one running run")
    workers = _children(proc.pid)
    assert workers, "the sweep has no worker processes"
    return out, proc, workers


def _stop(proc, status: int, send) -> str:
    """Stop the sweep with ``send(proc)``, check its exit status and return its stderr."""
    send(proc)
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == status, err
    return err


def _table(out) -> dict:
    return {r["run"]: r for r in csv.DictReader((out / "results.csv").open())}


FAST, SLOW = "max_steps=100-seed0", "max_steps=50000000-seed0"


def test_sweep_stopped_keeps_finished_runs_and_leaves_no_orphans(tmp_path):
    """SIGTERM to the sweep (SIGINT to the parent alone takes the same path: Terminated is a KeyboardInterrupt)."""
    out, proc, workers = _start_sweep(tmp_path)
    err = _stop(proc, 143, lambda p: p.send_signal(signal.SIGTERM))
    assert _wait_gone(workers) == [], "worker processes outlived the sweep"
    assert _partials(out) == []
    assert (out / "runs" / FAST / "metrics.json").exists() and not (out / "runs" / SLOW).exists()
    assert {k: r["status"] for k, r in _table(out).items()} == {FAST: "ok", SLOW: "interrupted"}
    assert "1 of 2 runs are finished" in err


def test_ctrl_c_to_the_process_group_stops_the_sweep(tmp_path):
    """Ctrl-C in a terminal reaches the parent and every worker: the workers ignore it, the parent stops them."""
    out, proc, workers = _start_sweep(tmp_path, session=True)
    _stop(proc, 130, lambda p: os.killpg(p.pid, signal.SIGINT))
    assert _wait_gone(workers) == [] and _partials(out) == []
    assert (out / "results.csv").exists() and (out / "runs" / FAST / "metrics.json").exists()


def test_workers_exit_when_the_sweep_is_killed(tmp_path):
    """SIGKILL cannot be handled by the parent; its workers notice they were re-parented and stop themselves,
    removing the temporary folder of the run they were on."""
    out, proc, workers = _start_sweep(tmp_path)
    proc.kill()
    proc.communicate(timeout=TIMEOUT)
    assert _wait_gone(workers) == [], "worker processes outlived a killed sweep"
    assert _partials(out) == [] and (out / "runs" / FAST / "metrics.json").exists()
    assert not (out / "runs" / SLOW).exists()


def test_a_stopped_sweep_keeps_failed_runs_failed(tmp_path):
    """A run that failed before the stop is reported `failed` with its error, not `interrupted`."""
    out, proc, _ = _start_sweep(tmp_path, "r=[-0.5],[0.6]", "r=-0.5-seed0/error.txt", "--set", "max_steps=50000000")
    _stop(proc, 143, lambda p: p.send_signal(signal.SIGTERM))
    rows = _table(out)
    assert rows["r=-0.5-seed0"]["status"] == "failed" and "ValueError" in rows["r=-0.5-seed0"]["error"]
    assert rows["r=0.6-seed0"]["status"] == "interrupted" and _partials(out) == []


def test_ray_sweep_stopped_by_sigterm(tmp_path):
    """ray.init replaces the SIGTERM handler; the sweep puts its own back, so Ray sweeps stop like local ones."""
    pytest.importorskip("ray", reason="the ray engine needs ray (extra `ray`)")
    out, proc, _ = _start_sweep(tmp_path, "max_steps=100,50000000", f"{FAST}/metrics.json", "--engine", "ray")
    _stop(proc, 143, lambda p: p.send_signal(signal.SIGTERM))
    assert {k: r["status"] for k, r in _table(out).items()} == {FAST: "ok", SLOW: "interrupted"}
    deadline = time.monotonic() + 30
    while _partials(out) and time.monotonic() < deadline:     # ray's killed worker may take a moment to go
        time.sleep(0.5)
    assert _partials(out) == []
