r"""Right-hand sides used by the integrators, in full space or in an exact low-dimensional subspace.

The equations are defined once, by :class:`~networks.gsemm.model.GSEMM` (``cross``, ``fast``, ``slow``,
``signals``): :class:`Dense` hands those methods to the integrators unchanged, :class:`Subspace` evaluates the
same equations in reduced coordinates. Both expose the same four methods, so one stepping routine serves both:

* ``cross(s)`` — the delayed drive :math:`α_cΦᵀΞᵀs` (B, P);
* ``fast(v, h, cross, inp)`` — (dv/dt, dh/dt or None) with the slow population frozen;
* ``slow(v, s)`` — ds/dt;
* ``signals(v, s, h, names, inp)`` — recorded quantities (overlaps, energy, F, S, ...).

:class:`Subspace` applies when the feature layer is linear (σ_f = identity, as in DSEM, EDEN and the
dense polynomial model), the weights are shared and there is no external input. Then
:math:`\dot v = (\sqrt{α_s}Ξσ_h − v)/T_f` keeps :math:`v(t) − e^{−t/T_f}v(0)` in the span of Ξ,
and likewise for s, so writing :math:`v = Q_b z`, :math:`s = Q_b w` with the per-stream basis
:math:`Q_b = [Ξ, v_b(0), s_b(0)]` (N × (P+2)) gives the *same* Euler/RK4 iterates in exact
arithmetic at O(P²) instead of O(NP) cost per step:

.. math::  T_f\dot z = \sqrt{α_s}[σ_h(h); 0, 0] − z,\quad T_d\dot w = β_d z − w,\quad
           h = \sqrt{α_s}M_bz + α_cΦᵀM_bw,\quad M_b = ΞᵀQ_b .

No basis is inverted, so a degenerate basis (cue inside span Ξ, s(0) = 0) is harmless.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .linalg import phi_m, phi_t
from .model import GSEMM, State


class Dense:
    r"""Full-space right-hand side: a thin adapter over the :class:`~networks.gsemm.model.GSEMM`'s own
    :meth:`~GSEMM.cross`, :meth:`~GSEMM.fast`, :meth:`~GSEMM.slow` and :meth:`~GSEMM.signals` (any
    Lagrangians, O(NP) per call), with identity coordinates.

    >>> import torch
    >>> from networks.gsemm import cycle, dsem
    >>> k = Dense(dsem(torch.eye(4, 2), cycle(2), T_d=2.0))
    >>> v, s = torch.zeros(1, 4), torch.ones(1, 4)
    >>> dv, dh = k.fast(v, None, k.cross(s), None)
    >>> dv.shape, dh, k.slow(v, s)
    (torch.Size([1, 4]), None, tensor([[-0.5000, -0.5000, -0.5000, -0.5000]]))
    """

    name = "dense"

    def __init__(self, model: GSEMM):
        self.m = model
        self.cross, self.fast, self.slow = model.cross, model.fast, model.slow

    def to_coords(self, v: Tensor, s: Tensor):
        return v, s

    def to_full(self, z: Tensor) -> Tensor:
        return z

    def signals(self, v, s, h, names, inp):
        return self.m.signals(State(v, s, h), names, inp)


def why_not_subspace(model: GSEMM, inputs) -> str | None:
    """``None`` if :class:`Subspace` applies to this model and input, else the reason it does not.

    >>> import torch
    >>> from networks.gsemm import cycle, dsem, lisem
    >>> why_not_subspace(dsem(torch.eye(4, 2), cycle(2)), None) is None
    True
    >>> why_not_subspace(lisem(torch.eye(4, 2), cycle(2)), None)
    'the feature layer is nonlinear (only identity features keep v in span(Ξ, v0, s0))'
    """
    if not model.feature.is_identity:
        return "the feature layer is nonlinear (only identity features keep v in span(Ξ, v0, s0))"
    if model.xi.dim() != 2 or model.phi.dim() != 2:
        return "per-stream weights (the subspace path needs weights shared by the batch)"
    if inputs is not None:
        return "an external input current is given"
    return None


class Subspace:
    """Exact reduced-coordinate right-hand side (see the module docstring). Built from the initial
    state; coordinates ``z, w`` have shape (B, P + 2), with :math:`v = Q_bz`, :math:`s = Q_bw`,
    :math:`Q_b = [Ξ, v_b(0), s_b(0)]`. Raises a ValueError when :func:`why_not_subspace` says no.

    >>> import torch
    >>> from networks.gsemm import cycle, dsem
    >>> v0, s0 = torch.tensor([[1., 2., 3., 4.]]), torch.zeros(1, 4)
    >>> k = Subspace(dsem(torch.eye(4, 2), cycle(2)), v0, s0)
    >>> z, w = k.to_coords(v0, s0)
    >>> z.shape, torch.equal(k.to_full(z), v0)
    (torch.Size([1, 4]), True)
    """

    name = "subspace"

    def __init__(self, model: GSEMM, v0: Tensor, s0: Tensor):
        why = why_not_subspace(model, None)
        if why:
            raise ValueError(f"subspace backend does not apply: {why}")
        self.m = model
        xi = model.xi
        self.P = model.P
        self.U = torch.stack([v0, s0], dim=-1)                    # (B, N, 2)
        self.G = xi.transpose(0, 1) @ xi                          # (P, P)
        self.XU = torch.einsum("np,bnk->bpk", xi, self.U)         # (B, P, 2) = Ξᵀ[v0, s0]
        UU = torch.einsum("bnk,bnl->bkl", self.U, self.U)         # (B, 2, 2)
        B = v0.shape[0]
        P = self.P
        K = xi.new_zeros(B, P + 2, P + 2)                         # Gram matrix Q_bᵀQ_b
        K[:, :P, :P] = self.G
        K[:, :P, P:] = self.XU
        K[:, P:, :P] = self.XU.transpose(1, 2)
        K[:, P:, P:] = UU
        self.K = K

    def to_coords(self, v: Tensor, s: Tensor):
        B, P = v.shape[0], self.P
        z = v.new_zeros(B, P + 2)
        w = v.new_zeros(B, P + 2)
        z[:, P] = 1.0
        w[:, P + 1] = 1.0
        return z, w

    def to_full(self, z: Tensor) -> Tensor:
        P = self.P
        return z[:, :P] @ self.m.xi.transpose(0, 1) + torch.einsum("bnk,bk->bn", self.U, z[:, P:])

    def _xt(self, z: Tensor) -> Tensor:
        """Ξᵀ(Q z) = G c + (ΞᵀU) a."""
        P = self.P
        return z[:, :P] @ self.G + torch.einsum("bpk,bk->bp", self.XU, z[:, P:])

    def cross(self, w):
        m = self.m
        return m.alpha_c * phi_t(m.phi, self._xt(w))

    def fast(self, z, h, cross, inp):
        m = self.m
        p, dh = m.hidden_rate(m.sqrt_alpha_s * self._xt(z) + cross, h)
        dz = -z
        dz[:, :self.P] += m.sqrt_alpha_s * p
        return dz / m.T_f, dh

    def slow(self, z, w):
        return self.m.slow(z, w)          # identity features: the same equation in coordinates

    def signals(self, z, w, h, names, inp):
        m = self.m
        out = {}
        if "v" in names:
            out["v"] = self.to_full(z)
        if "s" in names:
            out["s"] = self.to_full(w)
        need_h = {"hidden", "energy", "F", "S"} & set(names)
        cross = self.cross(w) if need_h else None
        hh = m.sqrt_alpha_s * self._xt(z) + cross if need_h else None
        if "hidden" in names:
            out["hidden"] = m.hidden.act(hh if h is None else h)
        if "overlaps" in names:
            out["overlaps"] = self._xt(z) / m.N
        if "energy" in names:
            quad = 0.5 * torch.einsum("bk,bkl,bl->b", z, self.K, z)
            if h is None:
                out["energy"] = quad - m.hidden.value(hh)
            else:
                p = m.hidden.act(h)
                e = quad + m.hidden.legendre(h) - (m.sqrt_alpha_s * self._xt(z) * p).sum(-1)
                out["energy"] = e - (cross * p).sum(-1)
        if "F" in names or "S" in names:
            dz, dh = self.fast(z, h, cross, None)
            if "F" in names:
                F = -m.T_f * torch.einsum("bk,bkl,bl->b", dz, self.K, dz)
                if h is not None:
                    F = F - m.T_h * m.hidden.hess_quad(h, dh)
                out["F"] = F
            if "S" in names:
                p = m.hidden.act(hh if h is None else h)
                dw = self.slow(z, w)
                out["S"] = -(m.alpha_c * phi_m(m.phi, p) * self._xt(dw)).sum(-1)
        return out
