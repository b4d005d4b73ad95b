r"""Brian2 code-generation targets, chosen by one argument, and the build-once / run-many machinery.

``target``:

* ``"runtime"`` — Brian2's runtime device with **numpy** code generation (no compiler; the CI default);
* ``"cpp_standalone"`` — one C++ project, compiled once into ``directory``;
* ``"cuda_standalone"`` — the same through brian2cuda (GPL-3.0, optional ``spiking-cuda`` extra), configured
  for CUDA 13 by :func:`configure_brian2cuda` (C++17 for host and device code; cuRAND from the
  ``nvidia-curand`` wheel when the toolkit has none).

A standalone model is built once (``device.build(run=False)``); every further run with new weights, cues or
constants goes through ``device.run(run_args={variable: values})`` — no recompilation. Standalone runs reuse
the random seed compiled into the binary; the runtime target re-seeds each run.

Example
-------
>>> check_target("runtime")
'runtime'
>>> check_target("gpu")
Traceback (most recent call last):
...
ValueError: target must be one of ('runtime', 'cpp_standalone', 'cuda_standalone'), got 'gpu'
"""
from __future__ import annotations

import glob
import os
import sysconfig
import tempfile
import time

from ._brian import require_brian2

TARGETS = ("runtime", "cpp_standalone", "cuda_standalone")


def check_target(target: str) -> str:
    """Validate ``target`` (one of :data:`TARGETS`); return it.

    >>> check_target("cpp_standalone")
    'cpp_standalone'
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    return target


def brian2cuda_available() -> tuple[bool, str]:
    """``(True, version)`` when brian2cuda imports (Python ≥ 3.12, brian2 2.10.1), else ``(False, reason)``.

    >>> isinstance(brian2cuda_available()[1], str)
    True
    """
    try:
        require_brian2()
        import brian2cuda  # noqa: F401  (GPL-3.0: imported only here, on demand)
    except Exception as e:  # ImportError, or brian2 version mismatch at import
        return False, f"{type(e).__name__}: {e}"
    return True, getattr(brian2cuda, "__version__", "unknown")


def _find_curand_root():
    """``None`` when the CUDA toolkit has cuRAND; else the ``nvidia-curand`` wheel folder (``nvidia/cuXX``)."""
    from brian2cuda.utils.gputools import get_cuda_path
    for c in (get_cuda_path(), os.environ.get("CUDA_HOME", ""), "/usr/local/cuda"):
        if c and os.path.exists(os.path.join(c, "include", "curand.h")) and \
                glob.glob(os.path.join(c, "lib*", "libcurand.so")):
            return None
    hdrs = glob.glob(os.path.join(sysconfig.get_paths()["purelib"], "nvidia", "*", "include", "curand.h"))
    if not hdrs:
        raise RuntimeError("cuRAND not found in the CUDA toolkit nor as a wheel: pip install nvidia-curand "
                           "(the package for your CUDA major version)")
    return os.path.dirname(os.path.dirname(hdrs[0]))


def configure_brian2cuda(compute_capability: float | None = None, gpu_id: int = 0,
                         cuda_runtime_version: float | None = None) -> None:
    """Make brian2cuda (1.0b1) build with CUDA 13: ``-std=c++17`` for gcc and nvcc, cuRAND located.

    With ``compute_capability`` (e.g. ``9.0``) GPU detection is switched off (code generation and compilation
    on a machine without a GPU). Idempotent. Raises ``RuntimeError`` when brian2cuda is not importable.

    >>> configure_brian2cuda(compute_capability=9.0)   # doctest: +SKIP
    """
    ok, why = brian2cuda_available()
    if not ok:
        raise RuntimeError(f"target='cuda_standalone' needs brian2cuda (pip install -e .[spiking-cuda], Python >= "
                           f"3.12 with brian2 2.10.1): {why}")
    b2 = require_brian2()
    prefs = b2.prefs
    from brian2cuda.device import CUDAStandaloneDevice
    cb = prefs.devices.cuda_standalone.cuda_backend
    if compute_capability is not None:
        cb.detect_gpus = False
        cb.gpu_id = int(gpu_id)
        cb.compute_capability = float(compute_capability)
        if cuda_runtime_version is not None:
            cb.cuda_runtime_version = float(cuda_runtime_version)
    prefs.codegen.cpp.extra_compile_args_gcc = [
        "-std=c++17" if a == "-std=c++11" else a for a in prefs.codegen.cpp.extra_compile_args_gcc]
    if not getattr(CUDAStandaloneDevice.generate_makefile, "_cxx17", False):
        orig = CUDAStandaloneDevice.generate_makefile

        def generate_makefile(self, writer, *args, **kwds):
            orig(self, writer, *args, **kwds)
            path = os.path.join(self.project_dir, "makefile")
            with open(path) as f:
                txt = f.read()
            with open(path, "w") as f:
                f.write(txt.replace("-std=c++11", "-std=c++17"))
        generate_makefile._cxx17 = True
        CUDAStandaloneDevice.generate_makefile = generate_makefile
    root = _find_curand_root()
    if root is not None and not any(str(a).startswith(f"-I{root}") for a in cb.extra_compile_args_nvcc):
        lib = sorted(glob.glob(os.path.join(root, "lib", "libcurand.so*")))[0]
        linkdir = tempfile.mkdtemp(prefix="curand_link_")
        os.symlink(lib, os.path.join(linkdir, "libcurand.so"))
        cb.extra_compile_args_nvcc = list(cb.extra_compile_args_nvcc) + [f"-I{root}/include"]
        prefs.codegen.cpp.library_dirs = list(prefs.codegen.cpp.library_dirs) + [linkdir]
        prefs.codegen.cpp.runtime_library_dirs = list(prefs.codegen.cpp.runtime_library_dirs) + [
            os.path.join(root, "lib")]


def reset_device() -> None:
    """Forget every Brian2 device state (standalone projects stay on disk) and go back to ``runtime``/numpy.

    >>> reset_device()   # doctest: +SKIP
    """
    b2 = require_brian2()
    from brian2.devices.device import reinit_devices
    reinit_devices()
    b2.set_device("runtime")
    b2.prefs.codegen.target = "numpy"


def activate(target: str, *, directory: str | None = None, threads: int = 0,
             compute_capability: float | None = None) -> None:
    """Select ``target`` as the Brian2 device (after :func:`reset_device`).

    ``threads`` > 0 uses OpenMP in ``cpp_standalone``; ``compute_capability`` is passed to
    :func:`configure_brian2cuda` (``None``: detect the GPU). Standalone targets need ``directory``.

    >>> activate("runtime")   # doctest: +SKIP
    """
    check_target(target)
    if target != "runtime" and not directory:
        raise ValueError(f"directory must be given for target={target!r} (the standalone project folder)")
    if int(threads) < 0:
        raise ValueError(f"threads must be >= 0, got {threads}")
    if target == "cuda_standalone":
        configure_brian2cuda(compute_capability=compute_capability)  # raises before touching the device
    b2 = require_brian2()
    reset_device()
    if target == "cpp_standalone":
        b2.set_device("cpp_standalone", build_on_run=False, directory=directory)
        b2.prefs.devices.cpp_standalone.openmp_threads = int(threads)
    elif target == "cuda_standalone":
        b2.set_device("cuda_standalone", build_on_run=False, directory=directory)


def _contiguous(x):
    """C-contiguous copy of an array/quantity (Brian2 hashes the buffer of run_args values)."""
    import numpy as np
    if isinstance(x, np.ndarray) and not x.flags.c_contiguous:
        return x.copy(order="C") if type(x) is not np.ndarray else np.ascontiguousarray(x)
    return x


class BrianSim:
    """Base of the mirrors: one Brian2 ``Network`` on one target, built once, run many times.

    Subclasses implement ``_objects()`` (the Brian2 objects by name, groups built from the strings of
    :mod:`networks.spiking.equations`), ``_values(...)`` (``{(object name, variable): value}`` for one run) and
    ``_standalone_defaults()`` (``self._assign(self._values(<placeholder input>))``). ``_execute(values, seed)``
    sets those values (runtime: after ``Network.restore()``; standalone: through ``run_args``) and simulates
    ``duration``.
    ``build_seconds`` is the time to create (and for standalone: generate and compile) the model;
    ``last_run_seconds`` the wall time of the latest run.
    """

    def __init__(self, *, target: str, directory: str | None, dt_s: float, duration_s: float, seed: int,
                 threads: int = 0, compute_capability: float | None = None, compile: bool = True):
        check_target(target)
        if not (dt_s > 0) or not (duration_s > 0):
            raise ValueError(f"dt and duration must be > 0, got dt={dt_s} s, duration={duration_s} s")
        if int(seed) != seed or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        self.target, self.seed, self.duration_s, self.dt_s = target, int(seed), float(duration_s), float(dt_s)
        if compile is False and target == "runtime":
            raise ValueError("compile=False only applies to standalone targets")
        if target != "runtime" and directory is None:
            directory = tempfile.mkdtemp(prefix=f"seqplastic_{target}_")
        self.directory = None if directory is None else os.path.abspath(directory)
        b2 = require_brian2()
        self.b2 = b2
        t0 = time.perf_counter()
        activate(target, directory=self.directory, threads=threads, compute_capability=compute_capability)
        b2.defaultclock.dt = dt_s * b2.second
        b2.seed(self.seed)
        self.objects = self._objects()
        self.net = b2.Network(*self.objects.values())
        self.compiled = False
        if target == "runtime":
            self.net.store("initial")
        else:
            self._standalone_defaults()
            self.net.run(self.duration_s * b2.second, namespace={})
            b2.device.build(directory=self.directory, compile=compile, run=False)
            self.compiled = compile
        self.build_seconds = time.perf_counter() - t0
        self.last_run_seconds = float("nan")

    # -- to implement
    def _objects(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _standalone_defaults(self) -> None:
        """Assign default values before the recorded run (run_args replace them later)."""

    def _assign(self, values: dict) -> None:
        """Set ``{(object name, variable): value}`` on the Brian2 objects."""
        for (obj, var), arr in values.items():
            setattr(self.objects[obj], var, arr)

    def _values(self, **kw) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _execute(self, values: dict, seed: int | None) -> None:
        b2 = self.b2
        t0 = time.perf_counter()
        if self.target == "runtime":
            self.net.restore("initial")
            b2.seed(self.seed if seed is None else int(seed))
            self._assign(values)
            self.net.run(self.duration_s * b2.second, namespace={})
        else:
            if not self.compiled:
                raise RuntimeError("this standalone model was generated with compile=False; it cannot run")
            if seed is not None and int(seed) != self.seed:
                raise ValueError(f"seed={seed}: a built standalone model runs with its build seed {self.seed}; "
                                 "build another model for another seed")
            run_args = {getattr(self.objects[obj], var): _contiguous(arr) for (obj, var), arr in values.items()}
            b2.device.run(directory=self.directory, run_args=run_args)
        self.last_run_seconds = time.perf_counter() - t0

    def close(self) -> None:
        """Release the Brian2 device (back to runtime/numpy); the standalone project stays in ``directory``."""
        reset_device()
