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

The groups are built by :func:`poisson_wta` from the strings of :mod:`networks.spiking.equations`
(``poisson_features``, ``wta_hidden``, ``xi_synapses``, ``phi_synapses``, ``normaliser``), the same builder
and strings, with ``learning=True``, as :class:`~networks.spiking.learning.SpikingLearner`.

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
from .equations import normaliser, phi_synapses, poisson_features, wta_hidden, xi_synapses
from .params import DSEMParams, _check_cue, _run_params, dsem_params
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

    :math:`Ξ = \\mathrm{diag}(Ξ_1, …, Ξ_B)`, :math:`Φ = \\mathrm{diag}(Φ_1, …, Φ_B)`; the softmax of each
    block must stay separate, so pass the result to :class:`SpikingGSEMM` with ``blocks=len(models)``.

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


def _block_pairs(n_pre: int, n_post: int, blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """All-to-all (pre, post) index pairs within each of ``blocks`` equal blocks, pre-major."""
    bp, bq = n_pre // blocks, n_post // blocks
    i = [np.repeat(np.arange(b * bp, (b + 1) * bp), bq) for b in range(blocks)]
    j = [np.tile(np.arange(b * bq, (b + 1) * bq), bp) for b in range(blocks)]
    return np.concatenate(i), np.concatenate(j)


def poisson_wta(b2, N: int, H: int, *, learning: bool = False, blocks: int = 1, namespace: dict | None = None,
                record_hidden: bool = True):
    r"""The Brian2 objects of the spiking DSEM, replay or ``learning``, from the strings of
    :mod:`networks.spiking.equations`: N Poisson ``features`` and H Poisson ``hidden`` neurons, Ξ synapses
    ``f2h`` (feature i ↔ hidden k) and Φ synapses ``h2h`` (hidden l → k) all-to-all within each of ``blocks``
    blocks, one normalising unit per block (``norm``, :math:`Z = \sum_k e_k` through ``h2n``) and spike
    monitors ``fmon``, ``hmon``. Returns ``(objects, (f2h pre, post), (h2h pre, post))``; the scheduling
    (hidden order −10, normaliser −5, features 0) is the same for both.

    >>> from networks.spiking import require_brian2, reset_device
    >>> b2 = require_brian2(); reset_device()
    >>> objs, (fi, hk), _ = poisson_wta(b2, 4, 6, blocks=2)
    >>> b2.Network(*objs.values()).run(0 * b2.second, namespace={})
    >>> sorted(objs), fi.tolist()[:4], hk.tolist()[:4]
    (['f2h', 'features', 'fmon', 'h2h', 'h2n', 'hidden', 'hmon', 'norm'], [0, 0, 0, 1], [0, 1, 2, 0])
    """
    f, h, xi, phi = (poisson_features(teacher=learning), wta_hidden(learning=learning),
                     xi_synapses(learning=learning), phi_synapses(learning=learning))
    unit, to_unit = normaliser()
    block = np.arange(H) // (H // blocks)
    feat = b2.NeuronGroup(N, f.model, threshold=f.threshold, reset=f.reset, method="exact", name="features",
                          namespace=namespace, order=0)
    hid = b2.NeuronGroup(H, h.model, threshold=h.threshold, reset=h.reset, method="exact", name="hidden",
                         namespace=namespace, order=-10)
    norm = b2.NeuronGroup(blocks, unit.model, name="norm", order=-5)
    hid.Z = b2.linked_var(norm, "Z", index=block)
    fi, hk = _block_pairs(N, H, blocks)
    f2h = b2.Synapses(feat, hid, xi.model, on_post=xi.on_post, name="f2h", namespace=namespace)
    f2h.connect(i=fi, j=hk)
    hi, hj = _block_pairs(H, H, blocks)
    h2h = b2.Synapses(hid, hid, phi.model, on_post=phi.on_post, name="h2h", namespace=namespace)
    h2h.connect(i=hi, j=hj)
    h2n = b2.Synapses(hid, norm, to_unit.model, name="h2n")
    h2n.connect(i=np.arange(H), j=block)
    objs = {"features": feat, "hidden": hid, "norm": norm, "f2h": f2h, "h2h": h2h, "h2n": h2n,
            "fmon": b2.SpikeMonitor(feat, name="fmon")}
    if record_hidden:
        objs["hmon"] = b2.SpikeMonitor(hid, name="hmon")
    return objs, (fi, hk), (hi, hj)


def _spike_result(sim: BrianSim, *, M: int, r_f: float) -> SpikeResult:
    """The :class:`SpikeResult` of the latest run of a :func:`poisson_wta` model (``sim`` has ``params``,
    ``duration`` and ``time_unit``; without ``hmon``, no hidden spikes)."""
    b2, tu, objs = sim.b2, sim.time_unit, sim.objects
    trains = [(np.asarray(objs[m].i).copy(), np.asarray(objs[m].t / b2.second) / tu) if m in objs
              else (np.zeros(0, dtype=int), np.zeros(0)) for m in ("fmon", "hmon")]
    (fi, ft), (hi, ht) = trains
    return SpikeResult(fi, ft, hi, ht, sim.params.N, sim.params.P, M, sim.duration, r_f, tu)


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
    def _objects(self) -> dict:
        p, c = self.params, self.config
        objs, (self._fi, self._hk), (self._hi, self._hj) = poisson_wta(
            self.b2, p.N, p.P * c.M, blocks=self.blocks, record_hidden=self.record_hidden)
        return objs

    def _values(self, params: DSEMParams, cue: np.ndarray) -> dict:
        b2, c = self.b2, self.config
        tu, M = self.time_unit, c.M
        w = params.xi[self._fi, self._hk // M]                    # synapse (i, k): Ξ of neuron k's memory
        phi = params.phi[self._hi // M, self._hj // M] / M        # Φ spread over the M × M copy pairs
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
        self._assign(self._values(self.params, np.zeros(self.params.N)))

    # -------------------------------------------------------------------------------------- run
    def run(self, cue, *, model=None, seed: int | None = None) -> SpikeResult:
        """Replay from the cue (features start at ``u = cue``, slow traces at ŝ = 0)."""
        params = _run_params(model, self.params)
        self._execute(self._values(params, _check_cue(cue, params.N)), seed)
        return _spike_result(self, M=self.config.M, r_f=self.config.r_f)
