"""Extra memory of the fused AUSSM op for forward and forward+backward, measured on a CPU.

The fused op allocates all of its memory on the host side: the Triton kernels only write into tensors
that the Python code has allocated. This script runs the host code of ``aussm_scan`` (forward, then
backward) at a real shape with both kernels replaced by stubs. Each stub only writes its output
arguments, so the pages are touched. It then reads the process's resident memory.

The script runs in a fresh process with ``MALLOC_MMAP_THRESHOLD_=131072``, which makes every large block
a private mapping that is returned to the OS when freed. The resident peak then tracks the live tensors.

Calibration: at (8, 128, 64, 4096) the kernel as measured on the H100 (2026-11-22) gives 113 / 392 MiB
here, against 113 / 396 MiB from ``torch.cuda.max_memory_allocated`` on the GPU.

Usage::

    python -m experiments.bench.aussm_memory                      # (8, 128, 64, 4096)
    python -m experiments.bench.aussm_memory --shape 4,128,16,16384 --dtheta-mib 16 32 64

Example
-------
>>> rows = main(["--shape", "2,8,4,256"])                            # doctest: +SKIP
>>> sorted(rows[0])                                                  # doctest: +SKIP
['dtheta_mib', 'fwd_mib', 'fwdbwd_mib', 'shape']
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

_CHILD = "_SEQPLASTIC_AUSSM_MEM_CHILD"


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _child(shape, dtheta_mib: int) -> dict:
    import inspect
    import threading
    import time

    import torch

    from networks.aussm import ops

    torch.set_num_threads(1)
    ts = ops._triton_module()

    class _Stub:
        def __init__(self, fn, outs):
            names = list(inspect.signature(fn.fn).parameters)
            self.idx = [names.index(o) for o in outs if o in names]

        def __getitem__(self, grid):
            def run(*args, **kwargs):
                for i in self.idx:
                    args[i].fill_(0.0)
            return run

    ts._aussm_fwd_kernel = _Stub(ts._aussm_fwd_kernel, ["y_ptr", "ht_ptr", "carry_ptr"])
    ts._aussm_bwd_kernel = _Stub(ts._aussm_bwd_kernel, ["dcarry_ptr", "dtheta_ptr", "du_ptr", "ddt_ptr", "dz_ptr",
                                                        "dpar_ptr", "carry_ptr"])
    ts.DTHETA_BUDGET_BYTES = dtheta_mib * 2**20
    b, d, n, L = shape
    g = torch.Generator().manual_seed(0)
    act = lambda: torch.randn(b, L, d, generator=g).requires_grad_(True)  # noqa: E731
    u, dt, z = act(), act(), act()
    params = [torch.randn(d, n, d, generator=g), torch.randn(d, n, generator=g),
              torch.randn(n, dtype=torch.complex64, generator=g), torch.randn(n, dtype=torch.complex64, generator=g),
              torch.randn(d, generator=g)]
    for p in params:
        p.requires_grad_(True)
    gy = torch.randn(b, L, d, generator=g)
    kw = dict(backend="triton", check_finite=False)
    # warm-up at a short length: initialises autograd and op caches without a high resident peak
    small = [t.detach()[:1, :32].clone().requires_grad_(True) for t in (u, dt, z)]
    ys, _ = ops.aussm_scan(small[0], small[1], *params, z=small[2], **kw)
    ys.sum().backward()
    for p in params:
        p.grad = None
    base = _rss()
    samples, stop = [base], threading.Event()

    def sampler():                      # torch ops release the GIL, so this sees the peaks inside them
        while not stop.is_set():
            samples.append(_rss())
            time.sleep(0.0002)

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    try:
        y, _ = ops.aussm_scan(u, dt, *params, z=z, **kw)
        fwd = _rss() - base
        y.backward(gy)
    finally:
        stop.set()
        th.join()
    samples.append(_rss())
    return {"shape": list(shape), "dtheta_mib": dtheta_mib, "fwd_mib": fwd / 2**20,
            "fwdbwd_mib": (max(samples) - base) / 2**20}


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shape", default="8,128,64,4096", help="b,d,n,L")
    p.add_argument("--dtheta-mib", type=int, nargs="+", default=None,
                   help="dθ slab budgets to measure (default: the module's current budget)")
    a = p.parse_args(argv)
    shape = tuple(int(x) for x in a.shape.split(","))
    if len(shape) != 4 or min(shape) < 1:
        raise SystemExit(f"--shape must be four positive integers b,d,n,L; got {a.shape!r}")
    if os.environ.get(_CHILD):
        print(json.dumps(_child(shape, a.dtheta_mib[0])))
        return []
    from networks.aussm import triton_scan
    budgets = a.dtheta_mib or [triton_scan.DTHETA_BUDGET_BYTES // 2**20]
    env = dict(os.environ, TRITON_INTERPRET="1", MALLOC_MMAP_THRESHOLD_="131072", **{_CHILD: "1"})
    rows = []
    print("| b, d, n, L | dθ slab MiB | extra MiB fwd | extra MiB fwd+bwd |\n|---|---|---|---|")
    for mib in budgets:
        out = subprocess.run([sys.executable, "-m", "experiments.bench.aussm_memory", "--shape", a.shape,
                              "--dtheta-mib", str(mib)], env=env, capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"| {a.shape} | {mib} | {row['fwd_mib']:.0f} | {row['fwdbwd_mib']:.0f} |", flush=True)
    return rows


if __name__ == "__main__":
    main()
