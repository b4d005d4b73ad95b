r"""Rate mirror of the context GSEMM (:class:`networks.gsemm.context.ContextGSEMM`) as Brian2 equations.

Three graded (non-spiking) populations coupled through summed synaptic variables:

* ``features`` (N): :math:`T_f\dot v_i = \sqrt{α_s}\,U_i/Z_i − v_i + I_i`, with
  :math:`U_i = \sum_μ \hat ξ_{μi} e_μ` and :math:`Z_i = \sum_μ e_μ` summed from the cells (the divisive
  normalisation of the softmax);
* ``cells`` (K): :math:`T_h\dot u_μ = \sqrt{α_s}\,a_μ + c_μ − u_μ` with the bottom-up sum
  :math:`a_μ = \sum_i \hat ξ_{μi} v_i` and the context term :math:`c_μ = \tfrac1β\log(ε + q_μ)` (``drive="log"``)
  or :math:`γ q_μ` (``"linear"``), :math:`q_μ = \sum_ν Φ_{μν} d_ν` summed over the transition synapses;
  :math:`e_μ = \exp(β(u_μ − u_0))`; the trace :math:`T_d\dot d_μ = e_μ/Z − d_μ`.

The cue is applied as input :math:`I` for ``cue_time`` and as the initial feature state, like
:meth:`ContextGSEMM.simulate <networks.gsemm.context.ContextGSEMM.simulate>`; the tests check that a network
learned from a high-order stream replays in Brian2 in the same order as in torch.
The equation strings come from :mod:`networks.spiking.equations` (``context_features``, ``context_cells``,
``bottom_up``, ``softmax_feedback``, ``context_transitions``).

Example
-------
>>> import torch                                                                   # doctest: +SKIP
>>> from networks.gsemm.context import ContextGSEMM                                # doctest: +SKIP
>>> net = ContextGSEMM(torch.eye(4), torch.diag(torch.ones(3), -1), beta=10.0, T_f=0.1, T_h=0.05,
...                    T_d=0.5)                                                    # doctest: +SKIP
>>> ContextRateMirror(net, duration=30.0, dt=0.01).run(torch.eye(4)[0]).order()     # doctest: +SKIP
[0, 1, 2, 3]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .equations import bottom_up, context_cells, context_features, context_transitions, softmax_feedback
from .params import _check_cue, _numpy
from .targets import BrianSim


@dataclass
class ContextRateResult:
    """``t`` (T,) model time, ``v`` (T, N) features, ``h`` (T, K) cell activities, ``cells`` (T,) most active cell.

    >>> r = ContextRateResult(t=np.arange(3.0), v=np.zeros((3, 2)), h=np.eye(3), cells=np.arange(3))
    >>> r.order()
    [0, 1, 2]
    """

    t: np.ndarray
    v: np.ndarray
    h: np.ndarray
    cells: np.ndarray

    def order(self) -> list[int]:
        """The visited cells, consecutive repeats merged."""
        c = self.cells
        return [int(c[0])] + [int(b) for a, b in zip(c[:-1], c[1:]) if a != b] if len(c) else []


class ContextRateMirror(BrianSim):
    """The context GSEMM's ODEs in Brian2, built from a torch :class:`~networks.gsemm.context.ContextGSEMM`
    (quadratic feature Lagrangian). ``duration``, ``dt`` and ``cue_time`` are in model time units;
    ``record_every`` steps between samples; ``target`` as for :class:`~networks.spiking.RateMirror`.

    >>> import torch                                                               # doctest: +SKIP
    >>> from networks.gsemm.context import ContextGSEMM                            # doctest: +SKIP
    >>> net = ContextGSEMM(torch.eye(3), torch.diag(torch.ones(2), -1), beta=10.0, T_f=0.1, T_h=0.05,
    ...                    T_d=0.5)                                                # doctest: +SKIP
    >>> ContextRateMirror(net, duration=20.0, dt=0.01).run(torch.eye(3)[0]).order() # doctest: +SKIP
    [0, 1, 2]
    """

    def __init__(self, net, *, duration: float, dt: float, cue_time: float = 1.0, record_every: int = 1,
                 target: str = "runtime", directory: str | None = None, time_unit: float = 1e-3, seed: int = 0,
                 **target_kw):
        if type(net.feature).__name__ != "Quadratic":
            raise ValueError("the Brian2 context mirror builds the quadratic feature Lagrangian only")
        if int(record_every) != record_every or record_every < 1:
            raise ValueError(f"record_every must be an integer >= 1, got {record_every}")
        if not (dt > 0 and dt < min(net.T_f, net.T_h, net.T_d)):
            raise ValueError(f"dt={dt} must be > 0 and below the smallest time constant (explicit Euler)")
        if not (0 <= cue_time < duration):
            raise ValueError(f"cue_time={cue_time} must be in [0, duration={duration})")
        self.model = net
        self.xi = _numpy(net.xi_unit)                      # (K, N)
        self.phi = _numpy(net.phi)                         # (K, K), Φ[post, pre]
        self.K, self.N = self.xi.shape
        self.record_every, self.time_unit, self.dt, self.cue_time = int(record_every), float(time_unit), float(dt), \
            float(cue_time)
        super().__init__(target=target, directory=directory, dt_s=dt * time_unit, duration_s=duration * time_unit,
                         seed=seed, **target_kw)

    def _objects(self) -> dict:
        b2, N, K = self.b2, self.N, self.K
        net = self.model
        f, cell, up, back, trans = (context_features(), context_cells(net.drive), bottom_up(), softmax_feedback(),
                                    context_transitions())
        feat = b2.NeuronGroup(N, f.model, method="euler", name="features", order=0)
        cells = b2.NeuronGroup(K, cell.model, method="euler", name="cells", order=0)
        f2c = b2.Synapses(feat, cells, up.model, name="f2c")
        f2c.connect(i=np.repeat(np.arange(N), K), j=np.tile(np.arange(K), N))
        c2f = b2.Synapses(cells, feat, back.model, name="c2f")
        c2f.connect(i=np.tile(np.arange(K), N), j=np.repeat(np.arange(N), K))
        c2c = b2.Synapses(cells, cells, trans.model, name="c2c")
        c2c.connect(i=np.repeat(np.arange(K), K), j=np.tile(np.arange(K), K))
        mon_v = b2.StateMonitor(feat, "v", record=True, dt=self.record_every * self.dt_s * b2.second, name="mon_v")
        mon_h = b2.StateMonitor(cells, "u", record=True, dt=self.record_every * self.dt_s * b2.second, name="mon_h")
        return {"features": feat, "cells": cells, "f2c": f2c, "c2f": c2f, "c2c": c2c, "mon_v": mon_v,
                "mon_h": mon_h}

    def _values(self, cue: np.ndarray) -> dict:
        b2, net, K = self.b2, self.model, self.K
        sec = self.time_unit * b2.second
        xh = cue / max(np.linalg.norm(cue), 1e-12)
        sa = float(net.alpha_s) ** 0.5
        # f2c synapse (i, μ) in row-major (N, K) order: weight ξ̂_{μi}; c2f (μ -> i) in the same (i, μ) order;
        # c2c synapse (ν -> μ) in row-major (ν, μ) order: weight Φ[μ, ν]
        w = self.xi.T.reshape(-1)
        return {("features", "v"): xh, ("features", "I"): xh, ("features", "sqrt_as"): sa,
                ("features", "t_cue"): self.cue_time * sec, ("features", "T_f"): net.T_f * sec,
                ("cells", "u"): np.zeros(K), ("cells", "d"): np.zeros(K), ("cells", "sqrt_as"): sa,
                ("cells", "beta"): float(net.beta), ("cells", "gamma"): float(net.gamma),
                ("cells", "eps"): float(net.eps),
                ("cells", "u0"): sa + (float(net.gamma) if net.drive == "linear" else 0.0),
                ("cells", "T_h"): net.T_h * sec, ("cells", "T_d"): net.T_d * sec,
                ("f2c", "w"): w, ("c2f", "w"): w, ("c2c", "phi"): self.phi.T.reshape(-1)}

    def _standalone_defaults(self) -> None:
        self._assign(self._values(np.ones(self.N)))

    def run(self, cue, *, seed: int | None = None) -> ContextRateResult:
        """Simulate from ``v = cue`` (unit-normalised, also the input until ``cue_time``), u = d = 0."""
        cue = _check_cue(cue, self.N)
        if not np.linalg.norm(cue) > 0:
            raise ValueError("cue is all zeros")
        self._execute(self._values(cue), seed)
        v = np.asarray(self.objects["mon_v"].v).T[1:].copy()          # from the first step on, like simulate()
        u = np.asarray(self.objects["mon_h"].u).T[1:].copy()
        if not (np.isfinite(v).all() and np.isfinite(u).all()):
            raise FloatingPointError("the context mirror produced NaN/inf (reduce beta)")
        z = self.model.beta * (u - u.max(1, keepdims=True))
        h = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        t = np.asarray(self.objects["mon_v"].t / self.b2.second)[1:] / self.time_unit
        return ContextRateResult(t=t, v=v, h=h, cells=h.argmax(1))
