r"""DSEM parameters read from a torch :class:`~networks.gsemm.model.GSEMM` (the single source of truth).

The Brian2 mirrors take a ``GSEMM`` instance and read Ξ, Φ, α_s, α_c, β, β_d, T_f and T_d from it, so no
constant is copied by hand. Supported: the DSEM form (identity features ``Quadratic``, softmax hidden layer
``LogSumExp(β)``, instantaneous hidden layer ``T_h = 0``, shared weights, scalar coefficients):

.. math::

    T_f\dot v = \sqrt{α_s}\,Ξ\,\mathrm{softmax}(βh) − v,\quad h = \sqrt{α_s}Ξᵀv + α_cΦᵀΞᵀs,\quad
    T_d\dot s = β_d v − s .

Example
-------
>>> import torch
>>> from networks.gsemm import dsem, cycle, hadamard_patterns
>>> xi = hadamard_patterns(16, 3, dtype=torch.float64)
>>> p = dsem_params(dsem(xi, cycle(3, dtype=torch.float64), beta=2.0, T_d=5.0))
>>> p.N, p.P, p.beta, p.T_d
(16, 3, 2.0, 5.0)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DSEMParams:
    """Plain-numpy copy of a DSEM network: ``xi`` (N, P), ``phi`` (P, P) and the scalars.

    >>> import torch
    >>> from networks.gsemm import dsem, cycle, hadamard_patterns
    >>> p = dsem_params(dsem(hadamard_patterns(8, 2, dtype=torch.float64), cycle(2, dtype=torch.float64)))
    >>> type(p.xi).__name__, p.N, p.P
    ('ndarray', 8, 2)
    """

    xi: np.ndarray
    phi: np.ndarray
    alpha_s: float
    alpha_c: float
    beta: float
    beta_d: float
    T_f: float
    T_d: float

    @property
    def N(self) -> int:
        """Feature neurons."""
        return self.xi.shape[0]

    @property
    def P(self) -> int:
        """Hidden units (memories)."""
        return self.xi.shape[1]

    @property
    def sqrt_alpha_s(self) -> float:
        """√α_s."""
        return math.sqrt(self.alpha_s)


def _numpy(x) -> np.ndarray:
    """A float64 numpy copy of an array-like or torch tensor (inputs of the mirrors: cues, items, weights)."""
    try:
        import torch
        if isinstance(x, torch.Tensor):
            return x.detach().cpu().double().numpy()
    except ImportError:  # pragma: no cover - torch is a core dependency
        pass
    return np.asarray(x, dtype=np.float64)


def _check_cue(cue, N: int, name: str = "cue") -> np.ndarray:
    """``cue`` as a finite float64 vector of N values, else ValueError naming ``name``."""
    cue = _numpy(cue).reshape(-1)
    if cue.shape != (N,):
        raise ValueError(f"{name} must have N = {N} values, got shape {cue.shape}")
    if not np.isfinite(cue).all():
        raise ValueError(f"{name} contains NaN or inf")
    return cue


def _run_params(model, built: DSEMParams) -> DSEMParams:
    """The parameters for one run: ``built`` when ``model`` is None, else ``model``'s, which must have the same
    (N, P) as the Brian2 model was built for (new weights and constants are run-time values)."""
    if model is None:
        return built
    params = dsem_params(model)
    if (params.N, params.P) != (built.N, built.P):
        raise ValueError(f"model has (N, P) = {(params.N, params.P)}, this Brian2 model was built for "
                         f"{(built.N, built.P)}")
    return params


def _scalar(name, x) -> float:
    try:
        import torch
        if isinstance(x, torch.Tensor):
            if x.numel() != 1:
                raise ValueError(f"model.{name} is per-stream (shape {tuple(x.shape)}); the Brian2 mirror needs "
                                 "one scalar value: build the GSEMM with a float")
            return float(x.reshape(()))
    except ImportError:  # pragma: no cover - torch is a core dependency
        pass
    return float(x)


def dsem_params(model) -> DSEMParams:
    """Read a DSEM ``model`` (a :class:`~networks.gsemm.model.GSEMM`) into :class:`DSEMParams`.

    Raises ``ValueError`` naming ``model`` for anything that is not shared-weight DSEM with ``T_h = 0``.

    >>> import torch
    >>> from networks.gsemm import dsem, chain
    >>> dsem_params(dsem(torch.ones(4, 2, dtype=torch.float64), chain(2, dtype=torch.float64))).P
    2
    """
    from networks.gsemm.lagrangians import LogSumExp, Quadratic
    from networks.gsemm.model import GSEMM

    if not isinstance(model, GSEMM):
        raise ValueError(f"model must be a networks.gsemm GSEMM instance, got {type(model).__name__}")
    if not isinstance(model.feature, Quadratic) or not isinstance(model.hidden, LogSumExp):
        raise ValueError("model must be DSEM (Quadratic features, LogSumExp hidden layer; build it with "
                         f"networks.gsemm.dsem); got {type(model.feature).__name__}/{type(model.hidden).__name__}")
    if not model.instantaneous:
        raise ValueError(f"model.T_h must be 0 (instantaneous hidden layer) for the Brian2 mirror, got {model.T_h}")
    if model.xi.dim() != 2 or model.phi.dim() != 2:
        raise ValueError("model must have shared weights xi (N, P) and phi (P, P); per-stream weights: build one "
                         "mirror per stream (or a block-diagonal model, see networks.spiking.block_diagonal)")
    xi = model.xi.detach().to("cpu").double().numpy().copy()
    phi = model.phi.detach().to("cpu").double().numpy().copy()
    return DSEMParams(xi, phi, _scalar("alpha_s", model.alpha_s), _scalar("alpha_c", model.alpha_c),
                      float(model.hidden.beta), _scalar("beta_d", model.beta_d), float(model.T_f), float(model.T_d))
