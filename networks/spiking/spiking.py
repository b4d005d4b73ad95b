r"""Spiking GSEMM: Poisson feature and hidden neurons built from a torch DSEM ``GSEMM``.

Populations (time in model units; one unit = ``time_unit`` seconds, by default chosen so that T_f = 10 ms):

* **features** (N Poisson neurons): membrane :math:`u_i` integrates hidden spikes through Ξ,
  :math:`T_f\dot u_i = −u_i + T_f\sum_k \frac{\sqrt{α_s}Ξ_{ik}}{R_h T_f}\,S_k(t)`, so that
  :math:`E[u] = v` of the DSEM; neuron i fires at :math:`r_f\,\mathrm{clip}((1 + u_i)/2, 0, 1)`.
  Two synaptic traces of its spikes: fast :math:`x_i` (time constant T_f) and slow :math:`y_i`
  (time constant **T_d**: the slow population), with :math:`\hat v = 2x − 1` and
  :math:`\hat s = β_d(2y − 1)` satisfying :math:`T_d\dot{\hat s} ≈ β_d v − \hat s` in expectation.
* **hidden** (M Poisson neurons per memory, a soft winner-take-all): input
  :math:`h_k = \sqrt{α_s}\sum_i Ξ_{ik}\hat v_i + α_c\sum_l φ_{lk}\,q_l`, :math:`q_l = \sum_i Ξ_{il}\hat s_i`;
  rate :math:`λ_k = R_h\,e^{βh_k}/\sum_l e^{βh_l}` — the divisive normalisation comes from one
  normalising (inhibitory) unit that sums :math:`e^{βh}`; with M copies per memory the population rate of
  memory μ is :math:`R_h\,\mathrm{softmax}(βh)_μ`.
* Ξ is one synapse per (feature, hidden neuron): its summed forward input and its backward spike
  (``on_post``) use the same weight, as the symmetric energy requires; φ_{lk} = Φ_{μν}/M between copies.

Decoded from feature population rates (:mod:`networks.spiking.decode`) a stored sequence is replayed in
the torch model's order.

Example
-------
>>> import torch
>>> from networks.gsemm import dsem, cycle, hadamard_patterns
>>> xi = hadamard_patterns(32, 4, dtype=torch.float64)
>>> net = dsem(xi, cycle(4, dtype=torch.float64), alpha_s=0.5, alpha_c=1.0, beta=4.0, T_d=2.0)
>>> sim = SpikingGSEMM(net, duration=20.0)                  # doctest: +SKIP
>>> res = sim.run(xi[:, 0]); res.decoded(xi.numpy())[:3]     # doctest: +SKIP
[0, 1, 2]
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .decode import population_overlaps
from .params import DSEMParams, dsem_params
from .rate import _check_cue
from .targets import BrianSim


@dataclass(frozen=True)
class SpikeConfig:
    """Spiking parameters (rates in Hz, times in model units unless stated).

    ``M`` hidden neurons per memory; ``r_h`` peak rate of one hidden neuron (population budget
    R_h = M·r_h); ``r_f`` peak feature rate; ``tau_x`` fast trace (default T_f); ``dt`` step (default T_f/50);
    ``time_unit`` seconds per model unit (default: T_f ↦ 10 ms).

    >>> SpikeConfig(M=4).M
    4
    """

    M: int = 8
    r_h: float = 100.0
    r_f: float = 400.0
    tau_x: float | None = None
    dt: float | None = None
    time_unit: float | None = None

    def check(self) -> None:
        """Raise ValueError naming a bad field."""
        if int(self.M) != self.M or self.M < 1:
            raise ValueError(f"M must be an integer >= 1, got {self.M}")
        for name in ("r_h", "r_f"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 Hz, got {getattr(self, name)}")
        for name in ("tau_x", "dt", "time_unit"):
            val = getattr(self, name)
            if val is not None and not val > 0:
                raise ValueError(f"{name} must be > 0, got {val}")


@dataclass
class SpikeResult:
    """Spikes of one run: ``feature_i``/``feature_t`` and ``hidden_i``/``hidden_t`` (t in model units);
    ``N``, ``P``, ``M``, ``duration`` (model units), ``r_f`` (Hz), ``time_unit`` (s).

    Built by :meth:`SpikingGSEMM.run`; by hand here: memory 0's two hidden neurons fire 4 spikes in the
    first half of a 2-unit run, memory 1's in the second half (time unit 10 ms, so 1 unit = 10 ms):

    >>> r = SpikeResult(np.array([], int), np.array([]), np.array([0, 1, 0, 1, 2, 3, 2, 3]),
    ...                 np.array([0.1, 0.3, 0.5, 0.7, 1.1, 1.3, 1.5, 1.7]), N=4, P=2, M=2, duration=2.0,
    ...                 r_f=100.0, time_unit=0.01)
    >>> t, rates = r.hidden_rates(bin=1.0)
    >>> t.tolist(), rates.tolist()              # 4 spikes / (1 unit · 10 ms) per memory population
    ([0.5, 1.5], [[400.0, 0.0], [0.0, 400.0]])
    """

    feature_i: np.ndarray
    feature_t: np.ndarray
    hidden_i: np.ndarray
    hidden_t: np.ndarray
    N: int
    P: int
    M: int
    duration: float
    r_f: float
    time_unit: float

    def overlaps(self, patterns: np.ndarray, bin: float) -> tuple[np.ndarray, np.ndarray]:
        """Feature-rate overlaps with ``patterns`` (N, K) in bins of ``bin`` model units: ``(t, (T, K))``."""
        patterns = np.asarray(patterns, dtype=np.float64)
        if patterns.ndim != 2 or patterns.shape[0] != self.N:
            raise ValueError(f"patterns must be (N={self.N}, K), got {patterns.shape}")
        tu = self.time_unit
        t, m = population_overlaps(self.feature_i, self.feature_t * tu, N=self.N, rate=self.r_f,
                                   duration=self.duration * tu, bin=bin * tu, patterns=patterns)
        return t / tu, m

    def hidden_rates(self, bin: float) -> tuple[np.ndarray, np.ndarray]:
        """Population rate (Hz) of each memory's M hidden neurons in bins of ``bin`` model units: ``(t, (T, P))``."""
        nb = int(np.floor(self.duration / bin + 1e-9))
        b = np.minimum((self.hidden_t / bin).astype(int), nb - 1)
        counts = np.zeros((nb, self.P))
        np.add.at(counts, (b, self.hidden_i // self.M), 1.0)
        return (np.arange(nb) + 0.5) * bin, counts / (bin * self.time_unit)

    def decoded(self, patterns: np.ndarray, bin: float | None = None, min_dwell: int = 3) -> list[int]:
        """Sequence of visited patterns (argmax of the feature-rate overlaps, short runs merged)."""
        import torch
        from networks.gsemm import decode
        bin = bin if bin is not None else self.duration / max(1, int(self.duration / 0.5))
        _, m = self.overlaps(patterns, bin)
        return decode(torch.tensor(m), bin, min_dwell=min_dwell).order


def _time_unit(params: DSEMParams, cfg: SpikeConfig) -> float:
    return cfg.time_unit if cfg.time_unit is not None else 0.01 / params.T_f


def block_diagonal(models: list):
    """One DSEM whose Ξ, Φ are the block-diagonal stack of several DSEMs with equal constants, so that one
    Brian2 model runs ``len(models)`` independent replays (features and memories concatenated).

    :math:`Ξ = \\mathrm{diag}(Ξ_1, …, Ξ_B)`, :math:`Φ = \\mathrm{diag}(Φ_1, …, Φ_B)`; the softmax of each block
    must stay separate, so pass the result to :class:`SpikingGSEMM` with ``blocks=len(models)``.

    >>> import torch
    >>> from networks.gsemm import dsem, cycle
    >>> m = dsem(torch.ones(4, 2, dtype=torch.float64), cycle(2, dtype=torch.float64))
    >>> block_diagonal([m, m]).xi.shape
    torch.Size([8, 4])
    """
    import torch
    if not models:
        raise ValueError("models must be a non-empty list of DSEM networks")
    ps = [dsem_params(m) for m in models]
    ref = ps[0]
    for p in ps[1:]:
        if (p.alpha_s, p.alpha_c, p.beta, p.beta_d, p.T_f, p.T_d) != (ref.alpha_s, ref.alpha_c, ref.beta,
                                                                       ref.beta_d, ref.T_f, ref.T_d):
            raise ValueError("models must share alpha_s, alpha_c, beta, beta_d, T_f and T_d")
    xi = torch.block_diag(*[m.xi.detach() for m in models])
    phi = torch.block_diag(*[m.phi.detach() for m in models])
    return models[0].replace(xi=xi, phi=phi)


class SpikingGSEMM(BrianSim):
    r"""The spiking DSEM of the module docstring, from a torch DSEM ``model``.

    ``duration`` in model units; ``config`` a :class:`SpikeConfig`; ``target`` ``runtime`` |
    ``cpp_standalone`` | ``cuda_standalone``; ``blocks`` > 1 splits features and memories into that many
    equal independent blocks (each its own normalisation; see :func:`block_diagonal`). :meth:`run` takes a
    cue (N,) and optionally another ``model`` of the same shape (new weights via ``run_args`` in standalone).

    >>> import torch                                                               # doctest: +SKIP
    >>> from networks.gsemm import dsem, cycle, hadamard_patterns                  # doctest: +SKIP
    >>> xi = hadamard_patterns(32, 4, dtype=torch.float64)                         # doctest: +SKIP
    >>> sim = SpikingGSEMM(dsem(xi, cycle(4, dtype=torch.float64), beta=4.0), duration=5.0)  # doctest: +SKIP
    >>> sim.run(xi[:, 0]).feature_i.size > 0                                       # doctest: +SKIP
    True
    """

    plastic = False

    def __init__(self, model, *, duration: float, config: SpikeConfig = SpikeConfig(), target: str = "runtime",
                 directory: str | None = None, seed: int = 0, blocks: int = 1, record_hidden: bool = True,
                 **target_kw):
        if not isinstance(config, SpikeConfig):
            raise ValueError(f"config must be a SpikeConfig, got {type(config).__name__}")
        config.check()
        self.params = dsem_params(model)
        self.config = config
        if int(blocks) != blocks or blocks < 1 or self.params.N % blocks or self.params.P % blocks:
            raise ValueError(f"blocks must be an integer >= 1 dividing N={self.params.N} and P={self.params.P}, "
                             f"got {blocks}")
        self.blocks = int(blocks)
        self.record_hidden = bool(record_hidden)
        self.time_unit = _time_unit(self.params, config)
        dt = config.dt if config.dt is not None else self.params.T_f / 50
        if dt >= 0.5 * self.params.T_f:
            raise ValueError(f"config.dt={dt} must be < T_f/2 = {self.params.T_f / 2}")
        if config.r_f * dt * self.time_unit > 0.5 or config.r_h * config.M * dt * self.time_unit > 0.5:
            raise ValueError("config.dt is too large for the rates (spike probability per step > 0.5): "
                             "reduce dt or the rates r_f, M*r_h")
        self.duration = float(duration)
        super().__init__(target=target, directory=directory, dt_s=dt * self.time_unit,
                         duration_s=duration * self.time_unit, seed=seed, **target_kw)

    # ------------------------------------------------------------------------------------ model
    def _feature_eqs(self) -> str:
        return """
            du/dt = -u/T_f : 1
            dx/dt = -x/tau_x : 1
            dy/dt = -y/T_d : 1
            rate_f = r_f*clip((1 + u)/2, 0, 1) : Hz
            """

    def _hidden_extra(self) -> str:
        return ""

    def _adapt_term(self) -> str:
        return ""

    def _objects(self) -> dict:
        b2, p, c = self.b2, self.params, self.config
        N, P, M, B = p.N, p.P, c.M, self.blocks
        Hn = P * M
        consts = """
            r_f : Hz (shared, constant)
            T_f : second (shared, constant)
            T_d : second (shared, constant)
            tau_x : second (shared, constant)
            """
        feat = b2.NeuronGroup(N, self._feature_eqs() + consts,
                              threshold="rand() < rate_f*dt",
                              reset="x += 1/(r_f*tau_x)\ny += 1/(r_f*T_d)",
                              method="exact", name="features", order=0)
        hid = b2.NeuronGroup(Hn, """
            hv : 1
            q : 1
            C : 1
            hin = sqrt_as*hv + alpha_c*C{adapt} : 1
            ex = exp(beta*(hin - h0)) : 1
            Z : 1 (linked)
            lam = R_h*ex/Z : Hz
            blk : integer (constant)
            sqrt_as : 1 (shared, constant)
            alpha_c : 1 (shared, constant)
            beta : 1 (shared, constant)
            h0 : 1 (shared, constant)
            R_h : Hz (shared, constant)
            """.format(adapt=self._adapt_term()) + self._hidden_extra(), threshold="rand() < lam*dt", reset=self._hidden_reset(),
                              method="exact", name="hidden", order=-10)
        norm = b2.NeuronGroup(B, "Z : 1", name="norm", order=-5)
        hid.Z = b2.linked_var(norm, "Z", index=np.arange(Hn) // (Hn // B))
        hid.blk = np.arange(Hn) // (Hn // B)
        # Ξ: feature i <-> hidden neuron k (memory k // M), only within a block
        nb, pb = N // B, Hn // B
        ii, kk = [], []
        for b in range(B):
            fi, hk = np.arange(b * nb, (b + 1) * nb), np.arange(b * pb, (b + 1) * pb)
            ii.append(np.repeat(fi, pb))
            kk.append(np.tile(hk, nb))
        self._fi, self._hk = np.concatenate(ii), np.concatenate(kk)
        f2h = b2.Synapses(feat, hid, """
            w : 1
            hv_post = w*(2*x_pre - 1) : 1 (summed)
            q_post = w*beta_d*(2*y_pre - 1) : 1 (summed)
            beta_d : 1 (shared, constant)
            """ + self._xi_extra(), on_post=self._xi_on_post(), name="f2h")
        f2h.connect(i=self._fi, j=self._hk)
        # Φ between hidden neurons of the same block
        hi, hj = [], []
        for b in range(B):
            hk = np.arange(b * pb, (b + 1) * pb)
            hi.append(np.repeat(hk, pb))
            hj.append(np.tile(hk, pb))
        self._hi, self._hj = np.concatenate(hi), np.concatenate(hj)
        h2h = b2.Synapses(hid, hid, """
            phi : 1
            C_post = phi*q_pre : 1 (summed)
            """ + self._phi_extra(), on_post=self._phi_on_post(), name="h2h")
        h2h.connect(i=self._hi, j=self._hj)
        h2n = b2.Synapses(hid, norm, "Z_post = ex_pre : 1 (summed)", name="h2n")
        h2n.connect(i=np.arange(Hn), j=np.arange(Hn) // pb)
        objs = {"features": feat, "hidden": hid, "norm": norm, "f2h": f2h, "h2h": h2h, "h2n": h2n,
                "fmon": b2.SpikeMonitor(feat, name="fmon")}
        if self.record_hidden:
            objs["hmon"] = b2.SpikeMonitor(hid, name="hmon")
        objs.update(self._extra_objects())
        return objs

    # hooks for the learning subclass
    def _hidden_reset(self) -> str | None:
        return None

    def _xi_extra(self) -> str:
        return "sqrt_as_f : 1 (shared, constant)\n"

    def _xi_on_post(self) -> str:
        return "u_pre += sqrt_as_f*w/(R_h_post*T_f_pre)"

    def _phi_extra(self) -> str:
        return ""

    def _phi_on_post(self) -> str | None:
        return None

    def _extra_objects(self) -> dict:
        return {}

    def _weights(self, params: DSEMParams) -> tuple[np.ndarray, np.ndarray]:
        M = self.config.M
        w = params.xi[self._fi, self._hk // M]
        phi = params.phi[self._hi // M, self._hj // M] / M
        return w, phi

    def _values(self, params: DSEMParams, cue: np.ndarray) -> dict:
        b2, c = self.b2, self.config
        tu = self.time_unit
        w, phi = self._weights(params)
        tau_x = (c.tau_x if c.tau_x is not None else params.T_f) * tu
        h0 = params.alpha_s * float((params.xi ** 2).sum(0).max()) if params.xi.size else 0.0
        return {("features", "u"): cue, ("features", "x"): np.clip((1 + cue) / 2, 0, 1),
                ("features", "y"): np.full(params.N, 0.5),
                ("features", "r_f"): c.r_f * b2.Hz, ("features", "T_f"): params.T_f * tu * b2.second,
                ("features", "T_d"): params.T_d * tu * b2.second, ("features", "tau_x"): tau_x * b2.second,
                ("hidden", "sqrt_as"): params.sqrt_alpha_s, ("hidden", "alpha_c"): params.alpha_c,
                ("hidden", "beta"): params.beta, ("hidden", "h0"): h0, ("hidden", "R_h"): c.M * c.r_h * b2.Hz,
                ("f2h", "w"): w, ("f2h", "beta_d"): params.beta_d, ("f2h", "sqrt_as_f"): params.sqrt_alpha_s,
                ("h2h", "phi"): phi}

    def _standalone_defaults(self) -> None:
        for (obj, var), arr in self._values(self.params, np.zeros(self.params.N)).items():
            setattr(self.objects[obj], var, arr)

    # -------------------------------------------------------------------------------------- run
    def run(self, cue, *, model=None, seed: int | None = None) -> SpikeResult:
        """Replay from the cue (features start at ``u = cue``, slow traces at ŝ = 0)."""
        params = self.params if model is None else dsem_params(model)
        if (params.N, params.P) != (self.params.N, self.params.P):
            raise ValueError(f"model has (N, P) = {(params.N, params.P)}, this network was built for "
                             f"{(self.params.N, self.params.P)}")
        cue = _check_cue(cue, params.N)
        self._execute(self._values(params, cue), seed)
        return self._result()

    def _result(self) -> SpikeResult:
        b2, tu = self.b2, self.time_unit
        fm = self.objects["fmon"]
        fi, ft = np.asarray(fm.i).copy(), np.asarray(fm.t / b2.second) / tu
        if self.record_hidden:
            hm = self.objects["hmon"]
            hi, ht = np.asarray(hm.i).copy(), np.asarray(hm.t / b2.second) / tu
        else:
            hi, ht = np.zeros(0, dtype=int), np.zeros(0)
        return SpikeResult(fi, ft, hi, ht, self.params.N, self.params.P, self.config.M, self.duration,
                           self.config.r_f, tu)
