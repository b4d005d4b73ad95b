r"""Native CPU backend for :func:`networks.gsemm.simulate` (``backend="native"``).

Small GSEMM networks (N ≈ 100, P ≈ 7) are dispatch-bound in eager torch: one split-RK4 step is a few
µs of arithmetic but ~40 torch calls. ``native.c`` (plain C99 + OpenMP, beside this file) runs the
whole fixed-step loop of :func:`~networks.gsemm.integrate.simulate` in C: the same methods
(``euler``, joint ``rk4``, ``split``), the same full-space right-hand side as
:class:`~networks.gsemm.rhs.Dense` (the model's ``fast``/``slow``) with the same operation order per element,
the same recorded signals (``overlaps``, ``v``, ``s``, ``hidden``, ``energy``, ``F``, ``S``), written straight into
preallocated ``(T, B, ...)`` tensors. Streams run in parallel with OpenMP (``torch.get_num_threads()``
threads); stream b of a batch is bit-identical to the same stream run alone.

Supported: float32 and float64 on CPU; feature Lagrangian ``Quadratic`` or ``LogCosh``; hidden
``LogSumExp``, ``Quadratic`` or ``Polynomial``; ``T_h = 0`` (reduced models) and ``T_h > 0`` (three
populations); shared ``(N, P)``/``(P, P)`` or per-stream ``(B, N, P)``/``(B, P, P)`` weights; float or
per-stream ``(B,)`` ``alpha_s``, ``alpha_c``, ``beta_d`` (cast to the weights' dtype); no input, a
constant ``(B, N)`` or a per-step ``(steps, B, N)`` input current.

The library is compiled at first use with the system C compiler (``$CC``, else ``cc`` or ``gcc``) with
``-O3 -march=native -fno-math-errno -ffp-contract=fast -fopenmp`` (no ``-ffast-math``: it would break
the float64 match with the torch oracle) into ``$XDG_CACHE_HOME/seqplastic`` (default
``~/.cache/seqplastic``), named by a hash of the source, flags, compiler version and CPU flags,
written to a temporary name and renamed (safe with concurrent builds). If no compiler is found or
the build fails, a :class:`RuntimeError` carries the compiler's message; nothing falls back silently.

Example
-------
>>> import torch
>>> from networks.gsemm import dsem, cycle, hadamard_patterns, simulate
>>> xi = hadamard_patterns(32, 3, dtype=torch.float64)
>>> net = dsem(xi, cycle(3, dtype=torch.float64), beta=5.0, T_d=4.0)
>>> st = net.init_state(xi[:, 1])
>>> _, a = simulate(net, st, steps=400, dt=0.01, record_every=40, backend="native")
>>> _, b = simulate(net, st, steps=400, dt=0.01, record_every=40, backend="dense")
>>> a.backend, torch.allclose(a.overlaps, b.overlaps, rtol=1e-12, atol=1e-13)
('native', True)
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterable

import torch
from torch import Tensor

from ..backends import Availability
from .integrate import Trajectory, check_run_args
from .lagrangians import LogCosh, LogSumExp, Polynomial, Quadratic
from .model import SIGNALS, GSEMM, State

__all__ = ["native_available", "simulate_native", "why_not_native"]

_SRC = Path(__file__).with_name("native.c")
_ABI = 2
_BASE_FLAGS = ("-O3", "-march=native", "-fno-math-errno", "-ffp-contract=fast", "-std=c99", "-fPIC", "-shared")
_HINT = 'install a C compiler (e.g. `apt-get install gcc`, or set CC) or use backend="dense"'

_lock = threading.Lock()
_lib = None          # the loaded ctypes.CDLL
_lib_info: dict = {}
_error: str | None = None  # cached build failure (one attempt per process)


class _Args(ctypes.Structure):
    """Mirror of ``gsemm_args`` in native.c (field for field)."""

    _fields_ = [(n, ctypes.c_int64) for n in (
        "B", "N", "P", "xi_batched", "phi_batched", "feature", "hidden", "degree", "method", "steps",
        "record_every", "input_mode", "nthreads", "has_h")] + \
        [(n, ctypes.c_double) for n in ("gain", "beta", "scale", "T_f", "T_d", "T_h", "dt")] + \
        [(n, ctypes.c_void_p) for n in (
            "xi", "xiT", "phi", "sqrt_as", "alpha_c", "beta_d", "v", "s", "h", "inputs", "rec_overlaps", "rec_v",
            "rec_s", "rec_hidden", "rec_energy", "rec_F", "rec_S")]


# ------------------------------------------------------------------------------------------- build
def _compiler() -> list[str] | None:
    cc = os.environ.get("CC")
    if cc:
        return shlex.split(cc)
    for name in ("cc", "gcc"):
        path = shutil.which(name)
        if path:
            return [path]
    return None


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "seqplastic"


def _cpu_id() -> str:
    """CPU identity for the cache key (the build uses -march=native)."""
    try:
        with open("/proc/cpuinfo") as f:
            lines = [ln for ln in f if ln.startswith(("model name", "flags"))]
        return "".join(sorted(set(lines)))
    except OSError:
        import platform
        return platform.processor() or platform.machine()


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _sidecar(lib: Path) -> Path:
    return lib.with_suffix(".sha256")


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _verified(lib: Path) -> bool:
    """A cached library is loaded only if its content hash matches the one recorded when it was built here;
    anything else (no record, truncated, replaced) is rebuilt.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "native-x.so"; _ = p.write_bytes(b"junk"); _verified(p)
    False
    """
    rec = _sidecar(lib)
    try:
        return rec.is_file() and rec.read_text().strip() == _sha256(lib)
    except OSError:
        return False


def _remove_stale_temps(cache: Path, older_than: float = 600.0) -> None:
    """Remove temporary files of compiles killed mid-way (older than ``older_than`` seconds)."""
    now = time.time()
    for p in cache.glob(".native-*"):
        try:
            if now - p.stat().st_mtime > older_than:
                p.unlink()
        except OSError:
            pass


def _build() -> Path:
    """Compile native.c (cached); return the path of the shared library. Raises RuntimeError."""
    cc = _compiler()
    if cc is None:
        raise RuntimeError(f"backend='native' needs a C compiler, but none was found ($CC is unset and neither "
                           f"`cc` nor `gcc` is on PATH): {_HINT}")
    try:
        ver = _run(cc + ["--version"])
    except OSError as e:
        raise RuntimeError(f"backend='native': cannot run the C compiler {cc!r}: {e}; {_HINT}") from e
    src = _SRC.read_bytes()
    errors = []
    for omp in (("-fopenmp",), ()):
        flags = list(_BASE_FLAGS) + list(omp)
        key = hashlib.sha256(b"\0".join([src, " ".join(cc + flags).encode(), ver.stdout.encode(),
                                         _cpu_id().encode()])).hexdigest()[:16]
        cache = _cache_dir()
        target = cache / f"native-{key}.so"
        if target.exists() and _verified(target):
            return target
        try:
            cache.mkdir(parents=True, exist_ok=True)
            _remove_stale_temps(cache)
            fd, tmp = tempfile.mkstemp(prefix=f".native-{key}-", suffix=".so", dir=cache)
        except OSError as e:
            raise RuntimeError(f"backend='native': cannot write the build cache {cache}: {e}; point XDG_CACHE_HOME "
                               f"at a writable folder (the C compiler is fine)") from e
        os.close(fd)
        try:
            res = _run(cc + flags + [str(_SRC.resolve()), "-o", tmp, "-lm"])
            if res.returncode == 0:
                digest = _sha256(Path(tmp))
                os.replace(tmp, target)
                _write_atomic(_sidecar(target), digest)      # what was built, recorded beside it
                return target
            errors.append(f"$ {' '.join(cc + flags)} native.c\n{res.stderr.strip()}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise RuntimeError("backend='native': building networks/gsemm/native.c failed (tried with and without "
                       "OpenMP):\n" + "\n\n".join(errors) + f"\n{_HINT}")


def _load():
    """The loaded library (built at first use). Raises RuntimeError with the cause."""
    global _lib, _error
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        if _error is not None:
            raise RuntimeError(_error)
        try:
            path = _build()
            lib = ctypes.CDLL(str(path))
            for name in ("gsemm_abi_version", "gsemm_args_size", "gsemm_has_openmp"):
                getattr(lib, name).restype = ctypes.c_int64
            for name in ("gsemm_run_f64", "gsemm_run_f32"):
                fn = getattr(lib, name)
                fn.restype = ctypes.c_int64
                fn.argtypes = [ctypes.POINTER(_Args)]
            if lib.gsemm_abi_version() != _ABI or lib.gsemm_args_size() != ctypes.sizeof(_Args):
                raise RuntimeError(f"backend='native': {path} does not match native.py (ABI "
                                   f"{lib.gsemm_abi_version()} vs {_ABI}); delete it and retry")
        except RuntimeError as e:
            _error = str(e)
            raise
        except (OSError, AttributeError) as e:
            _error = (f"backend='native': cannot load the compiled library ({e}); delete it from "
                      f"{_cache_dir()} and retry")
            raise RuntimeError(_error) from e
        _lib_info.update(path=str(path), openmp=bool(lib.gsemm_has_openmp()))
        _lib = lib
        return lib


def native_available() -> Availability:
    """Whether the native backend can be used here, building it if needed: ``Availability(True, info)`` or
    ``Availability(False, reason)`` (the reason carries the compiler's message); see :mod:`networks.backends`.

    >>> ok, why = native_available()
    >>> isinstance(ok, bool) and isinstance(why, str)
    True
    """
    try:
        _load()
    except RuntimeError as e:
        return Availability(False, str(e))
    return Availability(True, f"{_lib_info['path']} (OpenMP: {'yes' if _lib_info['openmp'] else 'no'})")


# ---------------------------------------------------------------------------------------- simulate
def _ptr(t: Tensor | None):
    return None if t is None else t.data_ptr()


def _coef(x, B: int, dtype) -> Tensor:
    """A coefficient as B contiguous values (one or B per-stream values: check_run_args checked which)."""
    if isinstance(x, Tensor):
        return x.detach().reshape(-1).to(device="cpu", dtype=dtype).expand(B).contiguous()
    return torch.full((B,), float(x), dtype=dtype)


def _kinds(model: GSEMM) -> tuple[int, float, int, float, float, int]:
    f, hdn = model.feature, model.hidden
    if type(f) is Quadratic:
        feature, gain = 0, 1.0
    elif type(f) is LogCosh:
        feature, gain = 1, float(f.gain)
    else:
        raise ValueError(f"the native loop supports feature Lagrangians Quadratic and LogCosh, got "
                         f"{type(f).__name__}; use backend='dense'")
    beta, scale, degree = 1.0, 1.0, 1
    if type(hdn) is LogSumExp:
        hidden, beta = 0, float(hdn.beta)
    elif type(hdn) is Quadratic:
        hidden = 1
    elif type(hdn) is Polynomial:
        hidden, scale, degree = 2, float(hdn.scale), int(hdn.degree)
    else:
        raise ValueError(f"the native loop supports hidden Lagrangians LogSumExp, Quadratic and Polynomial, got "
                         f"{type(hdn).__name__}; use backend='dense'")
    return feature, gain, hidden, beta, scale, degree


def why_not_native(model: GSEMM) -> str | None:
    """``None`` when the native loop supports ``model``'s Lagrangians, dtype and device, else the reason
    (whether it builds on this machine is :func:`native_available`).

    >>> import torch
    >>> from networks.gsemm import cycle, dsem
    >>> why_not_native(dsem(torch.eye(4, 2), cycle(2))) is None
    True
    >>> why_not_native(dsem(torch.eye(4, 2, dtype=torch.float16), cycle(2, dtype=torch.float16)))
    'the native loop runs float32/float64 CPU tensors, got torch.float16 on cpu'
    """
    if model.xi.dtype not in (torch.float32, torch.float64) or model.xi.device.type != "cpu":
        return f"the native loop runs float32/float64 CPU tensors, got {model.xi.dtype} on {model.xi.device}"
    try:
        _kinds(model)
    except ValueError as e:
        return str(e)
    return None


def simulate_native(model: GSEMM, state: State, *, steps: int, dt: float, method: str = "rk4",
                    record_every: int = 1, record: Iterable[str] = ("overlaps",),
                    inputs: Tensor | None = None) -> tuple[State, Trajectory]:
    """:func:`~networks.gsemm.integrate.simulate` in compiled C: same arguments (less ``backend`` and
    ``progress``), same results up to rounding (float64 overlaps agree to ~1e-13 over the 58,333-step
    DSEM notebook run), returns the final :class:`State` and a :class:`Trajectory` with
    ``backend="native"``. Raises RuntimeError when the library cannot be built, ValueError on bad input
    or an unsupported model (see the module docstring).

    >>> import torch
    >>> from networks.gsemm import dsem, cycle, hadamard_patterns
    >>> xi = hadamard_patterns(64, 4)
    >>> net = dsem(xi, cycle(4), alpha_s=0.5, alpha_c=1.0, beta=10.0, T_d=5.0)
    >>> final, traj = simulate_native(net, net.init_state(xi[:, :3].T), steps=100, dt=0.01, method="split",
    ...                               record_every=10, record=("overlaps", "energy"))
    >>> traj.overlaps.shape, traj.energy.shape, traj.backend
    (torch.Size([11, 3, 4]), torch.Size([11, 3]), 'native')
    """
    # --- simulate()'s checks (check_run_args), then what the C loop itself needs, before any work
    state, steps, record_every, record, inputs = check_run_args(
        model, state, steps=steps, dt=dt, method=method, record_every=record_every, record=record, inputs=inputs)
    v, s, h = state
    dtype = model.xi.dtype
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"backend='native' runs float32 and float64, got {dtype}; use backend='dense'")
    if model.xi.device.type != "cpu":      # the state and the inputs are on the weights' device (checked)
        raise ValueError(f"backend='native' runs on the CPU but the network is on {model.xi.device}; "
                         "use backend='dense'")
    B, N, P = v.shape[0], model.N, model.P
    input_mode = 0 if inputs is None else (1 if inputs.dim() == 2 else 2)
    if inputs is not None:
        inputs = inputs.detach().contiguous()
    feature, gain, hidden, beta, scale, degree = _kinds(model)
    lib = _load()

    # --- operands (contiguous copies; the state copies are updated in place by C)
    xi = model.xi.detach().contiguous()
    xiT = xi.transpose(-1, -2).contiguous()
    phi = model.phi.detach().contiguous()
    sqrt_as = _coef(model.sqrt_alpha_s, B, dtype)
    alpha_c = _coef(model.alpha_c, B, dtype)
    beta_d = _coef(model.beta_d, B, dtype)
    v_out = v.detach().clone(memory_format=torch.contiguous_format)
    s_out = s.detach().clone(memory_format=torch.contiguous_format)
    h_out = None if h is None else h.detach().clone(memory_format=torch.contiguous_format)

    T = steps // record_every + 1
    shapes = {"v": (T, B, N), "s": (T, B, N), "hidden": (T, B, P), "overlaps": (T, B, P),
              "energy": (T, B), "F": (T, B), "S": (T, B)}
    buffers = {name: torch.empty(shapes[name], dtype=dtype) for name in SIGNALS if name in record}

    a = _Args(B=B, N=N, P=P, xi_batched=int(xiT.dim() == 3), phi_batched=int(phi.dim() == 3), feature=feature,
              hidden=hidden, degree=degree, method={"euler": 0, "rk4": 1, "split": 2}[method], steps=steps,
              record_every=record_every,
              input_mode=input_mode, nthreads=max(1, torch.get_num_threads()), has_h=int(h is not None),
              gain=gain, beta=beta, scale=scale, T_f=float(model.T_f), T_d=float(model.T_d),
              T_h=float(model.T_h), dt=float(dt), xi=_ptr(xi), xiT=_ptr(xiT), phi=_ptr(phi), sqrt_as=_ptr(sqrt_as),
              alpha_c=_ptr(alpha_c), beta_d=_ptr(beta_d), v=_ptr(v_out), s=_ptr(s_out), h=_ptr(h_out),
              inputs=_ptr(inputs), rec_overlaps=_ptr(buffers.get("overlaps")), rec_v=_ptr(buffers.get("v")),
              rec_s=_ptr(buffers.get("s")), rec_hidden=_ptr(buffers.get("hidden")),
              rec_energy=_ptr(buffers.get("energy")), rec_F=_ptr(buffers.get("F")), rec_S=_ptr(buffers.get("S")))
    run = lib.gsemm_run_f64 if dtype == torch.float64 else lib.gsemm_run_f32
    if run(ctypes.byref(a)) != 0:
        raise RuntimeError("backend='native': out of memory allocating per-stream scratch space")
    t = torch.arange(T, dtype=torch.float64) * (record_every * float(dt))
    traj = Trajectory(t=t, signals=buffers if record else {}, method=method, backend="native", dt=float(dt),
                      record_every=record_every)
    return State(v_out, s_out, h_out), traj
