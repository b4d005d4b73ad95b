r"""A streaming learner: a GSEMM network plus a learning rule, fed a stream chunk by chunk.

Each step with presented pattern :math:`x_t` (B, N):

* ``input_mode="clamp"`` (teacher forcing): :math:`v ← x_t`, :math:`s ← s + dt\,(β_d v − s)/T_d`;
* ``input_mode="current"``: one integrator step of the network with input current ``gain · x_t``;

then the rule returns (ΔΞ, ΔΦ, rule state) and the learner applies Δ — plainly, or through the ``.grad``
route (:func:`plasticity.to_grad` + any torch optimizer), so a BPTT control needs no other change.
Learning runs under ``torch.no_grad()`` unless ``differentiable=True``.

Contracts (tested): ``run(a ++ b)`` equals ``run(a); run(b)`` (state, weights, rule traces, monitors);
``save → load → continue`` equals an uninterrupted run (exactly, CPU float64); streams with per-stream
weights are independent; bad input raises ``ValueError`` before any state changes; Ctrl-C during
``run(..., checkpoint=path)`` leaves a loadable checkpoint of the last completed step.

Example
-------
>>> import torch
>>> from networks.gsemm import dsem, random_patterns
>>> from networks.gsemm.learner import Learner
>>> from networks.gsemm.learning import RecruitingRule
>>> X = random_patterns(32, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
>>> net = dsem(torch.zeros(32, 6, dtype=torch.float64), torch.zeros(6, 6, dtype=torch.float64), alpha_c=2.0)
>>> lrn = Learner(net, RecruitingRule(), dt=0.05, monitors=("energy",), monitor_every=10)
>>> chunk = X.T.repeat_interleave(40, 0)[:, None, :]        # (T, B, N): each pattern for 40 steps
>>> lrn.run(chunk)
>>> lrn.steps, lrn.monitor("energy").shape
(120, torch.Size([12, 1]))
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import Tensor

from plasticity import to_grad
from plasticity.checks import finite_number, int_at_least, known, positive

from . import lagrangians
from .integrate import _progress_bar, check_dt, step as _integrate_step
from .learning import RULES, check_rule
from .model import SIGNALS, GSEMM, State
from .rhs import Dense

__all__ = ["Learner", "FORMAT", "VERSION", "MONITORS"]

FORMAT = "seqplastic.gsemm.learner"
VERSION = 1
#: what a learner can record: the model's :data:`~networks.gsemm.model.SIGNALS` of the state (less F and S,
#: which describe the free flow, not a clamped step) and the weights
MONITORS = tuple(n for n in SIGNALS if n not in ("F", "S")) + ("xi", "phi")


def read_checkpoint(path: str | Path, fmt: str, version: int, what: str) -> dict:
    """The dict of a versioned checkpoint written by :meth:`Learner.save` or a sibling (``torch.load`` with
    ``weights_only=True``); a missing, corrupt, foreign or other-version file raises ``ValueError`` naming it.

    >>> read_checkpoint("no/such.pt", FORMAT, VERSION, "learner")
    Traceback (most recent call last):
    ...
    ValueError: checkpoint no/such.pt does not exist
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"checkpoint {path} does not exist")
    try:
        ck = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as e:
        raise ValueError(f"checkpoint {path} is corrupt or not a {what} checkpoint: {e}") from e
    if not isinstance(ck, dict) or ck.get("format") != fmt:
        raise ValueError(f"{path} is not a {fmt} checkpoint")
    if ck.get("version") != version:
        raise ValueError(f"{path} has checkpoint version {ck.get('version')!r}, this library reads version {version!r}")
    return ck


def _coef_cfg(a):
    return a.reshape(-1).clone() if isinstance(a, Tensor) else float(a)


def _lag_cfg(L) -> dict:
    return {"class": type(L).__name__, **dataclasses.asdict(L)}


def _lag_from(cfg: dict):
    cfg = dict(cfg)
    cls = getattr(lagrangians, cfg.pop("class"), None)
    if cls is None or not isinstance(cls, type):
        raise ValueError("checkpoint names an unknown Lagrangian; it was written by an incompatible version")
    return cls(**cfg)


class Learner:
    r"""GSEMM + learning rule, streamed (see the module docstring).

    Parameters: ``model`` (a :class:`GSEMM`; its Ξ/Φ are the initial weights, shared or per stream),
    ``rule`` (:class:`~networks.gsemm.learning.RecruitingRule` or ``AuthorsRule``), ``dt``, ``batch``
    (streams; default: the per-stream weight batch or 1), ``input_mode`` (default: the rule's), ``gain``
    (input-current gain), ``method`` (integrator for ``current`` mode), ``monitors`` (names from
    :data:`MONITORS`) recorded every ``monitor_every`` steps, ``learn`` (False: no weight change),
    ``optimizer`` (a callable ``params -> torch.optim.Optimizer``: Δ goes through ``.grad``),
    ``differentiable`` (do not wrap in ``no_grad``), ``seed`` (the learner's generator).

    Each step with presented pattern :math:`x_t` (B, N): ``clamp`` sets :math:`v ← x_t`,
    :math:`s ← s + dt\,(β_dσ_f(v) − s)/T_d`; ``current`` takes one ``method`` step of the network with
    input :math:`I = \mathrm{gain}·x_t`; then :math:`(ΔΞ, ΔΦ) = \mathrm{rule.update}(…)` is added to the
    weights (or written into ``.grad`` for ``optimizer``). :attr:`model` is the network with the
    current weights.

    Dtypes: the weights (and so v, s and the monitors) keep the dtype and device of ``model``. A
    stream chunk is data and is cast to them in :meth:`run` / :meth:`step` (a float32 chunk for a
    float64 learner is upcast exactly; a float64 chunk for a float32 learner is rounded), the same
    convention as :meth:`GSEMM.init_state`. The cast is kept rather than refused because ±1 patterns
    are exact in every float dtype and the learner has always accepted, e.g., the float32 default of
    :func:`~networks.gsemm.patterns.random_patterns` for a float64 network.

    >>> import torch
    >>> from networks.gsemm import dsem
    >>> from networks.gsemm.learning import AuthorsRule, RecruitingRule
    >>> net = dsem(torch.zeros(8, 4), torch.zeros(4, 4), T_f=0.008, T_d=0.4)
    >>> Learner(net, AuthorsRule(), dt=1e-3).input_mode
    'current'
    >>> D = torch.float64
    >>> lrn = Learner(dsem(torch.zeros(8, 4, dtype=D), torch.zeros(4, 4, dtype=D)), RecruitingRule(), dt=0.05)
    >>> x = torch.tensor([1., -1., 1., 1., -1., 1., -1., -1.])             # float32 pattern
    >>> lrn.run(x.repeat(5, 1, 1))                                          # (T=5, B=1, N=8)
    >>> lrn.steps, lrn.v.dtype, lrn.rule_state.committed.tolist()
    (5, torch.float64, [[True, False, False, False]])
    """

    def __init__(self, model: GSEMM, rule, *, dt: float, batch: int | None = None, input_mode: str | None = None,
                 gain: float = 1.0, method: str = "euler", monitors: Iterable[str] = (), monitor_every: int = 1,
                 learn: bool = True, optimizer: Callable | None = None, differentiable: bool = False, seed: int = 0):
        if not isinstance(model, GSEMM):
            raise ValueError("model must be a networks.gsemm.GSEMM")
        model.check()
        check_rule(rule)
        if not model.instantaneous:
            raise ValueError("the learner needs an instantaneous hidden layer (T_h = 0)")
        self.input_mode = input_mode or rule.input_mode
        if self.input_mode not in ("clamp", "current"):
            raise ValueError(f"input_mode must be 'clamp' or 'current', got {self.input_mode!r}")
        if self.input_mode == "current":
            check_dt(model, dt, method)
        dt = positive("dt", dt)
        if self.input_mode == "clamp" and not dt < model.T_d:
            raise ValueError(f"dt={dt} must be < T_d={model.T_d} for the clamped slow population")
        monitors = known("monitor", monitors, MONITORS)
        monitor_every = int_at_least("monitor_every", monitor_every, 1, whole_floats=True)
        gain = finite_number("gain", gain)
        B = model.xi.shape[0] if model.xi.dim() == 3 else (batch or 1)
        if batch is not None and batch != B:
            raise ValueError(f"batch={batch} contradicts the per-stream weights' batch {B}")
        self._base = model
        self.rule = rule
        self.dt, self.method, self.gain = dt, method, gain
        self.batch = B
        self.monitors, self.monitor_every = monitors, monitor_every
        self.learn, self.differentiable, self.seed = learn, differentiable, int(seed)
        self.xi = torch.nn.Parameter(model.xi.detach().clone(), requires_grad=differentiable or optimizer is not None)
        self.phi = torch.nn.Parameter(model.phi.detach().clone(), requires_grad=differentiable or optimizer is not None)
        self._opt_factory = optimizer
        self.optimizer = optimizer([self.xi, self.phi]) if optimizer is not None else None
        self.generator = torch.Generator().manual_seed(self.seed)
        self._live: GSEMM | None = None
        self.reset()

    # ------------------------------------------------------------------------------ state
    @property
    def model(self) -> GSEMM:
        """The network with the current weights (a validated copy)."""
        return self._base.replace(xi=self.xi.detach().clone(), phi=self.phi.detach().clone())

    @property
    def state(self) -> State:
        """The dynamic state (v, s, h) — ``h`` is None (instantaneous hidden layer)."""
        return State(self.v, self.s, None)

    def reset(self) -> None:
        """Zero the dynamic state (v = s = 0), the rule traces, the step counter and the monitors;
        the weights are kept."""
        z = self.xi.new_zeros(self.batch, self._base.N)
        self.v, self.s = z.clone(), z.clone()
        self.rule_state = self.rule.init_state(self._base, self.batch)
        self.steps = 0
        self._records: dict[str, list[Tensor]] = {m: [] for m in self.monitors}

    def reset_state(self) -> None:
        """Zero the dynamic state v, s (e.g. between epochs) and the rule's transient traces (if it has
        ``reset_transient``), keeping learned structure, weights and counters."""
        self.v = torch.zeros_like(self.v)
        self.s = torch.zeros_like(self.s)
        if hasattr(self.rule, "reset_transient"):
            self.rule_state = self.rule.reset_transient(self.rule_state)

    def monitor(self, name: str) -> Tensor:
        """Everything recorded for ``name`` so far, ``(T, B, ...)`` (one sample every ``monitor_every`` steps)."""
        if name not in self._records:
            raise ValueError(f"{name!r} is not monitored; pass monitors=(..., {name!r})")
        chunks = self._records[name]
        if not chunks:
            return torch.empty(0)
        return torch.cat(chunks, 0)

    # ------------------------------------------------------------------------------ input checks
    def _check_chunk(self, chunk) -> Tensor:
        if not isinstance(chunk, Tensor):
            raise ValueError("chunk must be a torch tensor of shape (T, B, N)")
        if chunk.dim() != 3:
            raise ValueError(f"chunk must have shape (T, B, N), got {tuple(chunk.shape)}")
        if chunk.shape[0] == 0:
            raise ValueError("chunk is an empty sequence (T = 0); pass at least one step")
        if chunk.shape[2] != self._base.N:
            raise ValueError(f"chunk has pattern width {chunk.shape[2]} but the network has N = {self._base.N}")
        if chunk.shape[1] != self.batch:
            raise ValueError(f"chunk has batch {chunk.shape[1]} but the learner has {self.batch} streams")
        if not chunk.is_floating_point() and chunk.dtype != torch.bool and chunk.dtype.is_complex:
            raise ValueError(f"chunk must be real-valued, got {chunk.dtype}")
        chunk = chunk.to(dtype=self.xi.dtype, device=self.xi.device)
        if not bool(torch.isfinite(chunk).all()):
            raise ValueError("chunk contains NaN or inf; clean the stream before feeding it")
        return chunk

    # ------------------------------------------------------------------------------ stepping
    def step(self, x: Tensor) -> State:
        """One step with presented pattern / current ``x`` (B, N) (or (N,) for one stream); returns the state."""
        if isinstance(x, Tensor) and x.dim() == 1:
            x = x[None]
        if not isinstance(x, Tensor) or x.dim() != 2:
            raise ValueError("x must be a (B, N) tensor")
        self.run(x[None])
        return self.state

    def run(self, chunk: Tensor, *, checkpoint: str | Path | None = None, progress: bool | str = False) -> None:
        """Feed a chunk ``(T, B, N)`` of the stream. With ``checkpoint``, Ctrl-C saves the state of the last
        completed step there before re-raising. ``progress`` (True or a description) shows a bar over the
        chunk's steps on a terminal (as :func:`~networks.gsemm.simulate` does).

        The chunk is checked (shape, finite) and cast to the weights' dtype and device before any state
        changes (see the class docstring: a float32 stream into a float64 learner is upcast exactly).
        ``run(a ++ b)`` equals ``run(a); run(b)``.

        >>> import torch
        >>> from networks.gsemm import dsem
        >>> from networks.gsemm.learning import RecruitingRule
        >>> lrn = Learner(dsem(torch.zeros(4, 2), torch.zeros(2, 2)), RecruitingRule(), dt=0.1)
        >>> lrn.run(torch.ones(3, 1, 4)); lrn.steps
        3
        """
        chunk = self._check_chunk(chunk)
        T = chunk.shape[0]
        k = self.monitor_every
        first = (-self.steps) % k          # index in this chunk of the first sample (global step % k == 0)
        n_rec = 0 if first >= T else (T - 1 - first) // k + 1
        bufs: dict = {}
        done = 0                           # samples recorded so far in this chunk
        bar = _progress_bar(progress if progress is not True else "learning", T)
        try:
            ctx = torch.enable_grad() if self.differentiable else torch.no_grad()
            with ctx:
                for i in range(T):
                    if self.monitors and i >= first and (i - first) % k == 0:
                        self._record(bufs, (i - first) // k, n_rec)
                        done += 1
                    self._one(chunk[i])
                    if bar is not None:
                        bar.update(1)
        except KeyboardInterrupt:
            self._flush(bufs, done)        # only the samples of completed steps
            if checkpoint is not None:
                self.save(checkpoint)
            raise
        finally:
            if bar is not None:
                bar.close()
        self._flush(bufs, done)

    def _net(self) -> GSEMM:
        """The network on the live weights (the constructor's cheap shape checks only; the values are checked
        at every update by :meth:`_apply`). Rebuilt only when a weight tensor is replaced (``differentiable``)."""
        m = self._live
        if m is None or m.xi is not self.xi or m.phi is not self.phi:
            m = self._live = self._base.replace(xi=self.xi, phi=self.phi)
        return m

    def _one(self, x: Tensor) -> None:
        m = self._net()
        old = State(self.v, self.s, None)
        if self.input_mode == "clamp":          # v clamped to x, one Euler step of the slow population
            v = x
            s = self.s + self.dt * m.slow(v, self.s)
        else:
            v, s, _ = _integrate_step(Dense(m), self.v, self.s, None, self.dt, self.method, self.gain * x)
        if self.learn:
            dxi, dphi, rs = self.rule.update(m, x, old, State(v, s, None), self.rule_state, self.dt)
            self._apply(dxi, dphi)
            self.rule_state = rs
        self.v, self.s = v, s
        self.steps += 1

    def _apply(self, dxi: Tensor, dphi: Tensor) -> None:
        if not bool(torch.isfinite(dxi).all() & torch.isfinite(dphi).all()):        # one device sync per step
            raise ValueError(
                f"step {self.steps}: the rule produced a non-finite update (ΔΞ or ΔΦ is NaN/inf); it was not applied, "
                f"the learner holds its last finite state (saveable). Lower the learning rates or check the model")
        if self.optimizer is not None:
            to_grad(self.xi, dxi)
            to_grad(self.phi, dphi)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        elif self.differentiable:
            self.xi = self.xi + dxi
            self.phi = self.phi + dphi
        else:
            self.xi.data.add_(dxi)
            self.phi.data.add_(dphi)

    def _record(self, bufs: dict, j: int, n: int) -> None:
        with torch.no_grad():                    # monitors are detached samples
            m = self._net()
            vals = m.signals(State(self.v.detach(), self.s.detach(), None), self.monitors)
            for name, w in (("xi", m.xi), ("phi", m.phi)):
                if name in self.monitors:
                    vals[name] = (w.expand(self.batch, *w.shape[-2:]) if w.dim() == 2 else w).detach()
        for name in self.monitors:
            val = vals[name]
            if name not in bufs:
                bufs[name] = val.new_empty((n, *val.shape))
            bufs[name][j] = val

    def _flush(self, bufs: dict, n: int) -> None:
        for name, buf in bufs.items():
            self._records[name].append(buf[:n])
        bufs.clear()

    # ------------------------------------------------------------------------------ checkpoints
    def _config(self) -> dict:
        b = self._base
        return {
            "model": {"feature": _lag_cfg(b.feature), "hidden": _lag_cfg(b.hidden), "alpha_s": _coef_cfg(b.alpha_s),
                      "alpha_c": _coef_cfg(b.alpha_c), "beta_d": _coef_cfg(b.beta_d), "T_f": float(b.T_f),
                      "T_d": float(b.T_d), "T_h": float(b.T_h)},
            "rule": self.rule.config(),
            "dt": self.dt, "batch": self.batch, "input_mode": self.input_mode, "gain": self.gain, "method": self.method,
            "monitors": list(self.monitors), "monitor_every": self.monitor_every, "learn": self.learn,
            "seed": self.seed,
        }

    def save(self, path: str | Path) -> Path:
        """Write one versioned checkpoint (weights, dynamic state, rule traces, RNG, optimizer, config,
        monitors) to a temporary name, then rename it into place."""
        path = Path(path)
        ckpt = {
            "format": FORMAT, "version": VERSION, "config": self._config(),
            "params": {"xi": self.xi.detach().clone(), "phi": self.phi.detach().clone()},
            "state": {"v": self.v.detach().clone(), "s": self.s.detach().clone(), "steps": self.steps},
            "rule_state": {k: v.clone() for k, v in self.rule_state._asdict().items()},
            "rng": self.generator.get_state(),
            "optimizer": self.optimizer.state_dict() if self.optimizer is not None else None,
            "monitors": {k: [c.clone() for c in v] for k, v in self._records.items()},
        }
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        torch.save(ckpt, tmp)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | Path, *, optimizer: Callable | None = None) -> "Learner":
        """Rebuild a learner from :meth:`save` (``torch.load(weights_only=True)``). A missing, corrupt or
        incompatible file raises ``ValueError`` naming the problem."""
        path = Path(path)
        ck = read_checkpoint(path, FORMAT, VERSION, "learner")
        try:
            cfg = ck["config"]
            mc = cfg["model"]
            rc = dict(cfg["rule"])
            name = rc.pop("name")
            if name not in RULES:
                raise ValueError(f"rule {name!r} is not registered; call networks.gsemm.register_rule(YourRule) "
                                 f"before Learner.load (registered: {sorted(RULES)})")
            rule_cls = RULES[name]
            rule = rule_cls(**rc)
            model = GSEMM(ck["params"]["xi"], ck["params"]["phi"], _lag_from(mc["feature"]), _lag_from(mc["hidden"]),
                          mc["alpha_s"], mc["alpha_c"], mc["beta_d"], mc["T_f"], mc["T_d"], mc["T_h"])
            lrn = cls(model, rule, dt=cfg["dt"], batch=cfg["batch"], input_mode=cfg["input_mode"], gain=cfg["gain"],
                      method=cfg["method"], monitors=cfg["monitors"], monitor_every=cfg["monitor_every"],
                      learn=cfg["learn"], optimizer=optimizer, seed=cfg["seed"])
            st = ck["state"]
            for name in ("v", "s"):
                ref, val = getattr(lrn, name), st[name]
                if not isinstance(val, torch.Tensor) or val.shape != ref.shape or val.dtype != ref.dtype:
                    raise ValueError(f"state {name!r} is {getattr(val, 'dtype', type(val).__name__)} "
                                     f"{tuple(getattr(val, 'shape', ()))}, the weights need {ref.dtype} "
                                     f"{tuple(ref.shape)}")
                if not bool(torch.isfinite(val).all()):
                    raise ValueError(f"state {name!r} contains NaN or inf")
            steps = st["steps"]
            if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
                raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
            lrn.v, lrn.s, lrn.steps = st["v"], st["s"], steps
            proto = lrn.rule_state
            fields = ck["rule_state"]
            if set(fields) != set(proto._fields):
                raise ValueError(f"rule state fields {sorted(fields)} do not match {sorted(proto._fields)}")
            for k in proto._fields:
                ref, val = getattr(proto, k), fields[k]
                if isinstance(ref, torch.Tensor) and (not isinstance(val, torch.Tensor) or val.shape != ref.shape
                                                      or val.dtype != ref.dtype):
                    raise ValueError(f"rule state {k!r} has shape/dtype {tuple(getattr(val, 'shape', ()))}/"
                                     f"{getattr(val, 'dtype', None)}, expected {tuple(ref.shape)}/{ref.dtype}")
            lrn.rule_state = type(proto)(**{k: fields[k] for k in proto._fields})
            unknown = set(ck["monitors"]) - set(MONITORS)
            if unknown:
                raise ValueError(f"unknown monitor(s) {sorted(unknown)}; this library records {list(MONITORS)}")
            try:
                lrn.generator.set_state(ck["rng"])
            except (RuntimeError, TypeError) as e:
                raise ValueError(f"the saved random-generator state is malformed ({e})") from e
            if ck.get("optimizer") is not None and lrn.optimizer is None:
                raise ValueError(f"checkpoint {path} holds optimizer state: pass optimizer= (the same factory as when "
                                 "it was saved) to Learner.load, or the run would continue with plain updates")
            if lrn.optimizer is not None and ck.get("optimizer") is not None:
                lrn.optimizer.load_state_dict(ck["optimizer"])
            lrn._records = {k: list(v) for k, v in ck["monitors"].items()}
        except (KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"checkpoint {path} is incompatible (missing or malformed entry: {e})") from e
        return lrn
