"""Throughput of ``networks.gsemm.simulate`` backends on the CPU: dense (eager torch), subspace, native (C).

Run ``python -m experiments.bench.gsemm_integrate`` (full, ~1–3 min on 2 cores) or with ``--quick``
(a few seconds, a smoke test). Cases:

* the authors' DSEM notebook run: N=100, P=7, one stream, float64, split RK4, 58,333 steps of dt=0.01;
* a batched run: N=784, P=64, B=64 streams, float32, Euler and split RK4, 2,000 steps.

For each case and backend it prints wall seconds, steps/s and network-steps/s (B × steps/s), the
max |overlap − dense overlap| (against the first backend timed when dense is not run), and the ratio to the
authors' numpy code. The numpy figures are **quoted** from the project's earlier peer measurement (2,460 steps/s
at 100/7 and 303 steps/s at 784/64, B=1, float64, same machine type), not measured here: no upstream code is
fetched or run.

Example
-------
>>> from experiments.bench.gsemm_integrate import run_case
>>> rows = run_case(N=32, P=3, B=1, dtype="float64", method="split", steps=50, backends=("dense", "native"))
>>> [r["backend"] for r in rows]
['dense', 'native']
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import time

import torch

from networks.gsemm import cycle, cycles, dsem, masked_cue, random_patterns, simulate

QUOTED_NUMPY = {(100, 7): 2460.0, (784, 64): 303.0}  # steps/s, authors' numpy code, B=1 f64 (quoted)
BACKENDS = ("dense", "subspace", "native")


def _setup(N: int, P: int, B: int, dtype):
    xi = random_patterns(N, P, generator=torch.Generator().manual_seed(0), dtype=dtype)
    if (N, P) == (100, 7):
        phi = cycles([0, 1, 2], [3, 4, 5, 6], dtype=dtype)
    else:
        phi = cycle(P, dtype=dtype)
    net = dsem(xi, phi, alpha_s=1.0, alpha_c=4.9, beta=1.0, beta_d=1.0, T_d=20.0)
    g = torch.Generator().manual_seed(1)
    cues = [masked_cue(xi[:, 4 % P], 0.25)] + [masked_cue(xi[:, b % P], 0.25, mode="random", generator=g)
                                              for b in range(1, B)]
    return net, net.init_state(torch.stack(cues))


def run_case(*, N: int, P: int, B: int, dtype: str, method: str, steps: int, backends=BACKENDS,
             repeats: int = 1, record_every: int = 10) -> list[dict]:
    """Time ``simulate`` for each backend on one case; returns one dict per backend (median of ``repeats``).

    >>> rows = run_case(N=16, P=2, B=2, dtype="float32", method="euler", steps=20, backends=("native",))
    >>> rows[0]["net_steps_per_s"] > 0
    True
    """
    dt_ = getattr(torch, dtype)
    net, st = _setup(N, P, B, dt_)
    rows, ref = [], None
    for backend in backends:
        simulate(net, st, steps=min(steps, 20), dt=0.01, method=method, record_every=10, backend=backend)  # warm-up
        times, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            _, traj = simulate(net, st, steps=steps, dt=0.01, method=method, record_every=record_every,
                               backend=backend)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        sec, csec = statistics.median(times), statistics.median(cpu)
        ov = traj.overlaps
        if ref is None:
            ref = ov
        err = (ov.double() - ref.double()).abs().max().item()
        lab = ov[:, 0].argmax(-1).tolist()
        seq = [x for i, x in enumerate(lab) if i == 0 or lab[i - 1] != x]
        rows.append(dict(N=N, P=P, B=B, dtype=dtype, method=method, backend=backend, steps=steps, seconds=sec,
                         steps_per_s=steps / sec, net_steps_per_s=B * steps / sec,
                         net_steps_per_cpu_s=B * steps / max(csec, 1e-9), err_vs_first=err,
                         labels=len(seq), labels_same=(lab == ref[:, 0].argmax(-1).tolist()), overlaps=ov))
    return rows


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{model}, {os.cpu_count()} logical CPUs, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads, load average {load:.2f}")


def _print(rows: list[dict]) -> None:
    hdr = (f"{'case':<30} {'backend':<9} {'steps':>7} {'seconds':>8} {'steps/s':>10} {'net-steps/s':>12} "
           f"{'net/cpu-s':>11} {'x numpy*':>9} {'max|dOv|':>9} {'labels':>7}")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        case = f"{r['N']}/{r['P']} B={r['B']} {r['dtype'][5:]} {r['method']}"
        q = QUOTED_NUMPY.get((r["N"], r["P"]))
        ratio = f"{r['net_steps_per_s'] / q:9.1f}" if q else f"{'-':>9}"
        same = "" if r["labels_same"] else " (!)"
        print(f"{case:<30} {r['backend']:<9} {r['steps']:>7} {r['seconds']:>8.3f} {r['steps_per_s']:>10,.0f} "
              f"{r['net_steps_per_s']:>12,.0f} {r['net_steps_per_cpu_s']:>11,.0f} {ratio} "
              f"{r['err_vs_first']:>9.1e} {r['labels']:>6}{same}")
    for (n, p), q in QUOTED_NUMPY.items():
        print(f"{f'{n}/{p} B=1 64 (authors numpy)*':<30} {'quoted':<9} {'':>7} {'':>8} {q:>10,.0f} {q:>12,.0f} "
              f"{'':>11} {1.0:>9.1f}")


def main(argv=None) -> list[dict]:
    """Run the benchmark and print the table; ``--quick`` for a few-second smoke run.

    >>> rows = main(["--quick", "--only", "native"])  # doctest: +ELLIPSIS
    machine: ...
    >>> {r["backend"] for r in rows}
    {'native'}
    """
    ap = argparse.ArgumentParser(prog="python -m experiments.bench.gsemm_integrate", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="short runs (a few seconds), for smoke testing")
    ap.add_argument("--repeats", type=int, default=3, help="repeats per native measurement (median); torch "
                    "backends run once on the long cases")
    ap.add_argument("--only", nargs="+", choices=BACKENDS, default=list(BACKENDS), help="backends to time")
    args = ap.parse_args(argv)
    small_steps, big_steps = (1000, 30) if args.quick else (58_333, 2000)
    print(f"machine: {_machine()}")
    rows = []
    cases = [dict(N=100, P=7, B=1, dtype="float64", method="split", steps=small_steps),
             dict(N=784, P=64, B=64, dtype="float32", method="euler", steps=big_steps),
             dict(N=784, P=64, B=64, dtype="float32", method="split", steps=big_steps)]
    for case in cases:
        case_rows = []
        for b in args.only:
            reps = args.repeats if b == "native" or args.quick else 1
            case_rows += run_case(backends=(b,), repeats=reps, **case)
        ref = next((r["overlaps"] for r in case_rows if r["backend"] == "dense"), None)
        for r in case_rows:  # errors against the dense backend of the same case
            if ref is not None:
                r["err_vs_first"] = (r["overlaps"].double() - ref.double()).abs().max().item()
                r["labels_same"] = r["overlaps"][:, 0].argmax(-1).equal(ref[:, 0].argmax(-1))
        rows += case_rows
    _print(rows)
    print("* quoted from the project's earlier peer measurement (authors' numpy code, B=1 float64), not measured here; "
          "'x numpy' = net-steps/s over that figure. max|dOv| = max |overlap - dense overlap|; "
          "labels = decoded memories of stream 0 ((!) if its argmax trace differs from dense); net/cpu-s = "
          "network-steps per CPU-second of this process (all threads), less sensitive to other load.")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "")
    return rows


if __name__ == "__main__":
    main()
