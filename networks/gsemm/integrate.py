r"""Fixed-step integrators and the recorded simulation loop.

Methods (``method=``):

* ``"euler"`` — :math:`x_{k+1} = x_k + dt\,f(x_k)` for all populations (as in the papers);
* ``"rk4"`` — classical joint Runge–Kutta 4 on (v, h, s);
* ``"split"`` — the authors' scheme: RK4 on the fast populations (v, h) with s frozen, then RK4 on the
  linear slow equation with v frozen at its new value, which is exactly
  :math:`s ← s + dt\,(β_dσ_f(v) − s)/T_d\,(1 − a/2 + a²/6 − a³/24)`, :math:`a = dt/T_d`.

``backend="dense"`` integrates in full space (any model); ``"subspace"`` uses the exact reduced
coordinates of :class:`~networks.gsemm.rhs.Subspace` (identity features, shared weights, no input);
``"native"`` is a compiled C loop for the CPU; ``"triton"`` one fused GPU kernel for DSEM-type models;
``"auto"`` picks native on the CPU, the fused kernel on CUDA when it applies, else ``subspace`` or
``dense`` (:func:`resolve_backend`, the policy of :mod:`networks.backends`). The backend used, and
with ``"auto"`` why each earlier candidate was passed over, are stored in the returned :class:`Trajectory`.

Memory grows with what is recorded (every ``record_every`` steps, the chosen ``record`` signals),
never with the full trajectory unless asked.

Example
-------
>>> import torch
>>> from networks.gsemm import dsem, cycle, hadamard_patterns, simulate
>>> xi = hadamard_patterns(64, 4, dtype=torch.float64)
>>> net = dsem(xi, cycle(4, dtype=torch.float64), alpha_s=0.5, alpha_c=1.0, beta=10.0, T_d=5.0)
>>> final, traj = simulate(net, net.init_state(xi[:, 0]), steps=2000, dt=0.01, record_every=50)
>>> traj.overlaps.shape
torch.Size([41, 1, 4])
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import torch
from torch import Tensor

from plasticity.checks import finite_tensor, int_at_least, known

from ..backends import Availability, Choice, Family
from ..limits import check_fits, check_work
from .model import SIGNALS, GSEMM, State
from .rhs import Dense, Subspace, why_not_subspace

#: the integration methods of :func:`simulate` (see the module docstring for their equations)
METHODS = ("euler", "rk4", "split")
#: the ``backend=`` choices of :func:`simulate`
BACKENDS = ("auto", "dense", "subspace", "native", "triton")


def _native_available() -> Availability:
    from .native import native_available
    return native_available()


def _triton_available() -> Availability:
    from .triton_ops import triton_available
    return triton_available()


#: the gsemm backends for :mod:`networks.backends`: ``"auto"`` tries native, triton, subspace, dense in turn
FAMILY = Family("gsemm", BACKENDS, order=("native", "triton", "subspace", "dense"),
                available={"native": _native_available, "triton": _triton_available})


@dataclass
class Trajectory:
    """Recorded signals, each ``(T, B, ...)`` with ``T = steps // record_every + 1`` samples
    (the initial state included); ``t`` holds the sample times :math:`t_j = j·k·dt`, k = ``record_every``.

    A recorded signal is an attribute (``traj.overlaps``, ``traj.energy``, …; the names of
    ``simulate(record=...)``); asking for one that was not recorded raises AttributeError saying how
    to record it. ``method`` and ``backend`` say how it was computed; ``skipped`` holds the
    ``(backend, reason)`` pairs that ``backend="auto"`` passed over before choosing ``backend``.

    >>> import torch
    >>> tr = Trajectory(t=torch.arange(3.0), signals={"overlaps": torch.zeros(3, 1, 2)})
    >>> tr.overlaps.shape
    torch.Size([3, 1, 2])
    >>> sorted(tr.signals)
    ['overlaps']
    """

    t: Tensor
    signals: dict = field(default_factory=dict)
    method: str = "rk4"
    backend: str = "dense"
    dt: float = 0.01
    record_every: int = 1
    skipped: tuple = ()

    def __getattr__(self, name):
        sig = self.__dict__.get("signals", {})
        if name in sig:
            return sig[name]
        raise AttributeError(f"signal {name!r} was not recorded; pass record=(..., {name!r})")


def check_dt(model: GSEMM, dt: float, method: str) -> None:
    """Raise a ValueError when ``dt`` is non-positive or too large for the fastest time constant.

    Euler needs dt < T (stability of the leak needs dt < 2T; accuracy much less); RK4 is stable for
    dt < 2.78 T, we allow dt < 2.5 T. Here T = min(T_f, T_h, T_d) (T_h left out when T_h = 0). Also raises
    for an unknown ``method``.

    >>> import torch
    >>> from networks.gsemm import cycle, dsem
    >>> net = dsem(torch.ones(4, 2), cycle(2), T_f=1.0)
    >>> check_dt(net, 0.01, "euler")          # fine: returns None
    >>> check_dt(net, 1.5, "euler")          # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: dt=1.5 is too large for method='euler' with the fastest time constant 1.0: use dt < 1
    (dt <= 0.01 for the accuracy used in the papers)
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    dt = float(dt)
    if not dt > 0:
        raise ValueError(f"dt must be > 0, got {dt}")
    fastest = min(model.T_f, model.T_h) if not model.instantaneous else model.T_f
    fastest = min(fastest, model.T_d)                 # the slow population too: T_d < dt gives silent NaN
    limit = fastest if method == "euler" else 2.5 * fastest
    if dt >= limit:
        raise ValueError(f"dt={dt} is too large for method={method!r} with the fastest time constant {fastest}: "
                         f"use dt < {limit:g} (dt <= {0.01 * fastest:g} for the accuracy used in the papers)")


def check_run_args(model: GSEMM, state: State, *, steps: int, dt: float, method: str, record_every: int = 1,
                   record: Iterable[str] = ("overlaps",), inputs: Tensor | None = None):
    """The checks of one run, shared by :func:`simulate` and :func:`~networks.gsemm.native.simulate_native`:
    ``record`` names from :data:`~networks.gsemm.model.SIGNALS`, ``steps`` (≥ 0) and ``record_every`` (≥ 1)
    integers, ``dt`` per :func:`check_dt`; the state a :class:`State` of the network's dtype and device with
    matching batch (per-stream weights and coefficients included); ``inputs`` None, ``(B, N)`` or
    ``(steps, B, N)``; then the value scans (:meth:`GSEMM.check`, the state and the inputs finite).

    Returns ``(state, steps, record_every, record, inputs)`` normalised (ints, a tuple, the inputs cast to
    the state's dtype and device). Raises a ValueError naming the argument, before any work is done.

    >>> import torch
    >>> from networks.gsemm import cycle, dsem
    >>> net = dsem(torch.eye(4, 2, dtype=torch.float64), cycle(2, dtype=torch.float64))
    >>> st = net.init_state(torch.ones(4))
    >>> check_run_args(net, st, steps=10.0, dt=0.1, method="euler", record=["overlaps"])[1:4]
    (10, 1, ('overlaps',))
    >>> check_run_args(net, st, steps=10, dt=0.1, method="euler", inputs=torch.zeros(3, 1, 4))
    Traceback (most recent call last):
    ...
    ValueError: inputs must be (B, N)=(1, 4) or (steps, B, N)=(10, 1, 4), got (3, 1, 4)
    """
    if not isinstance(model, GSEMM):
        raise ValueError(f"model must be a networks.gsemm.GSEMM, got {type(model).__name__}")
    record = known("record signal", record, SIGNALS)
    steps = int_at_least("steps", steps, 0, whole_floats=True)
    record_every = int_at_least("record_every", record_every, 1, whole_floats=True)
    check_dt(model, dt, method)
    if not isinstance(state, tuple) or len(state) != 3 or not all(isinstance(x, Tensor) for x in state[:2]):
        raise ValueError("state must be a State(v, s, h); build it with model.init_state(cue)")
    v, s, h = state
    for name, x in (("state.v", v), ("state.s", s), ("state.h", h)):
        if x is not None and (x.dtype != model.xi.dtype or x.device != model.xi.device):
            raise ValueError(f"{name} has dtype {x.dtype} on {x.device} but the network's weights are "
                             f"{model.xi.dtype} on {model.xi.device}; build the state with "
                             "model.init_state(cue), which casts the cue, or cast it yourself")
    if v.shape != s.shape or v.dim() != 2 or v.shape[1] != model.N:
        raise ValueError(f"state.v and state.s must both be (B, N={model.N}), got {tuple(v.shape)}, {tuple(s.shape)}")
    B = v.shape[0]
    if B == 0:
        raise ValueError("the state has an empty batch (B = 0 streams); pass at least one cue")
    if (h is None) != model.instantaneous:
        raise ValueError("state.h must be None exactly when the model has T_h = 0; build it with model.init_state")
    if h is not None and h.shape != (B, model.P):
        raise ValueError(f"state.h must be (B, P)=({B}, {model.P}), got {tuple(h.shape)}")
    for name, w in (("xi", model.xi), ("phi", model.phi)):
        if w.dim() == 3 and w.shape[0] != B:
            raise ValueError(f"per-stream {name} has batch {w.shape[0]} but the state has B={B} streams")
    for name in ("alpha_s", "alpha_c", "beta_d"):
        a = getattr(model, name)
        if isinstance(a, Tensor) and a.shape[0] not in (1, B):
            raise ValueError(f"{name} has {a.shape[0]} per-stream values but the batch has B={B} streams")
    if inputs is not None:
        if not isinstance(inputs, Tensor) or tuple(inputs.shape) not in (tuple(v.shape), (steps, *v.shape)):
            raise ValueError(f"inputs must be (B, N)={tuple(v.shape)} or (steps, B, N)={(steps, *v.shape)}, "
                             f"got {tuple(getattr(inputs, 'shape', ())) or type(inputs).__name__}")
        inputs = finite_tensor("inputs", inputs).to(dtype=v.dtype, device=v.device)
    _check_budget(model, B, steps, method, record_every, record, v)
    model.check()
    for name, x in (("state.v", v), ("state.s", s), ("state.h", h)):
        if x is not None:
            finite_tensor(name, x, "; the state must be finite")
    return state, steps, record_every, record, inputs


def _check_budget(model: GSEMM, B: int, steps: int, method: str, record_every: int, record, v: Tensor) -> None:
    """Refuse a run whose work or recorded trajectory cannot finish or fit (:mod:`networks.limits`)."""
    stages = 4 if method == "rk4" else 2 if method == "split" else 1
    shown = f"{steps:,}" if steps < 10 ** 15 else f"{float(steps):.3g}"
    check_work(float(steps) * B * stages * (2 * model.N * model.P + model.P * model.P),
               f"simulate ({shown} steps of {method}, B={B}, N={model.N}, P={model.P})",
               "use fewer steps or run in chunks (chunking is exact)")
    widths = {"v": model.N, "s": model.N, "hidden": model.P, "overlaps": model.P, "energy": 1, "F": 1, "S": 1}
    samples = steps // record_every + 1
    check_fits(samples * (8 + B * v.element_size() * sum(widths[r] for r in record)),
               f"recording {', '.join(record) or 'the time axis'} at {samples} samples", v.device,
               "record less often (record_every), fewer signals, or run in chunks")


def _slow_exact_rk4(k, v_new, s, dt):
    """RK4 on the linear slow equation with v frozen = exact 4th-order Taylor factor."""
    a = dt / k.m.T_d
    return s + dt * k.slow(v_new, s) * (1 - a / 2 + a * a / 6 - a ** 3 / 24)


def _add(x, dx, c):
    return None if x is None else x + c * dx


def step(k, v, s, h, dt: float, method: str, inp=None):
    """One step of ``method`` on the right-hand side ``k`` (Dense or Subspace)."""
    if method == "euler":
        dv, dh = k.fast(v, h, k.cross(s), inp)
        ds = k.slow(v, s)
        return v + dt * dv, s + dt * ds, _add(h, dh, dt)
    if method == "split":
        c = k.cross(s)
        k1v, k1h = k.fast(v, h, c, inp)
        k2v, k2h = k.fast(v + 0.5 * dt * k1v, _add(h, k1h, 0.5 * dt), c, inp)
        k3v, k3h = k.fast(v + 0.5 * dt * k2v, _add(h, k2h, 0.5 * dt), c, inp)
        k4v, k4h = k.fast(v + dt * k3v, _add(h, k3h, dt), c, inp)
        v_new = v + dt / 6 * (k1v + 2 * k2v + 2 * k3v + k4v)
        h_new = None if h is None else h + dt / 6 * (k1h + 2 * k2h + 2 * k3h + k4h)
        return v_new, _slow_exact_rk4(k, v_new, s, dt), h_new
    # joint RK4
    def f(v_, s_, h_):
        dv_, dh_ = k.fast(v_, h_, k.cross(s_), inp)
        return dv_, k.slow(v_, s_), dh_
    k1 = f(v, s, h)
    k2 = f(v + 0.5 * dt * k1[0], s + 0.5 * dt * k1[1], _add(h, k1[2], 0.5 * dt))
    k3 = f(v + 0.5 * dt * k2[0], s + 0.5 * dt * k2[1], _add(h, k2[2], 0.5 * dt))
    k4 = f(v + dt * k3[0], s + dt * k3[1], _add(h, k3[2], dt))
    comb = lambda i, x: None if x is None else x + dt / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i])
    return comb(0, v), comb(1, s), comb(2, h)


def _progress_bar(progress, total):
    """A tqdm bar when asked for and on a terminal (never in CI); ``progress`` may be a description."""
    import os
    import sys
    if not progress or os.environ.get("CI") or not sys.stderr.isatty():
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=progress if isinstance(progress, str) else "simulate", leave=False)


def resolve_backend(backend: str, model: GSEMM, state: State, steps: int = 1, method: str = "rk4",
                    record_every: int = 1, record: Iterable[str] = ("overlaps",), inputs=None) -> Choice:
    """The backend :func:`simulate` runs for these arguments (:meth:`networks.backends.Family.resolve`).

    ``"auto"`` takes the first usable of: the compiled ``native`` loop (CPU, supported Lagrangians, it
    builds); the fused ``triton`` kernel (CUDA only, when it applies); ``subspace`` when it applies and is
    worth it (on CUDA, or N ≥ 4(P + 2)); else ``dense``. All agree to float rounding (tested). An explicit
    name that cannot run raises :class:`~networks.backends.BackendError` with the cause.

    >>> import torch
    >>> from networks.gsemm import cycle, lisem
    >>> net = lisem(torch.eye(4, 2, dtype=torch.float64), cycle(2, dtype=torch.float64))
    >>> resolve_backend("subspace", net, net.init_state(torch.ones(4)))
    Traceback (most recent call last):
    ...
    networks.backends.BackendError: backend='subspace' does not apply: the feature layer is nonlinear ...)
    """
    from .triton_ops import why_not_triton
    from .native import why_not_native
    v = state.v
    record = tuple(record)
    return FAMILY.resolve(backend, {
        "native": lambda: why_not_native(model),
        "triton": lambda: why_not_triton(model, state, steps, method, record_every, record, inputs),
        "subspace": lambda: why_not_subspace(model, inputs),
    }, auto_only={
        "triton": None if v.is_cuda else "'auto' runs the fused kernel on CUDA only (the interpreter is for tests)",
        "subspace": None if v.is_cuda or model.N >= 4 * (model.P + 2) else
        f"reduced coordinates pay off on the CPU only for N >= 4(P + 2) = {4 * (model.P + 2)} (N = {model.N})",
    })


def _simulate_native_chunked(model, state, steps, dt, method, record_every, record, inputs, progress):
    """Run the native loop in chunks (a multiple of ``record_every``) so that a progress bar can move
    and Ctrl-C is honoured between chunks; chunking is exact."""
    from .native import simulate_native
    chunk = record_every * max(1, 20000 // record_every)
    bar = _progress_bar(progress, steps)
    parts, done = [], 0
    st = state
    while True:
        n = min(chunk, steps - done)
        inp = inputs if inputs is None or inputs.dim() == 2 else inputs[done:done + n]
        st, tr = simulate_native(model, st, steps=n, dt=dt, method=method, record_every=record_every,
                                 record=record, inputs=inp)
        parts.append(tr)
        done += n
        if bar is not None:
            bar.update(n)
        if done >= steps:
            break
    if bar is not None:
        bar.close()
    if len(parts) == 1:
        return st, parts[0]
    sig = {k: torch.cat([parts[0].signals[k]] + [p.signals[k][1:] for p in parts[1:]]) for k in parts[0].signals}
    n_samples = steps // record_every + 1
    t = torch.arange(n_samples, dtype=torch.float64) * (record_every * float(dt))
    return st, Trajectory(t=t, signals=sig, method=method, backend="native", dt=float(dt), record_every=record_every)


def _input_at(inputs, i):
    if inputs is None:
        return None
    return inputs if inputs.dim() == 2 else inputs[i]


def simulate(model: GSEMM, state: State, *, steps: int, dt: float, method: str = "rk4",
             record_every: int = 1, record: Iterable[str] = ("overlaps",), inputs: Tensor | None = None,
             backend: str = "auto", progress: bool | str = False,
             cuda_graph: bool | None = None) -> tuple[State, Trajectory]:
    r"""Integrate ``steps`` fixed steps of size ``dt`` from ``state``; return the final state and the
    recorded :class:`Trajectory` (samples at t = 0, k·dt, 2k·dt, … with k = ``record_every``).

    ``inputs`` is an external current: ``None``, a constant ``(B, N)`` tensor, or ``(steps, B, N)``.
    On CUDA, ``cuda_graph`` (default: on when there is no time-varying input) replays chunks of
    ``record_every`` steps as one captured CUDA graph (same kernels, same results, no launch overhead).
    Runs under ``torch.no_grad()``; chunking is exact: ``simulate(s, n1 + n2)`` equals
    ``simulate(simulate(s, n1).state, n2)`` when ``n1`` is a multiple of ``record_every``.

    Each step of ``method`` (``"euler"``, ``"rk4"``, ``"split"``; see the module docstring) advances
    :math:`T_f\dot v = \sqrt{α_s}Ξσ_h(h) − v + I`, :math:`T_d\dot s = β_dσ_f(v) − s` (and h when
    ``T_h > 0``) by ``dt``; ``dt`` must pass :func:`check_dt`. ``record`` names signals from
    ``("v", "s", "hidden", "overlaps", "energy", "F", "S")``; ``backend`` is one of
    ``("auto", "dense", "subspace", "native", "triton")``; ``progress`` shows a bar on a terminal.

    Dtypes: the state must already have the network's dtype and device (build it with
    :meth:`GSEMM.init_state`, which casts the cue); a float32 state for a float64 network raises a
    ValueError rather than being cast, because the state is the network's own variable and a
    silent cast would hide a precision mismatch (such a state never ran: the native backend refused it
    and the others failed inside torch). The external
    ``inputs`` are data and are cast to the state's dtype and device.

    >>> import torch
    >>> from networks.gsemm import cycle, decode, dsem, hadamard_patterns
    >>> xi = hadamard_patterns(16, 3, dtype=torch.float64)
    >>> net = dsem(xi, cycle(3, dtype=torch.float64), alpha_c=2.0, beta=5.0, T_d=2.0)
    >>> final, traj = simulate(net, net.init_state(xi[:, 0]), steps=600, dt=0.05, record_every=5,
    ...                        record=("overlaps", "energy"), backend="dense")
    >>> traj.overlaps.shape, traj.energy.shape, traj.t[-1].item()
    (torch.Size([121, 1, 3]), torch.Size([121, 1]), 30.0)
    >>> decode(traj.overlaps[:, 0], 5 * 0.05).order[:4]
    [0, 1, 2, 0]
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    state, steps, record_every, record, inputs = check_run_args(
        model, state, steps=steps, dt=dt, method=method, record_every=record_every, record=record, inputs=inputs)
    v, s, h = state

    choice = resolve_backend(backend, model, state, steps, method, record_every, record, inputs)
    if choice in ("triton", "native"):
        if choice == "triton":  # one fused kernel launch for the whole run (networks/gsemm/triton_ops.py)
            from .triton_ops import simulate_fused
            final, traj = simulate_fused(model, state, steps=steps, dt=dt, method=method, record_every=record_every,
                                         record=record, inputs=inputs)
        else:  # compiled C loop (networks/gsemm/native.py)
            final, traj = _simulate_native_chunked(model, state, steps, dt, method, record_every, record, inputs,
                                                   progress)
        traj.skipped = choice.skipped
        return final, traj
    k = Subspace(model, v, s) if choice == "subspace" else Dense(model)

    n_samples = steps // record_every + 1
    buffers: dict[str, Tensor] = {}
    t = torch.arange(n_samples, dtype=torch.float64) * (record_every * float(dt))

    def put(j, x, y, hh, inp):
        sig = k.signals(x, y, hh, record, inp)
        for name, val in sig.items():
            if name not in buffers:
                buffers[name] = val.new_empty((n_samples, *val.shape))
            buffers[name][j] = val

    bar = _progress_bar(progress, steps)
    if cuda_graph is None:
        cuda_graph = v.is_cuda and (inputs is None or inputs.dim() == 2) and steps >= 2 * record_every
    if cuda_graph and not v.is_cuda:
        raise ValueError("cuda_graph=True needs CUDA tensors")
    if cuda_graph and inputs is not None and inputs.dim() == 3:
        raise ValueError("cuda_graph=True supports no input or a constant (B, N) input; pass cuda_graph=False")
    with torch.no_grad():
        x, y = k.to_coords(v, s)
        hh = h
        if record:
            put(0, x, y, hh, _input_at(inputs, 0) if inputs is not None and steps > 0 else None)
        if cuda_graph:
            from .graphs import GraphedChunk
            chunk = GraphedChunk(k, x, y, hh, dt=dt, method=method, n=record_every, inp=inputs)
            for j in range(1, steps // record_every + 1):
                x, y, hh = chunk(x, y, hh)
                if record:
                    put(j, x, y, hh, inputs)
                if bar is not None:
                    bar.update(record_every)
            x, y = x.clone(), y.clone()
            hh = None if hh is None else hh.clone()
            for i in range((steps // record_every) * record_every, steps):  # remainder, eagerly
                x, y, hh = step(k, x, y, hh, dt, method, inputs)
        else:
            for i in range(steps):
                x, y, hh = step(k, x, y, hh, dt, method, _input_at(inputs, i))
                if record and (i + 1) % record_every == 0:
                    put((i + 1) // record_every, x, y, hh, _input_at(inputs, i))
                if bar is not None and (i + 1) % 1000 == 0:
                    bar.update(1000)
        final = State(k.to_full(x), k.to_full(y), hh)
    if bar is not None:
        bar.close()
    traj = Trajectory(t=t, signals=buffers, method=method, backend=k.name, dt=float(dt), record_every=record_every,
                      skipped=choice.skipped)
    return final, traj
