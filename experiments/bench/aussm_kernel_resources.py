"""Compile the fused AUSSM kernels for an NVIDIA architecture **without a GPU** and report their resources.

Triton can lower a kernel all the way to a cubin for a given target on a CPU-only machine (it ships its own
``ptxas``). That catches GPU-only compile errors the CPU interpreter cannot see, and ``ptxas -v`` reports
registers per thread, spill stores and shared memory -- a static proxy for occupancy and for the latency the
kernel will have, which matters most on machines where no GPU is available to time it.

Usage::

    python -m experiments.bench.aussm_kernel_resources                       # issue shapes, fast + precise, 4/8 warps
    python -m experiments.bench.aussm_kernel_resources --dn 128,64 --warps 4 8 --precision fast

Example
-------
>>> rows = compile_resources(8, 4, "fast", num_warps=4)                # doctest: +SKIP
>>> sorted(rows)                                                       # doctest: +SKIP
['bwd', 'fwd']
"""
from __future__ import annotations

import argparse
import os

PRECISIONS = {"fast": ("tf32x3", True, False), "precise": ("ieee", False, True)}


def compile_resources(D: int, N: int, precision: str = "fast", *, num_warps: int = 4, arch: int = 90,
                      chunk: int | None = None, with_ptxas: bool = True) -> dict:
    """Compile forward and backward for ``(D, N)`` on ``sm_<arch>``; returns ``{"fwd": {...}, "bwd": {...}}``
    with ``shared_bytes`` and (``with_ptxas``) ``registers`` and ``spill_store_bytes`` per kernel.

    Raises whatever Triton raises when a kernel does not compile for that target."""
    from networks.aussm import triton_scan as ts

    from .kernel_compile import compile_for_gpu

    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r} is not one of {list(PRECISIONS)}")
    prec, fast_trig, precise = PRECISIONS[precision]
    cfg = ts.config(D, N, chunk)
    base = dict(T=cfg["T"], BN=cfg["BN"], BK=cfg["BK"], PREC=prec, FAST_TRIG=fast_trig, HAS_Z=True, PRECISE=precise)
    out = {}
    kernels = (("fwd", ts._aussm_fwd_kernel, dict(base, HAS_H0=True)), ("bwd", ts._aussm_bwd_kernel, base))
    for name, fn, consts in kernels:
        row = compile_for_gpu(fn, consts, num_warps=num_warps, arch=arch, pointer_types={"starts_ptr": "*i32"},
                              with_ptxas=with_ptxas)
        out[name] = {**row, **cfg, "num_warps": num_warps}
    return out


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dn", nargs="+", default=["128,64", "128,16", "32,64", "64,16"], help="D,N pairs")
    p.add_argument("--precision", nargs="+", default=["fast", "precise"], choices=list(PRECISIONS))
    p.add_argument("--warps", type=int, nargs="+", default=[4, 8])
    p.add_argument("--arch", type=int, default=90)
    a = p.parse_args(argv)
    os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")
    rows = []
    print("| D, N | mode | warps | T, BN, BK | fwd regs / spill B / smem B | bwd regs / spill B / smem B |")
    print("|---|---|---|---|---|---|")
    for dn in a.dn:
        D, N = (int(x) for x in dn.split(","))
        for prec in a.precision:
            for w in a.warps:
                r = compile_resources(D, N, prec, num_warps=w, arch=a.arch)
                f, b = r["fwd"], r["bwd"]
                print(f"| {D}, {N} | {prec} | {w} | {f['T']}, {f['BN']}, {f['BK']} | {f['registers']} / "
                      f"{f['spill_store_bytes']} / {f['shared_bytes']} | {b['registers']} / {b['spill_store_bytes']} / "
                      f"{b['shared_bytes']} |", flush=True)
                rows.append({"D": D, "N": N, "precision": prec, **r})
    return rows


if __name__ == "__main__":
    main()
