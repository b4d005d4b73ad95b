"""Benchmark of the Mamba block's two scans (loop vs parallel), the evidence behind ``scan="auto"``.

    python -m experiments.bench.aussm_mamba_scan [--device cuda] [--lengths 30 256 1024] [--json F]

For each length it times forward + backward of a one-layer ``m`` :class:`networks.aussm.TokenModel`
(the ``formal_languages`` shape by default: d_model 16, d_state 16, batch 32) with ``mamba_scan="sequential"``
and with ``"parallel"``, side by side in one run, and reports the difference between the two scans' outputs
and gradients (they compute the same recurrence; float32 rounding differs). The last column says which scan
``auto`` picks on this device (:func:`networks.aussm.mamba.resolve_scan`) and whether it was the faster one.

Example
-------
>>> rows = run_bench([6], device="cpu", reps=2, warmup=1, batch=2, d_model=4, d_state=2)
>>> sorted(rows[0]["ms"]), rows[0]["auto"]
(['parallel', 'sequential'], 'sequential')
>>> rows[0]["max_rel_diff"] < 1e-4
True
"""
from __future__ import annotations

import argparse
import json

import torch

from experiments.threads import cpu_threads
from experiments.bench.timing import time_ms
from networks.aussm import TokenModel
from networks.aussm.mamba import resolve_scan

SCANS = ("sequential", "parallel")


def _model(scan: str, d_model: int, d_state: int, device) -> TokenModel:
    return TokenModel(8, 4, "m", d_model=d_model, d_state=d_state, mamba_scan=scan,
                      generator=torch.Generator().manual_seed(0)).to(device)


def _grads(model, tok):
    model.zero_grad(set_to_none=True)
    out = model(tok)[:, -1]
    out.square().sum().backward()
    return out.detach(), [p.grad.detach().clone() for p in model.parameters()]


def run_bench(lengths, *, device="cpu", reps=7, warmup=2, batch=32, d_model=16, d_state=16) -> list[dict]:
    """One row per length: fwd+bwd median ms per scan, the scans' max relative difference, auto's choice."""
    device = torch.device(device)
    rows = []
    for L in lengths:
        tok = torch.randint(0, 8, (batch, L), generator=torch.Generator().manual_seed(1)).to(device)
        models = {s: _model(s, d_model, d_state, device) for s in SCANS}
        ref = {s: _grads(m, tok) for s, m in models.items()}
        (o1, g1), (o2, g2) = ref["sequential"], ref["parallel"]
        diff = max(float((a - b).abs().max() / b.abs().max().clamp_min(1e-30)) for a, b in zip([o1, *g1], [o2, *g2]))
        ms = {s: time_ms(lambda m=m: _grads(m, tok), reps=reps, warmup=warmup, device=device)[0]
              for s, m in models.items()}
        auto = resolve_scan("auto", device)
        rows.append({"L": L, "ms": ms, "max_rel_diff": diff, "auto": auto,
                     "auto_is_faster": ms[auto] <= min(ms.values())})
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--lengths", type=int, nargs="+", default=[30, 40, 256, 1024])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--d-model", type=int, default=16)
    p.add_argument("--d-state", type=int, default=16)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help="CPU threads (0 = torch default)")
    p.add_argument("--json", default=None, help="also write the rows here")
    a = p.parse_args(argv)
    with cpu_threads(a.threads):
        threads = torch.get_num_threads()
        rows = run_bench(a.lengths, device=a.device, reps=a.reps, warmup=a.warmup, batch=a.batch,
                         d_model=a.d_model, d_state=a.d_state)
    print(f"Mamba scans, `m` TokenModel fwd+bwd, batch {a.batch}, d_model {a.d_model}, d_state {a.d_state}, "
          f"device {a.device}, threads {threads}, torch {torch.__version__}")
    print("| L | sequential ms | parallel ms | parallel / sequential | max rel diff | auto picks |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        s, q = r["ms"]["sequential"], r["ms"]["parallel"]
        print(f"| {r['L']} | {s:.2f} | {q:.2f} | {q / s:.2f} | {r['max_rel_diff']:.1e} | {r['auto']}"
              f"{'' if r['auto_is_faster'] else ' (the slower one)'} |")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
