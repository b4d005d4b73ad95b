"""``python -m experiments diagnose``: versions, usable backends, a smoke test of each, one verdict per backend.

First the table of :mod:`networks.backends`: for each network family (gsemm, aussm, waves), each backend its
``backend=`` accepts, whether it is available on this machine and why (:func:`backend_table`). Then the
smoke tests. Backends: torch CPU, torch CUDA, the GSEMM native C backend, the fused Triton kernel (interpreter on a CPU,
compiled on a GPU) and the Brian2 targets ``runtime``, ``cpp_standalone`` and ``cuda_standalone``. Each
smoke test is a tiny computation checked against a reference (the dense torch path, or the analytic
solution of a leaky integrator for Brian2); Triton and Brian2 run in a subprocess so that
``TRITON_INTERPRET`` and Brian2's device state do not leak. Verdicts: ``OK (details)``,
``UNAVAILABLE: reason and fix`` or ``FAILED: error``.

Example
-------
>>> v = check("torch-cpu")
>>> v.status
'OK'
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from typing import Callable

#: seconds allowed for one backend's subprocess (standalone targets include a C++/CUDA compile)
TIMEOUT = 120.0


class Unavailable(Exception):
    """The backend cannot be used here; the message says why and how to get it."""


@dataclass(frozen=True)
class Verdict:
    """Outcome of one backend's smoke test: ``status`` is OK, UNAVAILABLE or FAILED."""

    backend: str
    status: str
    detail: str
    seconds: float

    def line(self) -> str:
        """The printed verdict line.

        >>> Verdict("x", "OK", "fine", 0.5).line()
        'x                  OK (fine; 0.5 s)'
        """
        if self.status == "OK":
            return f"{self.backend:<18} OK ({self.detail}; {self.seconds:.1f} s)"
        return f"{self.backend:<18} {self.status}: {self.detail}"


def versions() -> dict[str, str]:
    """Versions of the library, Python, torch, CUDA, Triton, Brian2 and brian2cuda (``-`` when absent).

    >>> list(versions())[:3]
    ['seqplastic', 'Python', 'torch']
    """
    from importlib.metadata import PackageNotFoundError, version
    import torch

    def ver(dist: str) -> str:
        try:
            return version(dist)
        except PackageNotFoundError:
            return "-"

    return {"seqplastic": ver("seqplastic"), "Python": platform.python_version(), "torch": torch.__version__,
            "CUDA (torch build)": str(torch.version.cuda or "- (CPU build)"), "Triton": ver("triton"),
            "Brian2": ver("brian2"), "brian2cuda": ver("brian2cuda"), "numpy": ver("numpy"),
            "Ray": ver("ray"), "platform": platform.platform()}


def backend_table() -> list[tuple[str, str, bool, str]]:
    """``(family, backend, available, reason)`` for every backend of every family, from the same table the
    libraries resolve ``backend=`` with (:func:`networks.backends.table`); never raises.

    >>> rows = backend_table()
    >>> ("gsemm", "dense", True) in [r[:3] for r in rows] and {r[0] for r in rows} == {"gsemm", "aussm", "waves"}
    True
    """
    import importlib
    from networks import backends
    rows = []
    for mod in backends.FAMILY_MODULES:
        try:
            importlib.import_module(mod)
        except Exception as e:
            rows.append((mod, "-", False, f"{type(e).__name__}: {e}"))
    for name, fam in backends.FAMILIES.items():
        for b in fam.backends[1:]:
            try:
                ok, why = fam.availability(b)
            except Exception as e:
                ok, why = False, f"{type(e).__name__}: {e}"
            rows.append((name, b, bool(ok), " ".join(str(why).split())))
    return rows


def _tiny_dsem(device="cpu", dtype=None):
    import torch
    from networks.gsemm import cycle, dsem, random_patterns
    dtype = dtype or torch.float64
    xi = random_patterns(32, 4, generator=torch.Generator().manual_seed(0), dtype=dtype).to(device)
    net = dsem(xi, cycle(4).to(device=device, dtype=dtype), alpha_s=1.0, alpha_c=2.0, beta=2.0, T_d=5.0)
    return net, net.init_state(xi[:, 0].repeat(2, 1))


def _torch_cpu() -> str:
    import torch
    from networks.gsemm import simulate
    net, st = _tiny_dsem()
    _, tr = simulate(net, st, steps=200, dt=0.05, record_every=10, record=("overlaps",), backend="dense")
    if not torch.isfinite(tr.overlaps).all():
        raise RuntimeError("non-finite overlaps from a 200-step DSEM simulation")
    return f"{torch.get_num_threads()} threads, 200-step DSEM simulation"


def _torch_cuda() -> str:
    import torch
    if not torch.cuda.is_available():
        why = "torch is a CPU build" if torch.version.cuda is None else "torch sees no CUDA device"
        raise Unavailable(f"{why}; install a CUDA build of torch on a machine with an NVIDIA GPU "
                          "(see docs/installation.md)")
    a = torch.randn(256, 256, device="cuda")
    err = ((a @ a).cpu() - a.cpu() @ a.cpu()).abs().max().item()
    if err > 1e-2:
        raise RuntimeError(f"CUDA matmul differs from CPU by {err:.3g}")
    return f"{torch.cuda.get_device_name(0)}, matmul vs CPU max err {err:.1e}"


def _native() -> str:
    from networks.gsemm import simulate
    from networks.gsemm.native import native_available
    ok, info = native_available()
    if not ok:
        raise Unavailable(info)
    net, st = _tiny_dsem()
    _, a = simulate(net, st, steps=200, dt=0.05, record_every=10, record=("overlaps",), backend="native")
    _, b = simulate(net, st, steps=200, dt=0.05, record_every=10, record=("overlaps",), backend="dense")
    err = (a.overlaps - b.overlaps).abs().max().item()
    if err > 1e-9:
        raise RuntimeError(f"native and dense overlaps differ by {err:.3g}")
    return f"matches dense to {err:.1e}; {info}"


_TRITON = textwrap.dedent("""
    import torch
    from experiments.diagnose import _tiny_dsem
    from networks.gsemm import simulate
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    net, st = _tiny_dsem(dev, torch.float32)
    _, a = simulate(net, st, steps=20, dt=0.05, method="euler", record_every=10, record=("overlaps",), backend="triton")
    _, b = simulate(net, st, steps=20, dt=0.05, method="euler", record_every=10, record=("overlaps",), backend="dense")
    err = (a.overlaps - b.overlaps).abs().max().item()
    assert err < 1e-4, f"fused Triton kernel differs from dense by {err:.3g}"
    mode = "compiled on " + torch.cuda.get_device_name(0) if dev == "cuda" else "interpreter on CPU"
    print(f"OK {mode}, fused DSEM kernel matches dense to {err:.1e}")
""")


def _triton() -> str:
    from networks.gsemm.triton_ops import triton_available
    ok, why = triton_available()
    if not ok:
        raise Unavailable(f"{why}; pip install -e '.[kernels]'")
    import torch
    env = None if torch.cuda.is_available() else {**os.environ, "TRITON_INTERPRET": "1"}
    return _subprocess(_TRITON, env=env)


_BRIAN2 = textwrap.dedent("""
    import math, sys, tempfile
    target = sys.argv[1]
    from networks.spiking._brian import brian2_available
    ok, why = brian2_available()
    if not ok:
        print("UNAVAILABLE: " + why.replace(chr(10), " ")); sys.exit(0)
    import shutil
    if target != "runtime" and not any(shutil.which(c) for c in ("g++", "c++", "clang++")):
        print("UNAVAILABLE: no C++ compiler (g++/c++/clang++) on PATH; "
              "install one, e.g. apt-get install g++"); sys.exit(0)
    if target == "cuda_standalone":
        from networks.spiking.targets import brian2cuda_available
        ok, why = brian2cuda_available()
        if not ok:
            print("UNAVAILABLE: brian2cuda is not usable (" + why.replace(chr(10), " ")[:200] + "); "
                  "pip install -e '.[spiking-cuda]' (Python >= 3.12, brian2 2.10.1) "
                  "on a machine with nvcc"); sys.exit(0)
        import torch
        if not torch.cuda.is_available():
            print("UNAVAILABLE: no CUDA device visible (torch.cuda.is_available() is False)"); sys.exit(0)
    import brian2 as b2
    from networks.spiking.targets import activate
    d = tempfile.mkdtemp(prefix="seqplastic_diagnose_")
    activate(target, directory=None if target == "runtime" else d)
    G = b2.NeuronGroup(8, "dv/dt = (1 - v) / (10*ms) : 1", method="exact")
    net = b2.Network(G)
    net.run(20 * b2.ms)
    if target != "runtime":
        b2.device.build(directory=d, compile=True, run=True)
    v = float(G.v[0])
    assert abs(v - (1 - math.exp(-2))) < 1e-3, f"leaky integrator gave v={v}, expected {1 - math.exp(-2):.4f}"
    print(f"OK brian2 {b2.__version__}, leaky integrator v(20 ms) = {v:.4f} (exact {1 - math.exp(-2):.4f})")
""")


def _subprocess(script: str, *args: str, env: dict | None = None) -> str:
    try:
        res = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                             timeout=TIMEOUT, env=env, cwd=tempfile.gettempdir())
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"timed out after {TIMEOUT:.0f} s") from None
    lines = res.stdout.strip().splitlines()
    last = lines[-1] if lines else ""
    if res.returncode == 0 and last.startswith("UNAVAILABLE: "):
        raise Unavailable(last[len("UNAVAILABLE: "):])
    if res.returncode == 0 and last.startswith("OK "):
        return last[3:]
    err = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
    raise RuntimeError(err[-1] if err else f"exit status {res.returncode}")


def _brian2(target: str) -> Callable[[], str]:
    return lambda: _subprocess(_BRIAN2, target)


#: backend name -> smoke test (returns a detail string, raises Unavailable or any error)
BACKENDS: dict[str, Callable[[], str]] = {
    "torch-cpu": _torch_cpu,
    "torch-cuda": _torch_cuda,
    "gsemm-native": _native,
    "triton": _triton,
    "brian2-runtime": _brian2("runtime"),
    "brian2-cpp": _brian2("cpp_standalone"),
    "brian2-cuda": _brian2("cuda_standalone"),
}


def check(backend: str) -> Verdict:
    """Smoke-test one backend of :data:`BACKENDS` and return its :class:`Verdict` (never raises).

    >>> check("torch-cpu").line().startswith("torch-cpu")
    True
    """
    t0 = time.perf_counter()
    try:
        detail = BACKENDS[backend]()
        status = "OK"
    except Unavailable as e:
        status, detail = "UNAVAILABLE", str(e)
    except Exception as e:
        status, detail = "FAILED", f"{type(e).__name__}: {e}"
    return Verdict(backend, status, detail, time.perf_counter() - t0)


def main(backends: list[str] | None = None) -> int:
    """Print versions and one verdict line per backend; returns 0 unless a backend FAILED (then 1).

    >>> main(["torch-cpu"])  # doctest: +ELLIPSIS
    seqplastic ...
    0
    """
    for k, v in versions().items():
        print(f"{k:<18} {v}")
    print("\nbackend= choices by family (available here?, reason):")
    for fam, b, ok, why in backend_table():
        print(f"{fam:<7}{b:<11}{'yes' if ok else 'no':<5}{why}")
    print("\nverdicts (smoke test of each backend):")
    verdicts = []
    for name in backends or list(BACKENDS):
        v = check(name)
        verdicts.append(v)
        print(v.line(), flush=True)
    return 1 if any(v.status == "FAILED" for v in verdicts) else 0
