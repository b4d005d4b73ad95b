r"""Spiking learning: the energy-derived GSEMM rules as STDP-like synaptic updates in Brian2.

A sequence x⁽⁰⁾, x⁽¹⁾, … is presented to the feature neurons (teacher forcing: feature i fires at
:math:`r_f(1 + x_i)/2`), each item for ``item`` model units, the whole sequence ``epochs`` times with a silent,
non-plastic gap of ``gap`` units between epochs. The hidden layer (one Poisson neuron per unit, soft
winner-take-all as in :class:`~networks.spiking.spiking.SpikingGSEMM`, plus spike-frequency adaptation
:math:`a` with time constant T_d so that a new item recruits a fresh unit) learns, on every postsynaptic
hidden spike of unit k:

* **Ξ (Hebbian, instar)** — :math:`ΔΞ_{ik} = η_ξ(\hat v_i − Ξ_{ik})`, the Hebbian term
  :math:`−∂E/∂Ξ_{ik} ∝ σ_f(v_i)\,σ_h(h)_k` with a postsynaptically gated decay that bounds the weight
  (:math:`\hat v_i = 2x_i − 1` is the feature's fast presynaptic trace);
* **Φ (STDP-like)** — :math:`ΔΦ_{lk} = η_φ\,(g\,[y^{d}_l − y^{f}_l] − Φ_{lk})`, then clipped to ≥ 0: the
  presynaptic **delayed** trace :math:`y^d_l` (time constant T_d) minus its fast trace :math:`y^f_l` (T_f) times
  postsynaptic activity — the −∂E/∂Φ = α_c (Ξᵀs)_l σ_h(h)_k term with the delayed memory signal, made
  contrastive by subtracting the unit's current activity (pre-before-post potentiates, coincident activity
  does not), so Φ becomes super-diagonal in memory coordinates.

Example
-------
>>> import torch
>>> from networks.gsemm import dsem, hadamard_patterns
>>> X = hadamard_patterns(32, 4, dtype=torch.float64).T                # (L, N) items
>>> init = dsem(0.1 * torch.randn(32, 6, dtype=torch.float64), torch.zeros(6, 6, dtype=torch.float64),
...             alpha_s=0.5, alpha_c=1.0, beta=4.0, T_d=2.0)
>>> lrn = SpikingLearner(init, X, epochs=3)                             # doctest: +SKIP
>>> learned = lrn.learn()            # a torch GSEMM with the learned Ξ, Φ  # doctest: +SKIP
"""
from __future__ import annotations

import numpy as np

from .params import dsem_params
from .spiking import SpikeConfig, SpikingGSEMM


class SpikingLearner(SpikingGSEMM):
    """Learn a sequence ``X`` (L, N) into the weights of the DSEM ``model`` (its Ξ, Φ are the initial weights,
    its constants are used throughout) with the STDP-like rules of the module docstring.

    ``item``/``gap`` in model units; ``eta_xi``, ``eta_phi`` per postsynaptic spike; ``phi_gain`` g; ``g_a``
    the adaptation strength. :meth:`learn` runs and returns a torch ``GSEMM`` with the learned weights;
    :meth:`memory_coords` maps items to hidden units.

    >>> SpikingLearner.memory_coords(np.eye(3)[:, :2] * 2 - 1, np.eye(3)[:2] * 2 - 1).tolist()  # doctest: +SKIP
    [0, 1]
    """

    plastic = True

    def __init__(self, model, X, *, epochs: int = 3, item: float | None = None, gap: float | None = None,
                 eta_xi: float = 0.1, eta_phi: float = 0.05, phi_gain: float = 2.5, g_a: float = 2.0,
                 r_h: float = 200.0, r_f: float = 400.0, target: str = "runtime", directory: str | None = None,
                 seed: int = 0, **target_kw):
        p = dsem_params(model)
        try:
            import torch
            if isinstance(X, torch.Tensor):
                X = X.detach().cpu().double().numpy()
        except ImportError:  # pragma: no cover
            pass
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != p.N or X.shape[0] < 2:
            raise ValueError(f"X must be (L >= 2, N={p.N}) items, got {X.shape}")
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or inf")
        if int(epochs) != epochs or epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {epochs}")
        for name, val in (("eta_xi", eta_xi), ("eta_phi", eta_phi), ("phi_gain", phi_gain)):
            if not val > 0:
                raise ValueError(f"{name} must be > 0, got {val}")
        if g_a < 0:
            raise ValueError(f"g_a must be >= 0, got {g_a}")
        self.X = X
        self.item = 2.0 * p.T_d if item is None else float(item)
        self.gap = 3.0 * p.T_d if gap is None else float(gap)
        if not (self.item > 0 and self.gap >= 0):
            raise ValueError(f"item must be > 0 and gap >= 0, got item={item}, gap={gap}")
        self.epochs = int(epochs)
        self.eta_xi, self.eta_phi, self.phi_gain, self.g_a = eta_xi, eta_phi, phi_gain, g_a
        self._model = model
        L = X.shape[0]
        duration = self.epochs * (L * self.item + self.gap)
        super().__init__(model, duration=duration, config=SpikeConfig(M=1, r_h=r_h, r_f=r_f), target=target,
                         directory=directory, seed=seed, **target_kw)

    # --------------------------------------------------------------------------------- schedule
    def _schedule(self):
        """(T, N) teacher values and (T,) plasticity gate on a grid of ``self.item`` / gap pieces."""
        L, N = self.X.shape
        step = self.item if self.gap == 0 else np.gcd(int(round(self.item * 1000)), int(round(self.gap * 1000))) / 1000
        per_item, per_gap = int(round(self.item / step)), int(round(self.gap / step))
        rows, gate = [], []
        for _ in range(self.epochs):
            for k in range(L):
                rows += [self.X[k]] * per_item
                gate += [1.0] * per_item
            rows += [np.zeros(N)] * per_gap
            gate += [0.0] * per_gap
        return np.array(rows), np.array(gate), step

    # ------------------------------------------------------------------------------------ hooks
    def _feature_eqs(self) -> str:
        return """
            du/dt = -u/T_f : 1
            dx/dt = -x/tau_x : 1
            dy/dt = -y/T_d : 1
            rate_f = r_f*clip((1 + teach(t, i))/2, 0, 1) : Hz
            """

    def _adapt_term(self) -> str:
        return " - g_a*a"

    def _hidden_extra(self) -> str:
        return """
            da/dt = -a/T_dh : 1
            dys/dt = -ys/T_dh : 1
            dyf/dt = -yf/T_fh : 1
            g_a : 1 (shared, constant)
            r_1 : Hz (shared, constant)
            T_dh : second (shared, constant)
            T_fh : second (shared, constant)
            """

    def _hidden_reset(self) -> str:
        return "a += 1/(r_1*T_dh)\nys += 1/(r_1*T_dh)\nyf += 1/(r_1*T_fh)"

    def _xi_extra(self) -> str:
        return "sqrt_as_f : 1 (shared, constant)\neta_xi : 1 (shared, constant)\n"

    def _xi_on_post(self) -> str:
        return "w += eta_xi*gate(t)*((2*x_pre - 1) - w)"

    def _phi_extra(self) -> str:
        return "eta_phi : 1 (shared, constant)\nphi_gain : 1 (shared, constant)\n"

    def _phi_on_post(self) -> str:
        return "phi = clip(phi + eta_phi*gate(t)*(phi_gain*(ys_pre - yf_pre) - phi), 0, inf)"

    def _extra_objects(self) -> dict:
        b2 = self.b2
        rows, gate, step = self._schedule()
        self._teach = b2.TimedArray(rows, dt=step * self.time_unit * b2.second, name="teach")
        self._gate = b2.TimedArray(gate, dt=step * self.time_unit * b2.second, name="gate")
        for g in ("features", "hidden", "f2h", "h2h"):
            pass
        return {}

    def _objects(self) -> dict:
        b2 = self.b2
        rows, gate, step = self._schedule()
        tdt = step * self.time_unit * b2.second
        self._ns = {"teach": b2.TimedArray(rows, dt=tdt, name="teach"),
                    "gate": b2.TimedArray(gate, dt=tdt, name="gate")}
        objs = super()._objects()
        for key in ("features", "f2h", "h2h"):
            objs[key].namespace.update(self._ns)
        return objs

    def _values(self, params, cue) -> dict:
        b2, tu = self.b2, self.time_unit
        vals = super()._values(params, cue)
        vals.update({("hidden", "g_a"): self.g_a, ("hidden", "r_1"): self.config.r_h * b2.Hz,
                     ("hidden", "T_dh"): params.T_d * tu * b2.second, ("hidden", "T_fh"): params.T_f * tu * b2.second,
                     ("f2h", "eta_xi"): self.eta_xi, ("h2h", "eta_phi"): self.eta_phi,
                     ("h2h", "phi_gain"): self.phi_gain})
        return vals

    # -------------------------------------------------------------------------------------- API
    def learn(self):
        """Present the sequence; return a torch DSEM ``GSEMM`` with the learned Ξ (N, P) and Φ (P, P)."""
        import torch
        self._execute(self._values(self.params, np.zeros(self.params.N)), None)
        self.result = self._result()
        P, N = self.params.P, self.params.N
        xi = np.zeros((N, P))
        xi[self._fi, self._hk] = np.asarray(self.objects["f2h"].w)
        phi = np.zeros((P, P))
        phi[self._hi, self._hj] = np.asarray(self.objects["h2h"].phi)
        m = self._model
        return m.replace(xi=torch.tensor(xi, dtype=m.xi.dtype), phi=torch.tensor(phi, dtype=m.phi.dtype))

    @staticmethod
    def memory_coords(xi: np.ndarray, X: np.ndarray) -> np.ndarray:
        """For each item x⁽ᵃ⁾ (rows of ``X``) the hidden unit whose Ξ column has the largest cosine with it."""
        xi, X = np.asarray(xi, dtype=float), np.asarray(X, dtype=float)
        cos = (X @ xi) / (np.linalg.norm(X, axis=1)[:, None] * np.linalg.norm(xi, axis=0)[None, :] + 1e-12)
        return cos.argmax(1)
