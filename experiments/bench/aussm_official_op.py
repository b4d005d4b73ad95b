r"""The official AUSSM CUDA op, built from a local copy and called on our inputs, for side-by-side benchmarks.

The official kernel (arjunkaruvally/AUSSM, ``extension-cpp/``) is **never part of this project**: fetch the
repository yourself, export its ``extension-cpp`` folder somewhere (this repo ignores ``.official/``), and
point :func:`build` (or ``aussm_scan --official DIR``) at it. :func:`build` copies the folder to a scratch
directory, applies the two source edits that CUDA 13's CCCL 3 needs (``cub::LaneId()`` and ``cub::CTA_SYNC()``
were removed), and compiles it in place for one architecture.

Conventions of the official interface (``extension_cpp/ops.py`` at commit 7b94b83), which :func:`to_official` maps our
arguments onto:

* activations ``u, dt, z`` are ``(b, d, L)`` (time fastest); ours are ``(b, L, d)``;
* ``B, C`` are the *raw* complex parameters; the interface reads them in polar form,
  :math:`\tilde B = \mathrm{softplus}(\mathrm{Re}\,B)\,e^{i\,\mathrm{Im}\,B}` (ours take :math:`\tilde B`
  itself, see :func:`networks.aussm.reference.polar`);
* ``x = W_A`` ``(d, n, d)``, ``x_bias = b_A`` ``(d, n)``, ``D`` ``(d,)``: the same as ours;
* the interface pads L to a multiple of 16 and loops over 2048-step chunks in Python, carrying the state.

:func:`official_layout_oracle` is our own float64 reading of that interface (our polar oracle behind the
layout and parameter mapping); the tests check it against :func:`networks.aussm.reference.scan_polar` and,
where a local copy of the official Python reference exists, against that too.

Example
-------
>>> import torch
>>> from networks.aussm import scan_polar
>>> from networks.aussm.reference import polar
>>> g = torch.Generator().manual_seed(0)
>>> b, d, n, L = 2, 3, 4, 5
>>> u, dt, z = (torch.randn(b, L, d, generator=g, dtype=torch.float64) for _ in range(3))
>>> W, bA = torch.randn(d, n, d, generator=g, dtype=torch.float64), torch.randn(d, n, generator=g, dtype=torch.float64)
>>> Bp, Cp = (torch.randn(n, generator=g, dtype=torch.complex128) for _ in range(2))
>>> Dk = torch.randn(d, generator=g, dtype=torch.float64)
>>> y_off = official_layout_oracle(*to_official(u, dt, W, bA, Bp, Cp, Dk, z))      # (b, d, L)
>>> y, _ = scan_polar(u, dt, W, bA, polar(Bp), polar(Cp), Dk, z=z)                 # (b, L, d)
>>> torch.allclose(y_off.transpose(1, 2), y, atol=1e-12)
True
"""
from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from networks.aussm.reference import polar, scan_polar

#: source edits needed by CUDA 13 (CCCL 3 removed these two cub helpers); (old, new) pairs
CCCL3_EDITS = (("cub::LaneId()", "::cuda::ptx::get_sreg_laneid()"), ("cub::CTA_SYNC();", "__syncthreads();"))
PATCHED_FILE = Path("extension_cpp/csrc/cuda/reverse_scan.h")


def find_source(path: str | os.PathLike) -> Path:
    """The official ``extension-cpp`` folder at ``path`` (or ``path/extension-cpp``); a clear error otherwise."""
    p = Path(path)
    for cand in (p, p / "extension-cpp"):
        if (cand / "setup.py").is_file() and (cand / "extension_cpp").is_dir():
            return cand
    raise FileNotFoundError(
        f"{p} is not the official AUSSM 'extension-cpp' folder (expected setup.py and extension_cpp/ in it or in "
        f"{p / 'extension-cpp'}). Fetch github.com/arjunkaruvally/AUSSM and export that folder (never commit it).")


def patch_cccl3(text: str) -> tuple[str, int]:
    """Apply :data:`CCCL3_EDITS` to a source text; returns ``(new_text, number_of_replacements)``.

    >>> patch_cccl3("lane_id(cub::LaneId()); cub::CTA_SYNC(); // cub::CTA_SYNC();")
    ('lane_id(::cuda::ptx::get_sreg_laneid()); __syncthreads(); // __syncthreads();', 3)
    """
    count = 0
    for old, new in CCCL3_EDITS:
        count += text.count(old)
        text = text.replace(old, new)
    return text, count


def build(src: str | os.PathLike, scratch: str | os.PathLike, arch: str = "9.0", jobs: int = 16,
          timeout_s: float = 900.0, log=print) -> Path:
    """Copy the official extension to ``scratch``, patch it for CCCL 3 and build it in place; returns the
    directory to import ``extension_cpp`` from. Reuses an earlier build in ``scratch`` (a ``.so`` present)."""
    src = find_source(src)
    dst = Path(scratch) / "extension-cpp"
    if list(dst.glob("extension_cpp/_C*.so")):
        return dst
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    f = dst / PATCHED_FILE
    if f.is_file():
        text, count = patch_cccl3(f.read_text())
        f.write_text(text)
        log(f"official op: {count} CCCL-3 edits in {PATCHED_FILE}")
    env = dict(os.environ, TORCH_CUDA_ARCH_LIST=arch, MAX_JOBS=str(jobs))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=dst, env=env,
                          capture_output=True, text=True, timeout=timeout_s)
    (dst / "build.log").write_text(proc.stdout + "\n" + proc.stderr)
    if proc.returncode != 0 or not list(dst.glob("extension_cpp/_C*.so")):
        raise RuntimeError(f"building the official op failed (rc={proc.returncode}); last lines:\n"
                           + "\n".join((proc.stdout + proc.stderr).splitlines()[-25:]))
    log(f"official op: built in {time.perf_counter() - t0:.0f} s ({dst})")
    return dst


def load(built: str | os.PathLike):
    """Import ``extension_cpp.ops`` from a built folder; returns the module (``ssm_adaptive_interface`` and
    the Python references live there)."""
    built = str(Path(built).resolve())
    if built not in sys.path:
        sys.path.insert(0, built)
    return importlib.import_module("extension_cpp.ops")


def to_official(u, dt, W_A, b_A, B_param, C_param, D, z):
    """Our layout → the official interface's positional arguments ``(u, dt, x, x_bias, B, C, D, z)``.

    ``u, dt, z`` ``(b, L, d)`` become contiguous ``(b, d, L)``; ``B_param, C_param`` are the raw polar
    parameters (our kernels take ``polar(B_param)``); weights pass through.
    """
    t = [a.transpose(1, 2).contiguous() for a in (u, dt, z)]
    return t[0], t[1], W_A, b_A, B_param, C_param, D, t[2]


def official_layout_oracle(u, dt, x, x_bias, B, C, D, z):
    """Our float64 reading of the official interface: ``(b, d, L)`` in, ``(b, d, L)`` out, ``B, C`` raw polar
    parameters (see the module docstring). Computed in the inputs' precision by
    :func:`networks.aussm.reference.scan_polar`."""
    y, _ = scan_polar(u.transpose(1, 2), dt.transpose(1, 2), x, x_bias, polar(B), polar(C), D, z=z.transpose(1, 2))
    return y.transpose(1, 2)

