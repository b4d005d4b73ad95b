"""Benchmark of online learning (issue: plasticity / streaming learner).

    python -m experiments.bench.gsemm_learning [--quick] [--skip-authors]

Prints, measured side by side in one run on this machine:

1. the ≥ 20-seed reliability run (``learn_sequence``, seeds batched as independent networks), with the
   recruiting rule (this library's default) and with the authors' rule and protocol (N = 100, L = 10,
   N_h = 20, 20 epochs, 1967 steps per item: 393,400 integration steps per seed);
2. the cost of ``Learner.run(chunk)`` (monitors off) relative to the bare integration loop of the same
   network (one Euler step per presented pattern, no learning), with learning off and on.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from experiments.cli import main as cli_main
from networks.gsemm import dsem, random_patterns
from networks.gsemm.rhs import Dense
from networks.gsemm.integrate import step as integrate_step
from networks.gsemm.learner import Learner
from networks.gsemm.learning import RULES


def _cli(args: list[str]) -> tuple[float, dict]:
    out = Path(tempfile.mkdtemp()) / "run"
    t0 = time.perf_counter()
    rc = cli_main(["run", *args, "--out", str(out)])
    secs = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"{args} failed with exit status {rc}")
    return secs, json.loads((out / "metrics.json").read_text())


def _overhead(rule_name: str, T: int, B: int, N: int = 100, L: int = 10) -> dict:
    g = torch.Generator().manual_seed(0)
    X = random_patterns(N, L, generator=g, dtype=torch.float32)
    P = 2 * L
    xi = (torch.randn(B, N, P, generator=g) / N).contiguous()
    phi = (torch.randn(B, P, P, generator=g) / P).contiguous()
    net = dsem(xi, phi, alpha_s=1.0, alpha_c=1.52, T_f=0.008, T_d=0.4)
    chunk = X.T.repeat_interleave(T // L, 0)[:, None, :].expand(-1, B, -1).contiguous()
    rule = RULES[rule_name]()
    res = {}
    with torch.no_grad():  # bare loop: the same Euler step the learner takes, no learning
        k = Dense(net)
        v = torch.zeros(B, N)
        s = torch.zeros(B, N)
        t0 = time.perf_counter()
        for i in range(chunk.shape[0]):
            v, s, _ = integrate_step(k, v, s, None, 1e-3, "euler", chunk[i])
        res["bare_s"] = time.perf_counter() - t0
    for learn in (False, True):
        # the rule's own input mode (authors: current, recruiting: clamp)
        lrn = Learner(net, rule, dt=1e-3, learn=learn)
        t0 = time.perf_counter()
        lrn.run(chunk)
        res[f"learner_{'learn' if learn else 'nolearn'}_s"] = time.perf_counter() - t0
    res["ratio_nolearn"] = res["learner_nolearn_s"] / res["bare_s"]
    res["ratio_learn"] = res["learner_learn_s"] / res["bare_s"]
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    ap.add_argument("--skip-authors", action="store_true", help="skip the 393,400-step authors' protocol")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    report = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    seeds = "4" if args.quick else "20"
    secs, m = _cli(["learn_sequence", "--set", f"seeds={seeds}", "--set", "retention=false"])
    report["recruiting"] = {"seeds": int(seeds), "seconds": secs, "success_rate": m["success_rate"]}
    print(f"learn_sequence recruiting rule, {seeds} seeds: {secs:.1f} s, success {m['success_rate']:.2f}")
    if not args.skip_authors:
        extra = ["--set", "epochs=2"] if args.quick else []
        secs, m = _cli(["learn_sequence", "--set", "rule=authors", "--set", f"seeds={seeds}",
                        "--set", "retention=false", *extra])
        report["authors"] = {"seeds": int(seeds), "seconds": secs, "success_rate": m["success_rate"]}
        print(f"learn_sequence authors' rule/protocol, {seeds} seeds: {secs:.1f} s, success {m['success_rate']:.2f}")
    T = 500 if args.quick else 5000
    for rule in ("authors", "recruiting"):
        r = _overhead(rule, T=T, B=20)
        report[f"overhead_{rule}"] = r
        print(f"Learner.run vs bare loop ({rule}, B=20, {T} steps): no learning {r['ratio_nolearn']:.2f}x, "
              f"learning {r['ratio_learn']:.2f}x (bare {r['bare_s']:.2f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
