"""Benchmark of the fused wave-RNN recurrence (Triton) against the eager PyTorch step loops.

Shapes: the wRNN sMNIST shape (B=128, L=784, n=256, c=16, ReLU ring) and the EMT Elman shape (B=64,
L=108, H=128, tanh dense). For each implementation: forward and forward+backward time (CUDA events, 3
warm-ups, median of ``--reps``), peak extra memory, and the max error against the float64 oracle at the
same shape (relative to max|oracle|). Baselines measured in the same run:

* ``eager-roll``  — :func:`networks.waves.scan_reference` (rolled taps + einsum per step, autograd BPTT);
* ``eager-conv``  — the original wRNN style: ``conv1d`` with circular padding per step (ring only);
* ``cudnn-rnn``   — ``torch.nn.RNN`` (cuDNN, dense tanh only);
* ``triton``      — the fused custom op (forward and backward kernels + one parallel weight-grad reduction).

Roofline: a fused scan must read ``z`` and write ``hs`` (forward: 2·B·L·H·4 bytes); the backward reads
``grad_hs``, ``hs`` and writes ``grad_z`` (3·B·L·H·4 bytes). The fraction reported is that minimum traffic /
3.35 TB/s (H100 SXM HBM3) over the measured time.

    python -m experiments.bench.waves_rnn --out bench.json        # needs a CUDA device
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as Fn

from networks.waves.scan_op import recurrent_scan
from networks.waves.scan_reference import example_weight, scan_reference

from .timing import peak_extra_mib, time_ms

HBM_BYTES_PER_S = 3.35e12


def eager_conv(z, h0, u):
    """Original-style wRNN loop: circular pad + conv1d + relu per step."""
    B, L, H = z.shape
    c = u.shape[0]
    h, out = h0.reshape(B, c, -1), []
    for z_t in z.unbind(1):
        h = torch.relu(Fn.conv1d(Fn.pad(h, (1, 1), mode="circular"), u) + z_t.reshape(B, c, -1))
        out.append(h)
    return torch.stack(out, 1).reshape(B, L, H)


def bench_case(name, structure, act, B, L, H, c, reps: dict, impls, seed=0):
    dev = "cuda"
    g = torch.Generator().manual_seed(seed)
    w = example_weight(structure, H, c, g)
    z = (torch.randn(B, L, H, generator=g, dtype=torch.float64) * 0.1).to(dev)
    h0 = torch.zeros(B, H, dtype=torch.float64, device=dev)
    gh = torch.randn(B, L, H, generator=g, dtype=torch.float64).to(dev)
    w = w.to(dev)
    # float64 oracle (same shape)
    o_in = [t.clone().requires_grad_() for t in (z, h0, w)]
    o_hs = scan_reference(*o_in, structure, act)
    o_hs.backward(gh)
    oracle = [o_hs.detach(), o_in[0].grad, o_in[2].grad]
    del o_hs, o_in
    z32, h032, w32, gh32 = (t.float() for t in (z, h0, w, gh))
    rows = []
    for impl in impls:
        if impl == "eager-roll":
            f = lambda zz, hh, ww: scan_reference(zz, hh, ww, structure, act)  # noqa: E731
        elif impl == "triton":
            f = lambda zz, hh, ww: recurrent_scan(zz, hh, ww, structure, act, backend="triton")  # noqa: E731
        elif impl == "eager-conv":
            f = eager_conv
        elif impl == "cudnn-rnn":
            rnn = torch.nn.RNN(H, H, bias=False, batch_first=True, nonlinearity=act).to(dev)
            with torch.no_grad():
                rnn.weight_ih_l0.copy_(torch.eye(H))        # z enters as the input: W_ih = I
                rnn.weight_hh_l0.copy_(w32)
            rnn.weight_ih_l0.requires_grad_(False)

            def f(zz, hh, ww, rnn=rnn):
                return rnn(zz, hh.unsqueeze(0))[0]
        else:
            raise ValueError(impl)
        zr, wr = z32.clone().requires_grad_(), w32.clone().requires_grad_()

        def fwd():
            with torch.no_grad():
                return f(z32, h032, w32)

        def fwdbwd():
            zr.grad = None
            wr.grad = None
            if impl == "cudnn-rnn":
                rnn.weight_hh_l0.grad = None
            out = f(zr, h032, wr)
            out.backward(gh32)

        try:
            t_f = time_ms(fwd, reps[impl])[0]
            t_fb = time_ms(fwdbwd, reps[impl])[0]
            mem = peak_extra_mib(fwdbwd)
        except Exception as e:  # report and go on with the other implementations
            print(f"{name} {impl}: FAILED {type(e).__name__}: {e}", file=sys.stderr)
            rows.append({"case": name, "impl": impl, "error": f"{type(e).__name__}: {e}"})
            continue
        fwdbwd()
        hs = fwd()
        grads = [hs, zr.grad, wr.grad if impl != "cudnn-rnn" else rnn.weight_hh_l0.grad]
        errs = [float((a.double() - o).abs().max() / o.abs().max().clamp_min(1.0)) if a is not None else None
                for a, o in zip(grads, oracle)]
        fwd_bytes, bwd_bytes = 2 * B * L * H * 4, 3 * B * L * H * 4
        row = {"case": name, "impl": impl, "fwd_ms": t_f, "fwdbwd_ms": t_fb, "peak_extra_MiB": mem,
                     "err_hs": errs[0], "err_grad_z": errs[1], "err_grad_w": errs[2],
                     "roofline_fwd": fwd_bytes / HBM_BYTES_PER_S * 1e3 / t_f,
                     "roofline_fwdbwd": (fwd_bytes + bwd_bytes) / HBM_BYTES_PER_S * 1e3 / t_fb}
        print("row " + json.dumps(row), flush=True)     # partial results survive a timeout
        rows.append(row)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=50)
    p.add_argument("--eager-reps", type=int, default=10, help="reps for the (slow) eager loops")
    p.add_argument("--out", type=Path, default=None, help="write the rows as JSON")
    p.add_argument("--small", action="store_true", help="small shapes (smoke test)")
    p.add_argument("--cases", default="ring,dense", help="comma list of ring, dense")
    p.add_argument("--impls", default="triton,eager-roll,eager-conv,cudnn-rnn", help="comma list of implementations")
    a = p.parse_args(argv)
    if not torch.cuda.is_available():
        print("waves_rnn: needs a CUDA device (torch sees none)", file=sys.stderr)
        return 2
    cases = [("wRNN sMNIST", "ring", "relu", 128, 784, 256 * 16, 16),
             ("EMT Elman", "dense", "tanh", 64, 108, 128, None)]
    if a.small:
        cases = [("wRNN small", "ring", "relu", 8, 64, 64 * 16, 16), ("Elman small", "dense", "tanh", 16, 32, 64, None)]
    rows = []
    wanted = set(a.impls.split(","))
    for name, structure, act, B, L, H, c in cases:
        if structure not in a.cases.split(","):
            continue
        impls = ["triton", "eager-roll"] + (["eager-conv"] if structure == "ring" else ["cudnn-rnn"])
        impls = [i for i in impls if i in wanted]
        reps = {i: (a.reps if i in ("triton", "cudnn-rnn") else a.eager_reps) for i in impls}
        rows += bench_case(name, structure, act, B, L, H, c, reps, impls)
        torch.cuda.empty_cache()
        if a.out:
            a.out.write_text(json.dumps({"rows": rows}, indent=2))
        # speedups within the case
        case_rows = [r for r in rows if r["case"] == name]
        base = {r["impl"]: r for r in case_rows if "error" not in r}
        for r in case_rows:
            if "error" in r:
                continue
            for ref in ("eager-roll", "eager-conv", "cudnn-rnn"):
                if ref in base:
                    r[f"speedup_fwdbwd_vs_{ref}"] = base[ref]["fwdbwd_ms"] / r["fwdbwd_ms"]
                    r[f"speedup_fwd_vs_{ref}"] = base[ref]["fwd_ms"] / r["fwd_ms"]
    dev = torch.cuda.get_device_name(0)
    print(f"device: {dev}; torch {torch.__version__}")
    hdr = (f"{'case':<12} {'impl':<11} {'fwd ms':>9} {'fwd+bwd ms':>11} {'peak MiB':>9} {'err hs':>8} {'err gz':>8} "
           f"{'err gw':>8} {'HBM% f+b':>8}")
    print(hdr)
    for r in rows:
        if "error" in r:
            print(f"{r['case']:<12} {r['impl']:<11} FAILED: {r['error'][:200]}")
            continue
        fmt = lambda v: f"{v:8.1e}" if v is not None else "     n/a"  # noqa: E731
        print(f"{r['case']:<12} {r['impl']:<11} {r['fwd_ms']:9.2f} {r['fwdbwd_ms']:11.2f} {r['peak_extra_MiB']:9.0f} "
              f"{fmt(r['err_hs'])} {fmt(r['err_grad_z'])} {fmt(r['err_grad_w'])} {100 * r['roofline_fwdbwd']:7.1f}%")
    for r in rows:
        if r["impl"] == "triton" and "error" not in r:
            sp = {k: round(v, 1) for k, v in r.items() if k.startswith("speedup")}
            print(f"{r['case']}: triton speedups {sp}")
    if a.out:
        a.out.write_text(json.dumps({"device": dev, "torch": torch.__version__, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
