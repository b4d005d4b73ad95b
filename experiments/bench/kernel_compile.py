"""Compile a Triton kernel for an NVIDIA GPU on a machine without one, and read its resources.

Triton lowers a ``@triton.jit`` function all the way to a cubin for an explicit target using its own
``ptxas``, so GPU-only compile errors (layouts, unsupported ops, shared-memory overflow) show up on a CPU-only
machine, which the CPU interpreter cannot do. ``ptxas -v`` then gives registers per thread, spill stores and
shared memory, a static proxy for occupancy. Pointer arguments are taken as ``*fp32`` unless named in
``pointer_types``; other non-constexpr arguments as ``i32``.

Example
-------
>>> from networks.waves import scan_triton                                # doctest: +SKIP
>>> r = compile_for_gpu(scan_triton._ring_fwd_kernel, dict(ACT=0, CP=8, NP=128))  # doctest: +SKIP
>>> sorted(r)                                                             # doctest: +SKIP
['registers', 'shared_bytes', 'spill_store_bytes']
"""
from __future__ import annotations

import inspect
import os
import re
import subprocess
import tempfile


def _signature(fn, constexprs: dict, pointer_types: dict | None) -> dict:
    types = dict(pointer_types or {})
    sig = {}
    for name in inspect.signature(fn.fn).parameters:
        if name in constexprs:
            sig[name] = "constexpr"
        elif name in types:
            sig[name] = types[name]
        elif name.endswith("_ptr"):
            sig[name] = "*fp32"
        else:
            sig[name] = "i32"
    return sig


def ptxas_usage(ptx: str, arch: int = 90) -> dict:
    """Registers and spill-store bytes that Triton's ``ptxas`` reports for ``ptx`` on ``sm_<arch>a``."""
    from triton.backends.nvidia.compiler import get_ptxas
    with tempfile.NamedTemporaryFile("w", suffix=".ptx", delete=False) as fh:
        fh.write(ptx)
        path = fh.name
    try:
        out = subprocess.run([get_ptxas(arch).path, "--regAllocOptLevel=2", f"-arch=sm_{arch}a", "-v", path,
                              "-o", os.devnull], capture_output=True, text=True, check=True).stderr
    finally:
        os.unlink(path)
    regs = re.search(r"Used (\d+) registers", out)
    spill = re.search(r"(\d+) bytes spill stores", out)
    return {"registers": int(regs.group(1)) if regs else None,
            "spill_store_bytes": int(spill.group(1)) if spill else None}


def compile_for_gpu(fn, constexprs: dict, *, num_warps: int = 4, arch: int = 90, pointer_types: dict | None = None,
                    with_ptxas: bool = True) -> dict:
    """Compile ``fn`` with ``constexprs`` for ``sm_<arch>``; returns ``shared_bytes`` (+ ``registers``,
    ``spill_store_bytes`` with ``with_ptxas``). Raises whatever Triton raises if it does not compile."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    k = triton.compile(ASTSource(fn=fn, signature=_signature(fn, constexprs, pointer_types), constexprs=constexprs),
                       target=GPUTarget("cuda", arch, 32), options={"num_warps": num_warps})
    out = {"shared_bytes": int(k.metadata.shared)}
    if with_ptxas:
        out.update(ptxas_usage(k.asm["ptx"], arch))
    return out
