"""One command for the GPU checks that only a CUDA machine can do, grouped to fit short device calls.

GPU time is scarce (a lent session has 15 minutes of device time in all, the machine's start included, and at
most 10 minutes per command), so every GPU-only check of the open AUSSM and wave issues is listed here once,
with a time limit, and run by group, one group per lent session, in the order aussm, waves, tune::

    python -m experiments.bench.gpu_session --list                       # the plan (works anywhere)
    python -m experiments.bench.gpu_session --group aussm --out "$OUT"   # accuracy, speed, the official op
    python -m experiments.bench.gpu_session --group tune --out "$OUT"    # launch configurations, memory
    python -m experiments.bench.gpu_session --group waves --out "$OUT"   # wave kernels, EMT recipe
    python -m experiments.bench.gpu_session --only aussm_kernel_tests,bench_rnn --out "$OUT"

Each step runs in its own process with its own time limit; its output goes to ``OUT/<step>.log`` and, after
every step, ``OUT/summary.json`` and ``OUT/summary.md`` are rewritten, so a command that is cut off still
returns what it finished. A failing step is recorded and the next one runs. ``--budget`` stops starting new
steps once the next one's limit would overrun it. Missing test packages are installed from ``.whl/`` when
present (the device has no internet), and the official AUSSM op is benchmarked beside ours when its source is
at ``.official/extension-cpp`` (never committed; see :mod:`experiments.bench.aussm_official_op`).

Example
-------
>>> plan = [s for s in STEPS if s.group == "aussm"]
>>> [s.name for s in plan][:2]
['env', 'aussm_kernel_tests']
>>> sum(s.limit_s for s in plan) <= 600          # one device command
True
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
ENV_SCRIPT = ("import torch, triton, platform; "
              "print('python', platform.python_version(), '| torch', torch.__version__, "
              "'| triton', triton.__version__, '| cuda', torch.version.cuda); "
              "print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'NO CUDA DEVICE')")
WHEEL_PACKAGES = ("pytest", "hypothesis", "einops", "tqdm", "matplotlib")


@dataclass(frozen=True)
class Step:
    """One check: ``argv`` run from the repository root, killed after ``limit_s`` seconds."""
    name: str
    group: str
    argv: tuple[str, ...]
    limit_s: int
    what: str


def _official_args() -> tuple[str, ...]:
    return ("--official", ".official/extension-cpp") if (ROOT / ".official" / "extension-cpp").is_dir() else ()


BENCH = (PY, "-m", "experiments.bench.aussm_scan", "--reps", "20", "--warmup", "5")
STEPS: list[Step] = [
    Step("env", "aussm", (PY, "-c", ENV_SCRIPT), 30, "versions and device"),
    Step("aussm_kernel_tests", "aussm", (PY, "-m", "pytest", "-q", "-x", "tests/networks/aussm/kernel"), 150,
         "fused AUSSM kernel suite on CUDA (accuracy at L = 16384 ≤ 1e-4, opcheck, compile)"),
    Step("aussm_bench", "aussm", (*BENCH, "--precision", "fast", "precise", "--json", "{out}/aussm_bench.json"),
         210, "the issue's shapes, both modes, gradient errors"),
    Step("aussm_official", "aussm", (*BENCH, "--precision", "fast", "--no-grads", "--json",
                                     "{out}/aussm_official.json", *_official_args()), 200,
         "the official op built and timed beside ours on the same inputs (when its source is present)"),
    Step("env_tune", "tune", (PY, "-c", ENV_SCRIPT), 30, "versions and device"),
    Step("aussm_sweep", "tune", (*BENCH, "--shapes", "8,128,64,4096;4,128,16,16384;16,32,64,2048;64,64,16,2048",
                                 "--chunk", "16", "32", "64", "--num-warps", "4", "8", "--precision", "fast",
                                 "--no-grads", "--json", "{out}/aussm_sweep.json"), 240,
         "chunk × warps launch configurations"),
    Step("aussm_slab16", "tune", (*BENCH, "--shapes", "8,128,64,4096;4,128,16,16384", "--precision", "fast",
                                  "--no-grads", "--dtheta-mib", "16", "--json", "{out}/aussm_slab16.json"), 90,
         "time and memory with a 16 MiB dθ slab (twice the backward launches of the 32 MiB default)"),
    Step("mamba_scan_bench", "tune", (PY, "-m", "experiments.bench.aussm_mamba_scan", "--device", "cuda",
                                      "--json", "{out}/mamba_scan.json"), 60,
         "Mamba loop vs parallel scan on CUDA (checks the GPU half of scan='auto')"),
    Step("env_waves", "waves", (PY, "-c", ENV_SCRIPT), 30, "versions and device"),
    Step("waves_tests", "waves", (PY, "-m", "pytest", "-q", "-x", "tests/networks/waves"), 150,
         "wave kernel suite on CUDA"),
    Step("bench_rnn", "waves", (PY, "-m", "experiments.bench.waves_rnn", "--out", "{out}/bench_rnn.json"), 150,
         "fused wRNN / Elman recurrence vs eager and cuDNN"),
    Step("emt_repeat_copy", "waves", (PY, "-m", "experiments", "run", "emt", "--device", "cuda", "--out",
                                      "{out}/emt", "--set", "tasks=repeat_copy", "--set", "l2=0"), 240,
         "EMT recipe, 20k steps (target ≤ 2 min, acc ≥ 0.999, 64 eigenvalues)"),
]


def plan(group: str | None = None, only: list[str] | None = None) -> list[Step]:
    """The steps selected by ``group`` or by name (``only``), in table order; unknown names are an error.

    >>> [s.name for s in plan(only=["bench_rnn", "env"])]
    ['env', 'bench_rnn']
    """
    names = {s.name for s in STEPS}
    if only:
        bad = [n for n in only if n not in names]
        if bad:
            raise ValueError(f"unknown steps {bad}; known: {sorted(names)}")
        return [s for s in STEPS if s.name in only]
    groups = sorted({s.group for s in STEPS})
    if group is not None and group not in groups:
        raise ValueError(f"unknown group {group!r}; known: {groups}")
    return [s for s in STEPS if group is None or s.group == group]


def install_missing(wheels: Path, packages=WHEEL_PACKAGES, log=print) -> list[str]:
    """``pip install --no-index`` from ``wheels`` the packages that cannot be imported; returns those tried."""
    missing = [p for p in packages if importlib.util.find_spec(p) is None]
    if missing and wheels.is_dir():
        log(f"installing {missing} from {wheels}")
        subprocess.run([PY, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(wheels), *missing],
                       check=False)
    return missing


def run_steps(steps: list[Step], out: Path, budget_s: float = 0.0, cwd: Path = ROOT, log=print) -> list[dict]:
    """Run ``steps`` in order; returns one record per step (``name, rc, seconds, status, log``) and keeps
    ``out/summary.json`` / ``out/summary.md`` current after every step."""
    out.mkdir(parents=True, exist_ok=True)
    records: list[dict] = []
    t0 = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=f"{cwd}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    for s in steps:
        rec = {"name": s.name, "group": s.group, "what": s.what, "limit_s": s.limit_s, "log": f"{s.name}.log"}
        elapsed = time.perf_counter() - t0
        if budget_s and elapsed + s.limit_s > budget_s:
            rec.update(status="not started", reason=f"budget: {elapsed:.0f} s used of {budget_s:.0f} s, "
                       f"step limit {s.limit_s} s", rc=None, seconds=0.0)
        else:
            argv = [a.replace("{out}", str(out)) for a in s.argv]
            log(f"[{time.strftime('%H:%M:%S')}] {s.name}: {' '.join(argv)}")
            ts = time.perf_counter()
            with open(out / rec["log"], "w") as fh:
                fh.write("$ " + " ".join(argv) + "\n")
                fh.flush()
                try:
                    rc = subprocess.run(argv, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                        timeout=s.limit_s).returncode
                    status = "passed" if rc == 0 else "failed"
                except subprocess.TimeoutExpired:
                    rc, status = None, "timed out"
            rec.update(status=status, rc=rc, seconds=round(time.perf_counter() - ts, 1))
            log(f"    {status} in {rec['seconds']} s")
        records.append(rec)
        _write_summary(records, out)
    return records


def _write_summary(records: list[dict], out: Path) -> None:
    (out / "summary.json").write_text(json.dumps(records, indent=1))
    lines = [f"# GPU session {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
             "| step | status | seconds | what |", "|---|---|---|---|"]
    lines += [f"| {r['name']} | {r['status']}{' (' + r['reason'] + ')' if r.get('reason') else ''} "
              f"| {r['seconds']} | {r['what']} |" for r in records]
    (out / "summary.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--group", default=None, help="run one group of steps (see --list)")
    p.add_argument("--only", default=None, help="comma-separated step names")
    p.add_argument("--out", default=os.environ.get("OUT", "gpu_session_out"), help="folder for logs and results")
    p.add_argument("--budget", type=float, default=570.0, help="seconds; do not start a step that would overrun")
    p.add_argument("--list", action="store_true", help="print the plan and exit")
    a = p.parse_args(argv)
    try:
        steps = plan(a.group, a.only.split(",") if a.only else None)
    except ValueError as e:
        p.error(str(e))
    if a.list:
        for s in steps:
            print(f"{s.group:6s} {s.name:20s} ≤{s.limit_s:4d} s  {s.what}")
        print(f"total limit {sum(s.limit_s for s in steps)} s")
        return 0
    install_missing(ROOT / ".whl")
    records = run_steps(steps, Path(a.out), a.budget)
    print((Path(a.out) / "summary.md").read_text())
    return 0 if all(r["status"] == "passed" for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
