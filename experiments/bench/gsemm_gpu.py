"""GPU benchmark of GSEMM integration (run on a CUDA machine): network-steps per second.

    python -m experiments.bench.gsemm_gpu [--B 4096] [--N 784] [--P 64] [--steps 400] [--json out.json]

For each method (euler, split) it times, side by side in one run: the dense eager loop, dense with
CUDA-graph replay, the exact subspace backend eager, subspace with CUDA graphs, and the fused Triton
kernel (one launch, true float32 "ieee" matmuls, and TF32); float32 (TF32 off elsewhere, so the
numbers compare with the float64 oracle honestly). Accuracy: max |overlap
difference| against a float64 dense run of the same streams (first 64 streams, same steps).
"""
from __future__ import annotations

import argparse
import json
import time

import torch

from networks.gsemm import cycle, dsem, masked_cue, random_patterns, simulate


def _net(N, P, B, dtype, device):
    g = torch.Generator().manual_seed(0)
    xi = random_patterns(N, P, generator=g, dtype=torch.float64)
    cues = torch.stack([masked_cue(xi[:, b % P], 0.25, mode="random", generator=g) for b in range(B)])
    net = dsem(xi.to(device, dtype), cycle(P, dtype=dtype, device=device), alpha_s=1.0, alpha_c=4.9, beta=1.0,
               T_d=20.0)
    return net, cues.to(device, dtype)


def _time(net, cues, steps, method, backend, graph, record_every):
    st = net.init_state(cues)
    if backend.startswith("triton"):
        from networks.gsemm.triton_ops import simulate_fused
        prec = backend.split("-")[1] if "-" in backend else "ieee"
        run = lambda n: simulate_fused(net, st, steps=n, dt=0.01, method=method, record_every=record_every,
                                       precision=prec)
    else:
        run = lambda n: simulate(net, st, steps=n, dt=0.01, method=method, backend=backend, cuda_graph=graph,
                                 record_every=record_every)
    run(2 * record_every)  # warm-up (compilation and graph capture excluded)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    final, tr = run(steps)
    torch.cuda.synchronize()
    return time.perf_counter() - t0, tr


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--B", type=int, default=4096)
    ap.add_argument("--N", type=int, default=784)
    ap.add_argument("--P", type=int, default=64)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--record-every", type=int, default=20)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit("gsemm_gpu needs a CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = torch.device("cuda")
    rows = []
    ref_net, ref_cues = _net(args.N, args.P, 64, torch.float64, dev)
    net, cues = _net(args.N, args.P, args.B, torch.float32, dev)
    print(f"GSEMM DSEM N={args.N} P={args.P} B={args.B} float32, {args.steps} steps, record every "
          f"{args.record_every}; {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    for method in ("euler", "split"):
        _, ref = simulate(ref_net, ref_net.init_state(ref_cues), steps=args.steps, dt=0.01, method=method,
                          backend="dense", record_every=args.record_every, cuda_graph=False)
        for backend, graphs in (("dense", (False, True)), ("subspace", (False, True)), ("triton", (False,)),
                                ("triton-tf32x3", (False,)), ("triton-tf32", (False,))):
            for graph in graphs:
                secs, tr = _time(net, cues, args.steps, method, backend, graph, args.record_every)
                err = (tr.overlaps[:, :64].double() - ref.overlaps).abs().max().item()
                row = {"method": method, "backend": backend, "cuda_graph": graph, "steps_per_s": args.steps / secs,
                       "network_steps_per_s": args.B * args.steps / secs, "max_overlap_err_vs_f64": err}
                rows.append(row)
                print(f"{method:6s} {backend:13s} graph={str(graph):5s} {row['steps_per_s']:10.0f} steps/s "
                      f"{row['network_steps_per_s'] / 1e6:8.2f} M network-steps/s  err {err:.2e}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"args": vars(args), "device": torch.cuda.get_device_name(0), "torch": torch.__version__,
                       "rows": rows}, fh, indent=2)


if __name__ == "__main__":
    main()
