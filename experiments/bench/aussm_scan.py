"""Benchmark of the fused AUSSM scan against the float64 oracle; prints a Markdown table.

For every shape (b, d, n, L): forward and forward+backward time (CUDA events, warm-ups, median of
``--reps``), extra peak memory, forward error against the float64 polar oracle with the official
*unscaled* test distribution (u in {0, 1}, W_A and b_A ~ N(0, 1) unscaled, dt ~ N(0,1), z ~ N(0,1); drawn in
float32 and upcast, so the oracle sees exactly the kernel's inputs and the error is the kernel's own) and
-- where ``--grads`` covers the shape -- the largest relative gradient error over all inputs. A
roofline column gives the binding bound among HBM bytes (3.0 TB/s), sin+cos on the SFU (4.2e12/s) and
the phase projection on tensor cores (TF32 ≈ 400 TFLOP/s dense; ×3 for 3×TF32; fp32 SIMT 67 TFLOP/s
for ``precise``); these are estimated peak rates, not measured here.

Usage::

    python -m experiments.bench.aussm_scan                 # the issue's shapes on CUDA
    python -m experiments.bench.aussm_scan --tiny          # a seconds-long smoke run (CPU interpreter ok)
    python -m experiments.bench.aussm_scan --json out.json --precision fast precise
    python -m experiments.bench.aussm_scan --shapes '8,128,64,4096' --chunk 16 32 64 --num-warps 4 8 --no-grads
    python -m experiments.bench.aussm_scan --official .official/extension-cpp   # + the official op, same inputs
"""
from __future__ import annotations

import argparse
import json
import torch

from networks.aussm import aussm_scan, scan_polar
from networks.aussm.reference import polar

from .timing import peak_extra_mib, time_ms

ISSUE_SHAPES = [(16, 32, 64, 2048), (8, 128, 64, 4096), (4, 128, 16, 16384), (64, 64, 16, 2048),
                (16, 32, 64, 512), (16, 32, 64, 128)]
GRAD_SHAPES = [(16, 32, 64, 2048), (2, 32, 16, 16384)]
ACT = (0, 1, 7)  # indices of the (b, L, d) activations among (u, dt, W_A, b_A, B, C, D, z)
HBM, SFU, TF32, FP32 = 3.0e12, 4.2e12, 4.0e14, 6.7e13


def make_inputs(b, d, n, L, device, gen, dtype=torch.float32, raw=False):
    """The official test distribution (unscaled phases): returns the aussm_scan positional args and z.

    B and C are drawn as the official benchmark draws them, raw complex N(0, 1) parameters read in polar form
    (B̃ = softplus(Re B)·e^{i Im B}); our op receives B̃, the official op the raw parameters. With ``raw=True``
    also returns those raw parameters ``(B, C)`` as complex64.
    """
    def rn(*s):  # float32 values (what the kernel sees), held in float64 for the oracle
        return torch.randn(*s, generator=gen).double().to(device)
    u = (torch.rand(b, L, d, generator=gen) < 0.5).double().to(device)
    dt = rn(b, L, d)
    z = rn(b, L, d)
    W = rn(d, n, d)
    bA = rn(d, n)
    Bp = torch.complex(rn(n), rn(n))
    Cp = torch.complex(rn(n), rn(n))
    Dk = rn(d)
    args64 = [u, dt, W, bA, polar(Bp), polar(Cp), Dk, z]
    args = [x.to(torch.complex64) if x.is_complex() else x.to(dtype if k in ACT else torch.float32)
            for k, x in enumerate(args64)]
    if raw:
        return args, args64, (Bp.to(torch.complex64), Cp.to(torch.complex64))
    return args, args64


def oracle64(args64, bchunk=2):
    """Float64 polar oracle, batched in groups to bound memory."""
    u, dt, W, bA, Bc, Cc, Dk, z = args64
    ys = [scan_polar(u[i:i + bchunk], dt[i:i + bchunk], W, bA, Bc, Cc, Dk, z=z[i:i + bchunk])[0]
          for i in range(0, u.shape[0], bchunk)]
    return torch.cat(ys, 0)


def roofline_ms(b, d, n, L, precision, backward=False):
    es = b * L * d * n
    hbm = 16.0 * b * L * d / HBM
    sfu = 2.0 * es / SFU
    flops = 2.0 * d * es
    proj = flops * 3 / TF32 if precision == "fast" else (flops / FP32 if precision == "precise" else flops / TF32)
    parts = {"hbm": hbm, "sfu": sfu, "proj": proj}
    if backward:  # recompute fwd + dtheta (B,L,D,N) write/read + two fp32 GEMMs of 2*D flops/element-state
        parts = {"hbm": hbm * 2 + 8.0 * es / HBM, "sfu": 2 * sfu, "proj": 2 * proj + 2 * flops / FP32}
    key = max(parts, key=parts.get)
    return parts[key] * 1e3, key


def grad_error(shape, precision, device, gen, chunk):
    b, d, n, L = shape
    args, args64 = make_inputs(b, d, n, L, device, gen)
    args = [a.clone().requires_grad_(True) for a in args]
    y, _ = aussm_scan(*args[:7], z=args[7], backend="triton", precision=precision, chunk=chunk)
    gy = torch.randn(y.shape, generator=gen).to(device)
    grads = torch.autograd.grad((y * gy).sum(), args)
    ref = [torch.zeros_like(a) for a in args64]
    for i in range(0, b, 2):
        a64 = [x[i:i + 2].clone().requires_grad_(True) if k in ACT else x.clone().requires_grad_(True)
               for k, x in enumerate(args64)]
        y64, _ = scan_polar(*a64[:7], z=a64[7])
        gs = torch.autograd.grad((y64 * gy[i:i + 2].double()).sum(), a64)
        for k, g in enumerate(gs):
            if k in ACT:
                ref[k][i:i + 2] = g
            else:
                ref[k] += g
    names = ["u", "dt", "W_A", "b_A", "B", "C", "D", "z"]
    errs = {nm: float((g.to(r.dtype) - r).abs().max() / r.abs().max().clamp_min(1e-30))
            for nm, g, r in zip(names, grads, ref)}
    return max(errs.values()), errs


def run(shapes, precisions, reps, warmup, device, chunk, grads, seed=0, chunks=None, warps=None, official=None):
    """Measure every shape × precision × chunk size (``chunks``) × warps per program (``warps``); with
    ``official`` (the module from :func:`experiments.bench.aussm_official_op.load`) also the official op on the same
    inputs, one row per shape."""
    from networks.aussm import triton_scan
    gen = torch.Generator().manual_seed(seed)
    rows = []
    chunks = list(chunks) if chunks else [chunk]
    warps = list(warps) if warps else [triton_scan.NUM_WARPS["fwd"]]
    saved = dict(triton_scan.NUM_WARPS)
    for shape in shapes:
        b, d, n, L = shape
        args, args64, raw = make_inputs(b, d, n, L, device, gen, raw=True)
        y64 = oracle64(args64)
        ymax = float(y64.abs().max())
        del args64
        if official is not None:
            try:
                rows.append(official_row(official, shape, args, raw, y64, ymax, reps, warmup, device, gen))
                print(json.dumps(rows[-1]), flush=True)
            except Exception as e:  # the official op has its own limits; keep measuring ours
                print(json.dumps({"shape": shape, "impl": "official", "error": f"{type(e).__name__}: {e}"}),
                      flush=True)
        for prec in precisions:
            for ch in chunks:
                for nw in warps:
                    triton_scan.NUM_WARPS.update(fwd=nw, bwd=nw)
                    try:
                        row = _row(shape, prec, args, y64, ymax, reps, warmup, device, ch, grads, gen)
                        row.update(chunk=ch, num_warps=nw)
                        rows.append(row)
                        print(json.dumps(rows[-1]), flush=True)
                    except Exception as e:  # keep measuring the other cases; the failure is printed
                        print(json.dumps({"shape": shape, "precision": prec, "chunk": ch, "num_warps": nw,
                                          "error": f"{type(e).__name__}: {e}"}), flush=True)
                    finally:
                        triton_scan.NUM_WARPS.update(saved)
        del y64
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return rows


def _row(shape, prec, args, y64, ymax, reps, warmup, device, chunk, grads, gen):
    b, d, n, L = shape
    leaf = [a.clone().requires_grad_(True) for a in args]
    gy = torch.randn(b, L, d, generator=gen).to(device)

    def fwd():
        return aussm_scan(*leaf[:7], z=leaf[7], backend="triton", precision=prec, chunk=chunk)[0]

    def fwdbwd():
        fwd().backward(gy)
    with torch.no_grad():
        y = aussm_scan(*args[:7], z=args[7], backend="triton", precision=prec, chunk=chunk)[0]
    err = float((y.double() - y64).abs().max())
    row = _timed(shape, fwd, fwdbwd, leaf, reps, warmup, device)
    rf, kf = roofline_ms(b, d, n, L, prec)
    rb, kb = roofline_ms(b, d, n, L, prec, backward=True)
    row.update(precision=prec, err=err, max_abs_y=ymax, rel_err=err / ymax, roof_fwd_ms=rf, roof_fwd_bound=kf,
               roof_fwd_frac=rf / row["fwd_ms"], roof_fwdbwd_ms=rb, roof_fwdbwd_bound=kb,
               roof_fwdbwd_frac=rb / row["fwdbwd_ms"])
    if grads and tuple(shape) in [tuple(s) for s in GRAD_SHAPES]:
        row["grad_rel_err"], row["grad_errs"] = grad_error(shape, prec, device, gen, chunk)
    return row


def _timed(shape, fwd, fwdbwd, leaf, reps, warmup, device):
    """Times and extra memory of one implementation: ``fwd`` (grad enabled) and ``fwdbwd``."""
    t_f, pf = time_ms(fwd, max(1, reps), warmup, device)
    t_fb, pfb = time_ms(fwdbwd, max(1, reps), warmup, device)
    for a in leaf:
        a.grad = None
    m_f = peak_extra_mib(fwd, device)
    m_fb = peak_extra_mib(fwdbwd, device)
    for a in leaf:
        a.grad = None
    return dict(shape=shape, fwd_ms=t_f, fwd_p10_p90=pf, fwdbwd_ms=t_fb, fwdbwd_p10_p90=pfb, mem_fwd_mib=m_f,
                mem_fwdbwd_mib=m_fb)


def official_row(ops, shape, args, raw, y64, ymax, reps, warmup, device, gen):
    """The official op (``ops`` from :func:`experiments.bench.aussm_official_op.load`) on the same inputs, in its own
    ``(b, d, L)`` layout (the transposes are outside the timed calls): times, extra memory and error."""
    from .aussm_official_op import to_official
    b, d, n, L = shape
    u, dt, W, bA, _, _, Dk, z = args
    off = [a.detach().clone() for a in to_official(u, dt, W, bA, raw[0], raw[1], Dk, z)]
    leaf = [a.requires_grad_(True) for a in off]
    gy = torch.randn(b, d, L, generator=gen).to(device)

    def fwd():
        return ops.ssm_adaptive_interface(*leaf, unitary=True)

    def fwdbwd():
        fwd().backward(gy)
    with torch.no_grad():
        y = ops.ssm_adaptive_interface(*off, unitary=True).transpose(1, 2)
    err = float((y.double() - y64).abs().max())
    row = _timed(shape, fwd, fwdbwd, leaf, reps, warmup, device)
    row.update(impl="official", precision="official", err=err, max_abs_y=ymax, rel_err=err / ymax)
    return row


def table(rows) -> str:
    head = ("| b, d, n, L | mode | chunk, warps | fwd ms | fwd+bwd ms | extra MiB fwd / fwd+bwd | max err / max|y| "
            "| grad rel err | roofline fwd (bound) |\n|---|---|---|---|---|---|---|---|---|")
    out = [head]
    for r in rows:
        g = f"{r['grad_rel_err']:.1e}" if "grad_rel_err" in r else "–"
        if "error" in r:
            continue
        official = r.get("impl") == "official"
        cfg = "–" if official else f"{r.get('chunk', 0) or 'auto'}, {r.get('num_warps', 4)}"
        roof = "–" if official else f"{100 * r['roof_fwd_frac']:.0f}% ({r['roof_fwd_bound']})"
        out.append(f"| {', '.join(map(str, r['shape']))} | {r['precision']} | {cfg} | {r['fwd_ms']:.3f} "
                   f"| {r['fwdbwd_ms']:.3f} | {r['mem_fwd_mib']:.0f} / {r['mem_fwdbwd_mib']:.0f} | {r['rel_err']:.1e} "
                   f"| {g} | {roof} |")
    return "\n".join(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tiny", action="store_true", help="a few tiny shapes (smoke test; CPU interpreter ok)")
    p.add_argument("--precision", nargs="+", default=["fast", "precise"], choices=["fast", "precise", "tf32"])
    p.add_argument("--reps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--chunk", type=int, nargs="+", default=[0], help="steps per chunk, one or more (0: automatic)")
    p.add_argument("--num-warps", type=int, nargs="+", default=None, help="warps per program to sweep (default 4)")
    p.add_argument("--shapes", default=None, help="e.g. '8,128,64,4096;4,128,16,16384' (default: the issue's)")
    p.add_argument("--no-grads", action="store_true", help="skip the float64 gradient comparison")
    p.add_argument("--json", default=None, help="also write the rows to this JSON file")
    p.add_argument("--official", default=None, metavar="DIR",
                   help="also time the official CUDA op, built from this local copy of its 'extension-cpp' folder "
                        "(see experiments.bench.aussm_official_op; never committed)")
    p.add_argument("--official-build", default="/tmp/aussm_official", metavar="DIR",
                   help="scratch folder for building the official op (reused when already built)")
    p.add_argument("--dtheta-mib", type=float, default=None,
                   help="backward dθ slab budget in MiB (default: the module's DTHETA_BUDGET_BYTES)")
    a = p.parse_args(argv)
    if a.dtheta_mib is not None:
        from networks.aussm import triton_scan
        if a.dtheta_mib <= 0:
            p.error("--dtheta-mib must be positive")
        triton_scan.DTHETA_BUDGET_BYTES = int(a.dtheta_mib * 2**20)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    shapes = [(2, 4, 3, 40), (1, 8, 16, 70)] if a.tiny else ISSUE_SHAPES
    if a.shapes:
        shapes = [tuple(int(x) for x in s.split(",")) for s in a.shapes.split(";")]
    reps, warm = (1, 0) if a.tiny else (a.reps, a.warmup)
    import triton
    print(f"# torch {torch.__version__}, triton {triton.__version__}, device "
          f"{torch.cuda.get_device_name(0) if device.type == 'cuda' else 'cpu'}", flush=True)
    official = None
    if a.official:
        from . import aussm_official_op as official_op
        if device.type != "cuda":
            p.error("--official needs a CUDA device (the official op is CUDA-only)")
        official = official_op.load(official_op.build(a.official, a.official_build))
    rows = run(shapes, a.precision, reps, warm, device, a.chunk[0], not a.no_grads and not a.tiny,
               chunks=a.chunk, warps=a.num_warps, official=official)
    if a.tiny and not a.no_grads:
        for k, pr in enumerate(a.precision):
            rows[k]["grad_rel_err"], _ = grad_error((2, 4, 3, 40), pr, device, torch.Generator().manual_seed(1),
                                                    a.chunk[0])
    print(table(rows))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return rows


if __name__ == "__main__":
    main()
