r"""Convex Lagrangians and their activations (σ = ∇L), batch axis first.

A GSEMM population is described by a convex Lagrangian :math:`L(x)`; its activation is the gradient
:math:`σ(x) = ∇L(x)` and its Hessian :math:`∇²L(x) ⪰ 0` sets the dissipation term of dE/dt. Each
class below gives

* ``value(x)`` — :math:`L(x)`, shape ``(B,)`` for ``x`` of shape ``(B, n)``;
* ``act(x)`` — :math:`σ(x) = ∇L(x)`, shape ``(B, n)``;
* ``hess_vec(x, u)`` — :math:`∇²L(x)\,u`;
* ``legendre(x)`` — :math:`xᵀσ(x) − L(x)` (the "kinetic" part of the energy).

Example
-------
>>> import torch
>>> L = LogSumExp(beta=2.0)
>>> x = torch.tensor([[0.0, 1.0, 2.0]])
>>> torch.allclose(L.act(x).sum(-1), torch.ones(1))
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


class Lagrangian:
    r"""Base class: subclasses define ``value``, ``act`` and ``hess_vec``; names are used in configs.

    A subclass gives a convex :math:`L(x)`, its gradient :math:`σ(x) = ∇L(x)` and the Hessian-vector
    product :math:`∇²L(x)\,u`; the base class derives the Legendre term :math:`xᵀσ(x) − L(x)` and
    the quadratic form :math:`uᵀ∇²L(x)u` used by the energy and its dissipation. A GSEMM accepts
    any instance (the learner's checkpoints restore the classes of this module).

    >>> import torch
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Relu2(Lagrangian):                       # L = ½‖max(x, 0)‖²
    ...     name = "relu2"
    ...     def value(self, x): return 0.5 * x.clamp(min=0).square().sum(-1)
    ...     def act(self, x): return x.clamp(min=0)
    ...     def hess_vec(self, x, u): return (x > 0).to(x.dtype) * u
    >>> x = torch.tensor([[-1.0, 2.0]])
    >>> Relu2().legendre(x), Relu2().hess_quad(x, torch.ones(1, 2))
    (tensor([2.]), tensor([1.]))
    """

    name = "lagrangian"

    def value(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def act(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def hess_vec(self, x: Tensor, u: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def legendre(self, x: Tensor) -> Tensor:
        """:math:`xᵀσ(x) − L(x)`, shape ``(B,)``."""
        return (x * self.act(x)).sum(-1) - self.value(x)

    def hess_quad(self, x: Tensor, u: Tensor) -> Tensor:
        """:math:`uᵀ∇²L(x)u ≥ 0`, shape ``(B,)``."""
        return (u * self.hess_vec(x, u)).sum(-1)

    @property
    def is_identity(self) -> bool:
        return False


@dataclass(frozen=True)
class Quadratic(Lagrangian):
    r"""Linear neurons: :math:`L(x) = ½‖x‖²`, :math:`σ(x) = x`, :math:`∇²L = I`.

    >>> import torch; Quadratic().act(torch.ones(1, 2))
    tensor([[1., 1.]])
    """

    name = "identity"

    def value(self, x):
        return 0.5 * (x * x).sum(-1)

    def act(self, x):
        return x

    def hess_vec(self, x, u):
        return u

    @property
    def is_identity(self) -> bool:
        return True


@dataclass(frozen=True)
class LogCosh(Lagrangian):
    r"""Tanh neurons: :math:`L(x) = γ^{-1}\sum_i \log\cosh(γx_i)`, :math:`σ(x) = \tanh(γx)`,
    :math:`∇²L = \mathrm{diag}(γ(1 − \tanh^2(γx)))`.

    >>> import torch; LogCosh(gain=1.0).act(torch.zeros(1, 2))
    tensor([[0., 0.]])
    """

    gain: float = 1.0
    name = "tanh"

    def __post_init__(self):
        if not self.gain > 0:
            raise ValueError(f"LogCosh gain must be > 0, got {self.gain}")

    def value(self, x):
        g = self.gain * x
        # log cosh(g) = |g| + log1p(exp(-2|g|)) - log 2, stable for large |g|
        a = g.abs()
        # exp(-2a) is clamped at a = 20 (error < 5e-18 absolute) so that it never produces subnormal
        # numbers, whose arithmetic is ~100x slower on x86 CPUs.
        tail = torch.log1p(torch.exp(-2.0 * torch.clamp(a, max=20.0)))
        return (a + tail - math.log(2.0)).sum(-1) / self.gain

    def act(self, x):
        return torch.tanh(self.gain * x)

    def hess_vec(self, x, u):
        t = torch.tanh(self.gain * x)
        return self.gain * (1.0 - t * t) * u


@dataclass(frozen=True)
class LogSumExp(Lagrangian):
    r"""Softmax neurons: :math:`L(x) = β^{-1}\log\sum_μ e^{βx_μ}`, :math:`σ(x) = \mathrm{softmax}(βx)`,
    :math:`∇²L\,u = β\,(p⊙u − p\,(pᵀu))` with :math:`p = σ(x)`.

    >>> import torch; LogSumExp(beta=1.0).value(torch.zeros(1, 4))
    tensor([1.3863])
    """

    beta: float = 1.0
    name = "softmax"

    def __post_init__(self):
        if not self.beta > 0:
            raise ValueError(f"LogSumExp beta must be > 0, got {self.beta}")

    def value(self, x):
        return torch.logsumexp(self.beta * x, dim=-1) / self.beta

    def act(self, x):
        return torch.softmax(self.beta * x, dim=-1)

    def hess_vec(self, x, u):
        p = self.act(x)
        return self.beta * (p * u - p * (p * u).sum(-1, keepdim=True))


@dataclass(frozen=True)
class Polynomial(Lagrangian):
    r"""Rectified polynomial neurons (dense associative memory):
    :math:`L(x) = \sum_μ \frac{\max(κx_μ, 0)^{n+1}}{κ(n+1)}`, :math:`σ(x) = \max(κx, 0)^n`,
    :math:`∇²L = \mathrm{diag}(nκ\max(κx,0)^{n-1})`.

    ``scale`` κ normalises the input (κ = 1/N turns un-normalised overlaps into [−1, 1]).

    >>> import torch; Polynomial(degree=2).act(torch.tensor([[-1.0, 3.0]]))
    tensor([[0., 9.]])
    """

    degree: int = 2
    scale: float = 1.0
    name = "polynomial"

    def __post_init__(self):
        if int(self.degree) != self.degree or self.degree < 1:
            raise ValueError(f"Polynomial degree must be an integer >= 1, got {self.degree}")
        if not self.scale > 0:
            raise ValueError(f"Polynomial scale must be > 0, got {self.scale}")

    def value(self, x):
        r = torch.clamp(self.scale * x, min=0.0)
        return (r ** (self.degree + 1)).sum(-1) / (self.scale * (self.degree + 1))

    def act(self, x):
        return torch.clamp(self.scale * x, min=0.0) ** self.degree

    def hess_vec(self, x, u):
        r = torch.clamp(self.scale * x, min=0.0)
        if self.degree == 1:
            d = (r > 0).to(x.dtype)
        else:
            d = r ** (self.degree - 1)
        return self.degree * self.scale * d * u
