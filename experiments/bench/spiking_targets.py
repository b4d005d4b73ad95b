r"""Benchmark of the spiking GSEMM (:class:`~networks.spiking.SpikingGSEMM`) across Brian2 targets.

Four measurements, each per target (``cpp_standalone`` with one thread, ``cuda_standalone``), written as
one JSON document (``--json``) and printed as Markdown:

1. **replay** — the stored DSEM (Hadamard N = 32, P = 4 cycle, M = 8): decoded order vs the torch Euler
   order (``order_agreement``), build time, run wall time, and the cost of a **re-run through** ``run_args``
   (new cue, same binary) against the build.
2. **scale** — synapse-count scaling. One DSEM of shape (N, P, M) has
   :math:`S = N·P·M` (Ξ) :math:`+ (P·M)^2` (Φ) :math:`+ P·M` (normalisation) synapses; β is scaled as
   β = 128/N and the hidden neuron rate as r_h = 800 Hz/M (population budget fixed) so that the network
   stays in the same (replaying) regime at every size. Reported: the
   simulation time measured inside the binary (``device._last_run_time``), µs per step, mean feature and
   hidden rates (the statistics the targets must agree on; the random streams differ between targets).
3. **batch** — ``B`` independent cued replays in one block-diagonal model (:func:`~networks.spiking.block_diagonal`,
   the mini-batch idea of arXiv:1909.02549) vs one replay: simulation time ratio and the fraction of blocks
   whose decoded order agrees ≥ 90 % with torch.

Usage::

    python -m experiments.bench.spiking_targets --quick                 # CPU, cpp_standalone, < 2 min
    python -m experiments.bench.spiking_targets --targets cpp_standalone cuda_standalone --json out.json

Each case is independent: an error is recorded in the JSON (``"error"``) and the next case runs; a case that
would start after ``--budget`` seconds is recorded as skipped.

Example
-------
>>> synapse_count(32, 4, 8)
2080
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
import traceback

import numpy as np
import torch

from networks.gsemm import cycle, decode, dsem, hadamard_patterns, simulate

FULL_SHAPES = [(256, 8, 16), (1024, 16, 64), (2048, 16, 160)]      # ~5e4, ~2e6, ~1.2e7 synapses
QUICK_SHAPES = [(128, 8, 8)]


def synapse_count(N: int, P: int, M: int, blocks: int = 1) -> int:
    """Synapses of a :class:`SpikingGSEMM` of ``blocks`` blocks of shape (N, P, M):
    :math:`S = B\\,(N P M + (P M)^2 + P M)`.

    >>> synapse_count(2048, 16, 160)
    11799040
    """
    for name, v in (("N", N), ("P", P), ("M", M), ("blocks", blocks)):
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v}")
    return blocks * (N * P * M + (P * M) ** 2 + P * M)


def _net(N, P, beta=None):
    xi = hadamard_patterns(N, P, dtype=torch.float64)
    beta = 4.0 * 32 / N if beta is None else beta
    return xi, dsem(xi, cycle(P, dtype=torch.float64), alpha_s=0.5, alpha_c=1.0, beta=beta, T_d=2.0)


def _torch_order(net, cue, duration):
    _, tr = simulate(net, net.init_state(cue), steps=int(round(duration / 0.01)), dt=0.01, method="euler",
                     record_every=10, backend="dense")
    return decode(tr.overlaps[:, 0], 0.1, min_dwell=3).order


def _sim_time(b2, target):
    if target == "runtime":
        return None
    t = getattr(b2.device, "_last_run_time", None)
    return None if t is None else float(t)


def case_replay(target, workdir, seed, duration):
    """Stored DSEM replay: order agreement, build, run, run_args re-run (new cue)."""
    from networks.spiking import SpikeConfig, SpikingGSEMM, order_agreement, require_brian2
    b2 = require_brian2()
    xi, net = _net(32, 4, beta=4.0)
    ref = _torch_order(net, xi[:, 0], duration)
    sim = SpikingGSEMM(net, duration=duration, config=SpikeConfig(M=8), target=target,
                       directory=os.path.join(workdir, f"replay_{target}"), seed=seed)
    try:
        res = sim.run(xi[:, 0])
        first_run, sim_s = sim.last_run_seconds, _sim_time(b2, target)
        order = res.decoded(xi.numpy(), bin=0.5, min_dwell=3)
        agree, n = order_agreement(order, ref)
        res2 = sim.run(xi[:, 2])                             # new cue through run_args, no rebuild
        order2 = res2.decoded(xi.numpy(), bin=0.5, min_dwell=3)
        return {"build_s": sim.build_seconds, "run_wall_s": first_run, "sim_s": sim_s,
                "rerun_wall_s": sim.last_run_seconds, "order": order[:24], "torch_order": ref[:24],
                "order_agreement": agree, "transitions": n, "rerun_first": order2[:3],
                "feature_rate_hz": res.feature_i.size / (32 * duration * res.time_unit),
                "hidden_rate_hz": res.hidden_i.size / (32 * duration * res.time_unit)}
    finally:
        sim.close()


def case_mirror(target, workdir, seed, duration):
    """Rate mirror (exact DSEM ODEs, deterministic) vs torch explicit Euler at the same dt."""
    from networks.spiking import RateMirror
    xi, net = _net(64, 4, beta=4.0)
    dt = 0.02
    _, tr = simulate(net, net.init_state(xi[:, 0]), steps=int(round(duration / dt)), dt=dt, method="euler",
                     record_every=10, backend="dense")
    sim = RateMirror(net, duration=duration, dt=dt, record_every=10, target=target,
                     directory=os.path.join(workdir, f"mirror_{target}"), seed=seed)
    try:
        res = sim.run(xi[:, 0])
        n = min(len(res.overlaps), tr.overlaps.shape[0])
        diff = float(np.abs(tr.overlaps[:n, 0].numpy() - res.overlaps[:n]).max())
        order = decode(torch.tensor(res.overlaps), 10 * dt, min_dwell=3).order
        ref = decode(tr.overlaps[:, 0], 10 * dt, min_dwell=3).order
        return {"build_s": sim.build_seconds, "run_wall_s": sim.last_run_seconds, "max_overlap_diff": diff,
                "order": order[:24], "torch_order": ref[:24], "same_order": order == ref}
    finally:
        sim.close()


def case_scale(target, workdir, seed, shape, duration):
    """One (N, P, M) network: build, simulate, mean rates, run_args re-run."""
    from networks.spiking import SpikeConfig, SpikingGSEMM, require_brian2
    b2 = require_brian2()
    N, P, M = shape
    xi, net = _net(N, P)
    t0 = time.perf_counter()
    # the population budget R_h = M·r_h stays 800 Hz per memory (one neuron's rate shrinks as M grows)
    sim = SpikingGSEMM(net, duration=duration, config=SpikeConfig(M=M, r_h=800.0 / M), target=target,
                       directory=os.path.join(workdir, f"scale_{N}_{P}_{M}_{target}"), seed=seed)
    try:
        res = sim.run(xi[:, 0])
        sim_s, wall = _sim_time(b2, target), sim.last_run_seconds
        sim.run(xi[:, 1])
        tu = res.time_unit
        steps = int(round(duration / (sim.dt_s / tu)))
        return {"N": N, "P": P, "M": M, "synapses": synapse_count(N, P, M), "steps": steps,
                "build_s": sim.build_seconds, "setup_total_s": time.perf_counter() - t0,
                "run_wall_s": wall, "sim_s": sim_s, "rerun_wall_s": sim.last_run_seconds,
                "us_per_step": None if sim_s is None else 1e6 * sim_s / steps,
                "feature_rate_hz": res.feature_i.size / (N * duration * tu),
                "hidden_rate_hz": res.hidden_i.size / (P * M * duration * tu)}
    finally:
        sim.close()


def case_batch(target, workdir, seed, blocks, duration):
    """``blocks`` independent replays (block b cued with memory b mod P) in one model."""
    from networks.spiking import SpikeConfig, SpikingGSEMM, block_diagonal, order_agreement, require_brian2
    b2 = require_brian2()
    N, P = 32, 4
    xi, net = _net(N, P, beta=4.0)
    ref = {k: _torch_order(net, xi[:, k], duration) for k in range(P)}
    big = block_diagonal([net] * blocks)
    sim = SpikingGSEMM(big, duration=duration, config=SpikeConfig(M=8), target=target, blocks=blocks,
                       directory=os.path.join(workdir, f"batch{blocks}_{target}"), seed=seed, record_hidden=False)
    try:
        cue = np.concatenate([xi[:, b % P].numpy() for b in range(blocks)])
        res = sim.run(cue)
        sim_s = _sim_time(b2, target)
        agree = []
        for b in range(blocks):
            keep = (res.feature_i >= N * b) & (res.feature_i < N * (b + 1))
            from networks.spiking.decode import population_overlaps
            tu = res.time_unit
            _, m = population_overlaps(res.feature_i[keep] - N * b, res.feature_t[keep] * tu, N=N, rate=res.r_f,
                                       duration=duration * tu, bin=0.5 * tu, patterns=xi.numpy())
            order = decode(torch.tensor(m), 0.5, min_dwell=3).order
            a, n = order_agreement(order, ref[b % P])
            agree.append(a if n else 0.0)
        agree = np.array(agree)
        return {"blocks": blocks, "synapses": synapse_count(N, P, 8, blocks), "build_s": sim.build_seconds,
                "run_wall_s": sim.last_run_seconds, "sim_s": sim_s,
                "frac_blocks_agree_ge_0.9": float((agree >= 0.9).mean()), "mean_agreement": float(agree.mean())}
    finally:
        sim.close()


def main(argv=None) -> dict:
    """Run the benchmark; return (and optionally write) the results dict."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small shapes, cpp_standalone only (CPU, < 2 min)")
    ap.add_argument("--targets", nargs="+", default=None, choices=("runtime", "cpp_standalone", "cuda_standalone"))
    ap.add_argument("--cases", nargs="+", default=["replay", "scale_max", "batch", "scale"],
                    choices=("replay", "scale_max", "batch", "scale", "mirror"))
    ap.add_argument("--blocks", type=int, default=None, help="replays in the batch case (default 64; quick 8)")
    ap.add_argument("--duration", type=float, default=None, help="model units per scaling run (default 10; quick 2)")
    ap.add_argument("--budget", type=float, default=1e9, help="start no case after this many seconds")
    ap.add_argument("--json", default=None, help="write results here (rewritten after every case)")
    ap.add_argument("--workdir", default=None, help="standalone projects (default: a temporary folder)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    targets = a.targets or (["cpp_standalone"] if a.quick else ["cpp_standalone", "cuda_standalone"])
    blocks = a.blocks or (8 if a.quick else 64)
    if blocks < 1:
        raise ValueError(f"--blocks must be >= 1, got {blocks}")
    shapes = QUICK_SHAPES if a.quick else FULL_SHAPES
    duration = a.duration or (2.0 if a.quick else 10.0)
    replay_dur = 20.0 if a.quick else 40.0
    workdir = a.workdir or tempfile.mkdtemp(prefix="spiking_targets_")
    from networks.spiking import brian2_available
    ok, b2v = brian2_available()
    if not ok:
        raise RuntimeError(b2v)
    out = {"date": time.strftime("%Y-%m-%d"), "python": platform.python_version(), "brian2": b2v,
           "torch": torch.__version__, "cpu_count": os.cpu_count(), "machine": platform.node(),
           "quick": a.quick, "targets": targets, "results": []}
    try:
        import brian2cuda
        out["brian2cuda"] = brian2cuda.__version__
    except Exception as e:  # noqa: BLE001 - only reported
        out["brian2cuda"] = f"unavailable: {type(e).__name__}"
    if shutil.which("nvidia-smi"):
        import subprocess
        out["gpu"] = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True).stdout.strip()
    jobs = []
    for case in a.cases:
        for t in targets:
            if case == "replay":
                jobs.append(("replay", t, lambda t=t: case_replay(t, workdir, a.seed, replay_dur)))
            elif case == "scale_max":
                jobs.append(("scale", t, lambda t=t: case_scale(t, workdir, a.seed, shapes[-1], duration)))
            elif case == "mirror":
                jobs.append(("mirror", t, lambda t=t: case_mirror(t, workdir, a.seed, replay_dur)))
            elif case == "batch":
                jobs.append(("batch", t, lambda t=t: case_batch(t, workdir, a.seed, blocks, replay_dur)))
            else:
                for s in shapes[:-1]:
                    jobs.append(("scale", t, lambda t=t, s=s: case_scale(t, workdir, a.seed, s, duration)))
    t_start = time.perf_counter()
    for name, t, fn in jobs:
        rec = {"case": name, "target": t}
        if time.perf_counter() - t_start > a.budget:
            rec["skipped"] = "budget"
        else:
            t0 = time.perf_counter()
            try:
                rec.update(fn())
            except Exception as e:  # noqa: BLE001 - recorded, the next case still runs
                rec["error"] = f"{type(e).__name__}: {e}"
                rec["traceback"] = traceback.format_exc()[-3000:]
            rec["case_wall_s"] = time.perf_counter() - t0
        out["results"].append(rec)
        print(json.dumps({k: v for k, v in rec.items() if k != "traceback"}, default=float), flush=True)
        if a.json:
            tmp = a.json + ".tmp"
            with open(tmp, "w") as f:
                json.dump(out, f, indent=1, default=float)
            os.replace(tmp, a.json)
    print(markdown(out))
    return out


def markdown(out: dict) -> str:
    """Markdown table of a results dict from :func:`main`.

    >>> markdown({"results": []}).splitlines()[0].startswith("| case")
    True
    """
    cols = ["case", "target", "N", "P", "M", "blocks", "synapses", "build_s", "sim_s", "us_per_step", "run_wall_s",
            "rerun_wall_s", "feature_rate_hz", "hidden_rate_hz", "order_agreement", "frac_blocks_agree_ge_0.9",
            "max_overlap_diff"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in out["results"]:
        cells = []
        for c in cols:
            v = r.get(c, "")
            cells.append(f"{v:.4g}" if isinstance(v, float) else str(v))
        if "error" in r or "skipped" in r:
            cells[-1] = r.get("error", "skipped")[:80]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
