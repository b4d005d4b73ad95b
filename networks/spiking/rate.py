r"""Rate mirror: the exact DSEM equations as a Brian2 model built from a torch ``GSEMM``.

Three groups, all non-spiking (graded) and coupled through summed synaptic variables:

* ``hidden`` (P units): :math:`h_μ = \sqrt{α_s}\sum_i Ξ_{iμ}v_i + α_c\sum_i (ΞΦ)_{iμ} s_i`, and
  :math:`e_μ = \exp(β(h_μ − h_0))` (a constant shift :math:`h_0` that leaves the softmax unchanged);
* ``features`` (N units): the divisive normalisation of the soft winner-take-all arrives as two summed inputs,
  :math:`U_i = \sum_μ Ξ_{iμ} e_μ` and :math:`Z_i = \sum_μ e_μ`, so that
  :math:`U_i/Z_i = (Ξ\,\mathrm{softmax}(βh))_i`; :math:`T_f\dot v_i = \sqrt{α_s}\,U_i/Z_i − v_i`,
  :math:`T_d\dot s_i = β_d v_i − s_i` (the slow population).

Scheduling makes one Brian2 step equal one explicit-Euler step of ``networks.gsemm.simulate(method="euler")``:
``h`` is summed first (hidden group order −10), then ``U, Z`` (feature group order 0), then the Euler update.
Time is in the model's units; ``time_unit`` (seconds) maps one model unit to Brian2 time.
The equation strings come from :mod:`networks.spiking.equations` (``dsem_features``, ``dsem_hidden``,
``dsem_drive``, ``softmax_feedback``).

Example
-------
>>> import torch
>>> from networks.gsemm import dsem, cycle, hadamard_patterns
>>> xi = hadamard_patterns(16, 3, dtype=torch.float64)
>>> net = dsem(xi, cycle(3, dtype=torch.float64), alpha_s=0.5, alpha_c=1.0, beta=5.0, T_d=2.0)
>>> m = RateMirror(net, duration=2.0, dt=0.05)                    # doctest: +SKIP
>>> m.run(xi[:, 0].numpy()).overlaps.shape                         # doctest: +SKIP
(40, 3)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .equations import dsem_drive, dsem_features, dsem_hidden, softmax_feedback
from .params import DSEMParams, _check_cue, _run_params, dsem_params
from .targets import BrianSim


@dataclass
class RateResult:
    """``t`` (T,) sample times in model units, ``v`` and ``s`` (T, N), ``overlaps`` (T, P) = vᵀΞ/N.

    Returned by :meth:`RateMirror.run`; for example, a recall decoded from its overlaps:

    >>> import torch
    >>> from networks.gsemm import decode
    >>> ov = np.repeat(np.eye(3), 10, axis=0)                 # pattern 0, then 1, then 2, 10 samples each
    >>> res = RateResult(t=np.arange(30) * 0.1, v=np.zeros((30, 4)), s=np.zeros((30, 4)), overlaps=ov)
    >>> decode(torch.tensor(res.overlaps), sample_dt=0.1).order
    [0, 1, 2]
    """

    t: np.ndarray
    v: np.ndarray
    s: np.ndarray
    overlaps: np.ndarray


class RateMirror(BrianSim):
    r"""The DSEM ODEs as Brian2 equations (see the module docstring), from a torch ``GSEMM`` ``model``.

    ``duration`` and ``dt`` are in model time units; ``record_every`` steps between samples (the first at
    t = 0, like :func:`networks.gsemm.simulate`); ``target`` one of ``runtime``, ``cpp_standalone``,
    ``cuda_standalone``. :meth:`run` accepts a new cue and optionally a new model with the same N, P
    (weights and α/β constants are run-time parameters: standalone builds re-run without compiling).

    >>> import torch                                                              # doctest: +SKIP
    >>> from networks.gsemm import dsem, cycle, hadamard_patterns                 # doctest: +SKIP
    >>> xi = hadamard_patterns(16, 3, dtype=torch.float64)                        # doctest: +SKIP
    >>> m = RateMirror(dsem(xi, cycle(3, dtype=torch.float64)), duration=1.0, dt=0.05)  # doctest: +SKIP
    >>> m.run(xi[:, 0]).v.shape                                                   # doctest: +SKIP
    (20, 16)
    """

    def __init__(self, model, *, duration: float, dt: float, record_every: int = 1, target: str = "runtime",
                 directory: str | None = None, time_unit: float = 1e-3, seed: int = 0, **target_kw):
        self.params: DSEMParams = dsem_params(model)
        if int(record_every) != record_every or record_every < 1:
            raise ValueError(f"record_every must be an integer >= 1, got {record_every}")
        if not time_unit > 0:
            raise ValueError(f"time_unit must be > 0 seconds, got {time_unit}")
        if not dt > 0:
            raise ValueError(f"dt must be > 0, got {dt}")
        if dt >= self.params.T_f:
            raise ValueError(f"dt={dt} must be < T_f={self.params.T_f} (explicit Euler)")
        self.record_every, self.time_unit, self.dt = int(record_every), float(time_unit), float(dt)
        super().__init__(target=target, directory=directory, dt_s=dt * time_unit, duration_s=duration * time_unit,
                         seed=seed, **target_kw)

    # ------------------------------------------------------------------------------------ model
    def _objects(self) -> dict:
        b2, p = self.b2, self.params
        N, P = p.N, p.P
        f, h, drive, back = dsem_features(), dsem_hidden(), dsem_drive(), softmax_feedback()
        feat = b2.NeuronGroup(N, f.model, method="euler", name="features", order=0)
        hid = b2.NeuronGroup(P, h.model, name="hidden", order=-10)
        f2h = b2.Synapses(feat, hid, drive.model, name="f2h")
        f2h.connect(i=np.repeat(np.arange(N), P), j=np.tile(np.arange(P), N))
        h2f = b2.Synapses(hid, feat, back.model, name="h2f")
        h2f.connect(i=np.tile(np.arange(P), N), j=np.repeat(np.arange(N), P))
        mon = b2.StateMonitor(feat, ["v", "s"], record=True, dt=self.record_every * self.dt_s * b2.second,
                              name="rate_mon")
        return {"features": feat, "hidden": hid, "f2h": f2h, "h2f": h2f, "mon": mon}

    def _values(self, params: DSEMParams, cue: np.ndarray) -> dict:
        xi, phi = params.xi, params.phi
        N, P = xi.shape
        # f2h synapse (i, mu) in row-major order of (N, P); h2f synapse (mu -> i) in the same (i, mu) order
        w_s = xi @ phi                          # (ΞΦ)_{iμ}: Σ_i (ΞΦ)_{iμ} s_i = (ΦᵀΞᵀs)_μ
        # shift h0: the self term at a retrieved memory (v ≈ √α_s ξ): α_s max‖ξ_μ‖² keeps exp() in range
        h0 = params.alpha_s * float((xi ** 2).sum(0).max())
        return {("features", "v"): cue, ("features", "s"): np.zeros(N),
                ("features", "sqrt_as"): params.sqrt_alpha_s, ("features", "beta_d"): params.beta_d,
                ("features", "T_f"): params.T_f * self.time_unit * self.b2.second,
                ("features", "T_d"): params.T_d * self.time_unit * self.b2.second,
                ("hidden", "beta"): params.beta, ("hidden", "h0"): h0,
                ("f2h", "w_v"): xi.reshape(-1), ("f2h", "w_s"): w_s.reshape(-1),
                ("f2h", "alpha_c"): params.alpha_c, ("h2f", "w"): xi.reshape(-1)}

    def _standalone_defaults(self) -> None:
        self._assign(self._values(self.params, np.zeros(self.params.N)))

    # -------------------------------------------------------------------------------------- run
    def run(self, cue, *, model=None, seed: int | None = None) -> RateResult:
        """Simulate from ``v = cue``, ``s = 0`` (optionally with the weights and constants of another DSEM
        ``model`` of the same N, P); return a :class:`RateResult`."""
        params = _run_params(model, self.params)
        self._execute(self._values(params, _check_cue(cue, params.N)), seed)
        mon = self.objects["mon"]
        v = np.asarray(mon.v).T.copy()
        s = np.asarray(mon.s).T.copy()
        if not (np.isfinite(v).all() and np.isfinite(s).all()):
            raise FloatingPointError("the rate mirror produced NaN/inf (softmax overflow: reduce beta or the "
                                     "weight scale)")
        t = np.asarray(mon.t / self.b2.second) / self.time_unit
        return RateResult(t=t, v=v, s=s, overlaps=v @ params.xi / params.N)
