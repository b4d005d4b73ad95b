r"""Spiking learning: the energy-derived GSEMM rules as STDP-like synaptic updates in Brian2, with
novelty-gated recruitment of hidden units.

A sequence x⁽⁰⁾, …, x⁽ᴸ⁻¹⁾ is presented to N Poisson feature neurons (teacher forcing: feature i fires at
:math:`r_f(1 + x_i)/2`), each item for ``item`` model units, the whole sequence ``epochs`` times with a silent
gap of ``gap`` units between epochs. A global **learning gate** g(t) (a neuromodulatory "learn now" signal)
switches plasticity and the hidden layer on while an item is shown, except for the first ``settle`` units after
each item onset (default 2·τ_x, while the feature traces move to the new item) and in the gaps. Each feature
keeps a fast presynaptic trace :math:`x_i` (time constant τ_x), :math:`\hat v_i = 2x_i − 1` (E[v̂] = x).

**Hidden layer: a sharp soft winner-take-all with novelty recruitment** (P Poisson units, one per memory).
Each unit k holds a committed flag :math:`c_k` and the dendritic sums :math:`h_k = \sum_i Ξ_{ik}\hat v_i`,
:math:`‖Ξ_k‖^2`, :math:`‖\hat v‖^2`. Its score is the cosine match for a committed unit and the novelty
threshold θ (minus a small rank bias δ·k, so the lowest free unit wins) for a free one,

.. math::
    a_k = c_k\,\frac{h_k}{‖Ξ_k‖\,‖\hat v‖} + (1 − c_k)(θ − δk),\qquad
    λ_k = g(t)\,R_h\,\frac{e^{β_L a_k}}{\sum_l e^{β_L a_l}},

so the committed unit that matches the present item (cosine ≥ θ) fires, and a **novel** item (no committed
cosine above θ) recruits the first free unit, which commits (c_k ← 1) on its first spike. β_L (sharper than the
replay's β) makes the winner-take-all nearly hard during learning; this is the spiking form of the torch
``RecruitingRule``'s one-hot target (``networks.gsemm.learning``). On every hidden spike of unit k:

* **Ξ (Hebbian, instar)** — :math:`ΔΞ_{ik} = η_k\,(\mathrm{clip}(\hat v_i, −1, 1) − Ξ_{ik})`, the Hebbian
  term :math:`−∂E/∂Ξ_{ik} ∝ v_i σ_h(h)_k` with a postsynaptically gated decay that bounds the weight
  (fixed point: Ξ_k = the mean feature activity while k fires). :math:`η_k = 1` on the recruiting spike of a
  free unit (imprint), η_ξ afterwards.
* **Φ (STDP-like)** — :math:`ΔΦ_{lk} = η_φ\,(\min(G\,[y^{d}_l − y^{f}_l], 1) − Φ_{lk})`, Φ clipped to
  [0, 1]: the presynaptic **delayed** trace :math:`y^d_l` (time constant T_d; the slow population seen from
  memory l) minus its fast trace :math:`y^f_l` (τ_fast = T_f/4), times postsynaptic activity — the
  −∂E/∂Φ = α_c (Ξᵀs)_l σ_h(h)_k term, made contrastive by the fast trace (pre-before-post potentiates,
  coincident activity does not). With one hidden unit per item, l = k−1 is the most recent predecessor when k
  fires, so Φ becomes super-diagonal in memory coordinates. The self-transitions Φ_kk are not plastic by
  default (no autapses, ``self_phi=False``): with a few spikes per item, a unit's own delayed-minus-fast trace
  is positive whenever two of its spikes are more than ≈ 0.6 T_f apart (docs/spiking.md has the measurements).

The equation strings are :func:`~networks.spiking.equations.poisson_features`,
:func:`~networks.spiking.equations.wta_hidden`, :func:`~networks.spiking.equations.xi_synapses` and
:func:`~networks.spiking.equations.phi_synapses` with ``learning=True``, built by the same
:func:`~networks.spiking.spiking.poisson_wta` as the replay network.

The traces are normalised so that a unit firing at its peak rate r_h has y → 1. The learned network is the
torch DSEM returned by :meth:`SpikingLearner.learn` (same constants as the initial ``model``); replay it with
:class:`~networks.spiking.spiking.SpikingGSEMM` or ``networks.gsemm.simulate``.

Example
-------
>>> import torch
>>> from networks.gsemm import dsem, hadamard_patterns
>>> X = hadamard_patterns(32, 4, dtype=torch.float64).T                # (L, N) items
>>> init = dsem(torch.zeros(32, 6, dtype=torch.float64), torch.zeros(6, 6, dtype=torch.float64),
...             alpha_s=0.5, alpha_c=1.0, beta=4.0, T_d=2.0)
>>> lrn = SpikingLearner(init, X, epochs=3, seed=0)                     # doctest: +SKIP
>>> learned = lrn.learn()            # a torch GSEMM with the learned Ξ, Φ  # doctest: +SKIP
>>> lrn.committed.sum()             # one unit per item                # doctest: +SKIP
4
"""
from __future__ import annotations

import numpy as np

from .params import _numpy, dsem_params
from .spiking import _spike_result, poisson_wta
from .targets import BrianSim


def _as_items(X, N):
    X = _numpy(X)
    if X.ndim != 2 or X.shape[1] != N or X.shape[0] < 2:
        raise ValueError(f"X must be (L >= 2, N={N}) items, got {None if X.ndim == 0 else X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or inf")
    return X


class SpikingLearner(BrianSim):
    r"""Learn a sequence ``X`` (L, N) into the weights of the DSEM ``model`` with the STDP-like rules and the
    novelty recruitment of the module docstring. ``model`` provides N, the number of hidden units P ≥ L and the
    constants (T_f, T_d; α_s, α_c, β, β_d are kept for the returned network); its Ξ, Φ are the initial weights.

    Parameters (times in model units, rates in Hz): ``epochs``; ``item`` (default 2·T_d), ``gap``
    (default 3·T_d) and ``settle`` (gate off after each onset; default 2·τ_x); ``eta_xi``, ``eta_phi`` per
    postsynaptic spike; ``phi_gain`` G; ``theta`` novelty threshold θ (a cosine); ``beta_learn`` β_L;
    ``rank_bias`` δ; ``r_h`` hidden peak rate (default 400 Hz: ≈ 8 spikes of the winner per gated item window at
    the default timing, enough for a reliable presynaptic trace); ``r_f`` feature peak rate; ``self_phi`` whether
    the diagonal Φ_kk is plastic (default False: fixed at its initial value); ``tau_x`` fast feature trace
    (default T_f); ``tau_fast`` fast hidden trace y^f (default T_f/4); ``dt`` (default T_f/20); ``time_unit``
    (default: T_f ↦ 10 ms). After :meth:`learn`: ``committed`` (P,) bool and ``result`` (spikes).

    :math:`ΔΞ_{ik} = η_k(\mathrm{clip}(\hat v_i) − Ξ_{ik})`,
    :math:`ΔΦ_{lk} = η_φ(\min(G(y^d_l − y^f_l), 1) − Φ_{lk})` on each spike of hidden unit k.

    >>> import torch                                                                     # doctest: +SKIP
    >>> from networks.gsemm import dsem, hadamard_patterns                               # doctest: +SKIP
    >>> X = hadamard_patterns(32, 5, dtype=torch.float64).T                              # doctest: +SKIP
    >>> z = torch.zeros(7, 7, dtype=torch.float64)                                       # doctest: +SKIP
    >>> net = SpikingLearner(dsem(torch.zeros(32, 7, dtype=torch.float64), z), X).learn()  # doctest: +SKIP
    >>> transition_check(net.xi.numpy(), net.phi.numpy(), X.numpy())["ok"]               # doctest: +SKIP
    True
    """

    def __init__(self, model, X, *, epochs: int = 4, item: float | None = None, gap: float | None = None,
                 settle: float | None = None,
                 eta_xi: float = 0.3, eta_phi: float = 0.3, phi_gain: float = 12.0, theta: float = 0.8,
                 beta_learn: float = 40.0, rank_bias: float = 0.1, r_h: float = 400.0, r_f: float = 400.0,
                 tau_x: float | None = None, tau_fast: float | None = None, dt: float | None = None,
                 time_unit: float | None = None, self_phi: bool = False, target: str = "runtime",
                 directory: str | None = None, seed: int = 0, **target_kw):
        p = dsem_params(model)
        self.params, self._model = p, model
        self.X = _as_items(X, p.N)
        L = self.X.shape[0]
        if L > p.P:
            raise ValueError(f"X has L={L} items but model has only P={p.P} hidden units (need P >= L)")
        if int(epochs) != epochs or epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {epochs}")
        for name, val in (("eta_xi", eta_xi), ("eta_phi", eta_phi), ("phi_gain", phi_gain),
                          ("beta_learn", beta_learn), ("r_h", r_h), ("r_f", r_f)):
            if not (np.isfinite(val) and val > 0):
                raise ValueError(f"{name} must be > 0, got {val}")
        if not (eta_xi <= 1 and eta_phi <= 1):
            raise ValueError(f"eta_xi and eta_phi must be <= 1, got {eta_xi}, {eta_phi}")
        if not -1 < theta < 1:
            raise ValueError(f"theta must be a cosine in (-1, 1), got {theta}")
        if not rank_bias >= 0:
            raise ValueError(f"rank_bias must be >= 0, got {rank_bias}")
        self.item = 2.0 * p.T_d if item is None else float(item)
        self.gap = 3.0 * p.T_d if gap is None else float(gap)
        if not (self.item > 0 and self.gap >= 0):
            raise ValueError(f"item must be > 0 and gap >= 0, got item={item}, gap={gap}")
        self.tau_x = p.T_f if tau_x is None else float(tau_x)
        if not self.tau_x > 0:
            raise ValueError(f"tau_x must be > 0, got {tau_x}")
        self.settle = 2.0 * self.tau_x if settle is None else float(settle)
        if not 0 <= self.settle < self.item:
            raise ValueError(f"settle must be in [0, item={self.item}), got {settle}")
        self.tau_fast = p.T_f / 4 if tau_fast is None else float(tau_fast)
        if not self.tau_fast > 0:
            raise ValueError(f"tau_fast must be > 0, got {tau_fast}")
        self.epochs = int(epochs)
        self.self_phi = bool(self_phi)
        self.eta_xi, self.eta_phi, self.phi_gain = float(eta_xi), float(eta_phi), float(phi_gain)
        self.theta, self.beta_learn, self.rank_bias = float(theta), float(beta_learn), float(rank_bias)
        self.r_h, self.r_f = float(r_h), float(r_f)
        self.time_unit = time_unit if time_unit is not None else 0.01 / p.T_f
        dt = p.T_f / 20 if dt is None else float(dt)
        if not 0 < dt < 0.5 * p.T_f:
            raise ValueError(f"dt must be in (0, T_f/2 = {p.T_f / 2}), got {dt}")
        if max(r_f, r_h) * dt * self.time_unit > 0.5:
            raise ValueError("dt is too large for the rates (spike probability per step > 0.5): reduce dt, r_f or r_h")
        self.duration = self.epochs * (L * self.item + self.gap)
        self.committed = None
        super().__init__(target=target, directory=directory, dt_s=dt * self.time_unit,
                         duration_s=self.duration * self.time_unit, seed=seed, **target_kw)

    # --------------------------------------------------------------------------------- schedule
    def schedule(self) -> tuple[np.ndarray, np.ndarray, float]:
        """``(rows (T, N), gate (T,), step)``: teacher values and learning gate on a grid of ``step`` units.

        With item = 4, gap = 6, settle = 2 units the grid step is 2 units and each item row is
        gated ``[0, 1]``. ``gate`` is 0 during ``settle`` after each onset and during gaps.
        """
        L, N = self.X.shape
        q = int(round(self.item * 1000))
        for v in (self.gap, self.settle):
            if v > 0:
                q = np.gcd(q, int(round(v * 1000)))
        step = q / 1000
        per_item, per_gap, per_set = (int(round(v / step)) for v in (self.item, self.gap, self.settle))
        rows, gate = [], []
        for _ in range(self.epochs):
            for k in range(L):
                rows += [self.X[k]] * per_item
                gate += [0.0] * per_set + [1.0] * (per_item - per_set)
            rows += [np.zeros(N)] * per_gap
            gate += [0.0] * per_gap
        return np.array(rows), np.array(gate), step

    # ------------------------------------------------------------------------------------ model
    def _objects(self) -> dict:
        b2, p = self.b2, self.params
        rows, gate, step = self.schedule()
        tdt = step * self.time_unit * b2.second
        ns = {"teach": b2.TimedArray(rows, dt=tdt, name="teach"), "gate": b2.TimedArray(gate, dt=tdt, name="gate")}
        objs, (self._fi, self._hk), (self._hi, self._hj) = poisson_wta(b2, p.N, p.P, learning=True, namespace=ns)
        return objs

    def _values(self, params, committed: np.ndarray) -> dict:
        b2, tu = self.b2, self.time_unit
        return {("features", "x"): np.full(params.N, 0.5), ("features", "r_f"): self.r_f * b2.Hz,
                ("features", "tau_x"): self.tau_x * tu * b2.second,
                ("hidden", "c"): committed.astype(float), ("hidden", "rank"): np.arange(params.P, dtype=float),
                ("hidden", "theta"): self.theta, ("hidden", "delta"): self.rank_bias,
                ("hidden", "beta_l"): self.beta_learn, ("hidden", "R_h"): self.r_h * b2.Hz,
                ("hidden", "T_d"): params.T_d * tu * b2.second,
                ("hidden", "tau_fast"): self.tau_fast * tu * b2.second,
                ("f2h", "w"): params.xi[self._fi, self._hk], ("f2h", "eta_xi"): self.eta_xi,
                ("h2h", "phi"): params.phi[self._hi, self._hj], ("h2h", "eta_phi"): self.eta_phi,
                ("h2h", "plastic"): np.where(self._hi == self._hj, float(self.self_phi), 1.0),
                ("h2h", "phi_gain"): self.phi_gain}

    def _standalone_defaults(self) -> None:
        self._assign(self._values(self.params, np.zeros(self.params.P, dtype=bool)))

    # -------------------------------------------------------------------------------------- API
    def learn(self, committed=None):
        """Present the sequence; return a torch DSEM ``GSEMM`` with the learned Ξ (N, P) and Φ (P, P).

        ``committed`` (P,) bool marks units already holding memories (default: none).
        """
        import torch
        p = self.params
        c0 = np.zeros(p.P, dtype=bool) if committed is None else np.asarray(committed, dtype=bool).reshape(-1)
        if c0.shape != (p.P,):
            raise ValueError(f"committed must have P = {p.P} entries, got {c0.shape}")
        self._execute(self._values(p, c0), None)
        self.result = _spike_result(self, M=1, r_f=self.r_f)
        self.committed = np.asarray(self.objects["hidden"].c) > 0.5
        xi = np.zeros((p.N, p.P))
        xi[self._fi, self._hk] = np.asarray(self.objects["f2h"].w)
        phi = np.zeros((p.P, p.P))
        phi[self._hi, self._hj] = np.asarray(self.objects["h2h"].phi)
        m = self._model
        return m.replace(xi=torch.tensor(xi, dtype=m.xi.dtype), phi=torch.tensor(phi, dtype=m.phi.dtype))

    @staticmethod
    def memory_coords(xi, X) -> np.ndarray:
        """For each item x⁽ᵃ⁾ (rows of ``X``) the hidden unit whose Ξ column has the largest cosine with it:
        :math:`u_a = \\arg\\max_k \\cos(x^{(a)}, Ξ_{:k})`.

        >>> SpikingLearner.memory_coords(np.array([[1., 1.], [1., -1.]]), np.array([[1., -1.], [1., 1.]])).tolist()
        [1, 0]
        """
        xi, X = np.asarray(xi, dtype=float), np.asarray(X, dtype=float)
        cos = (X @ xi) / (np.linalg.norm(X, axis=1)[:, None] * np.linalg.norm(xi, axis=0)[None, :] + 1e-12)
        return cos.argmax(1)


def transition_check(xi, phi, X, *, min_cos: float = 0.8) -> dict:
    r"""The learning criterion in memory coordinates: items map to **distinct** units u_a
    (:meth:`SpikingLearner.memory_coords`, cosine ≥ ``min_cos``) and for every item a < L−1 the strongest
    outgoing Φ entry of its unit goes to the next item's unit, :math:`\arg\max_k Φ_{u_a k} = u_{a+1}`.

    Returns ``{"units", "cos", "distinct", "successor", "ok"}``.

    >>> X = np.array([[1., 1., -1., -1.], [1., -1., 1., -1.], [1., -1., -1., 1.]])
    >>> phi = np.array([[0, 1, 0], [0, 0, 1], [0.2, 0, 0]])
    >>> transition_check(X.T, phi, X)["ok"]
    True
    """
    xi, phi = np.asarray(xi, dtype=float), np.asarray(phi, dtype=float)
    X = np.asarray(X, dtype=float)
    if xi.ndim != 2 or phi.shape != (xi.shape[1], xi.shape[1]) or X.ndim != 2 or X.shape[1] != xi.shape[0]:
        raise ValueError(f"xi (N, P), phi (P, P), X (L, N) do not fit: {xi.shape}, {phi.shape}, {X.shape}")
    units = SpikingLearner.memory_coords(xi, X)
    cos = (X @ xi) / (np.linalg.norm(X, axis=1)[:, None] * np.linalg.norm(xi, axis=0)[None, :] + 1e-12)
    best = cos[np.arange(len(X)), units]
    distinct = len(set(units.tolist())) == len(X) and bool((best >= min_cos).all())
    succ = [int(phi[units[a]].argmax()) == int(units[a + 1]) for a in range(len(X) - 1)]
    return {"units": units.tolist(), "cos": best.tolist(), "distinct": distinct, "successor": succ,
            "ok": bool(distinct and all(succ))}

