r"""Applying a Δ: plainly (:func:`apply`) or through any torch optimizer (:func:`to_grad`).

The two routes agree by construction: :func:`to_grad` writes :math:`-\Delta W` into ``param.grad`` and
``torch.optim.SGD(lr=1)`` then performs :math:`W \leftarrow W - 1\cdot(-\Delta W) = W + \Delta W`, which
is :func:`apply` without bounds. Because backprop also fills ``param.grad``, switching a model between
local learning and gradient descent is a one-line change in the training loop.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .checks import finite_number, finite_tensor

__all__ = ["apply", "to_grad"]


def _check_dw(name: str, weight: Any, dw: Any) -> None:
    if not isinstance(weight, Tensor) or not isinstance(dw, Tensor):
        raise ValueError(f"{name} and dw must be torch.Tensors")
    if dw.shape != weight.shape:
        raise ValueError(f"dw has shape {tuple(dw.shape)} but {name} has shape {tuple(weight.shape)}")
    finite_tensor("dw", dw, "; the rule diverged (check dt and the learning rate)")


def _check_bounds(bounds: Any) -> tuple[Any, Any]:
    if not isinstance(bounds, (tuple, list)) or len(bounds) != 2:
        raise ValueError(f"bounds must be a pair (low, high), either may be None; got {bounds!r}")
    lo, hi = bounds
    for name, b in (("bounds[0]", lo), ("bounds[1]", hi)):
        if b is None:
            continue
        if isinstance(b, Tensor) and b.numel() != 1:
            finite_tensor(name, b)
        else:
            finite_number(name, b)
    if lo is not None and hi is not None and bool(torch.as_tensor(lo > hi).any()):
        raise ValueError(f"bounds must satisfy low <= high; got {bounds!r}")
    return lo, hi


def apply(weight: Tensor, dw: Tensor, bounds: tuple[Any, Any] | None = None) -> Tensor:
    r"""Return the new weight :math:`W' = \mathrm{clip}(W + \Delta W,\ w_{min},\ w_{max})`.

    ``weight`` is not modified. ``bounds`` is ``None`` (no clipping) or a pair ``(low, high)`` of
    numbers, tensors broadcastable to ``weight``, or ``None`` for an open side. Raises ``ValueError`` on a
    shape mismatch, non-finite ``dw`` or inverted bounds.

    >>> import torch
    >>> apply(torch.tensor([0.2, 0.9]), torch.tensor([-0.5, 0.5]), bounds=(0.0, 1.0))
    tensor([0., 1.])
    """
    _check_dw("weight", weight, dw)
    if bounds is None:
        return weight + dw
    lo, hi = _check_bounds(bounds)
    if isinstance(lo, Tensor) or isinstance(hi, Tensor):  # torch.clamp wants both numbers or both tensors
        lo, hi = (None if b is None else torch.as_tensor(b, dtype=weight.dtype, device=weight.device) for b in (lo, hi))
    return torch.clamp(weight + dw, min=lo, max=hi)


def to_grad(param: Tensor, dw: Tensor) -> Tensor:
    r"""Accumulate :math:`-\Delta W` into ``param.grad`` so that a torch optimizer applies the local rule.

    :math:`g \leftarrow g - \Delta W` (``g = 0`` when ``param.grad`` is ``None``), exactly as ``backward()``
    accumulates. With ``torch.optim.SGD(params, lr=1)``, ``optimizer.step()`` then equals
    ``apply(param, dw)``; any other optimizer (momentum, Adam, schedulers) treats ``-dw`` as a gradient.
    Returns ``param.grad``.

    >>> import torch
    >>> p = torch.nn.Parameter(torch.zeros(2))
    >>> _ = to_grad(p, torch.tensor([1.0, -2.0]))
    >>> torch.optim.SGD([p], lr=1.0).step()
    >>> p.data
    tensor([ 1., -2.])
    """
    _check_dw("param", param, dw)
    with torch.no_grad():
        neg = dw.detach().to(dtype=param.dtype, device=param.device).neg()
        if param.grad is None:
            param.grad = neg
        else:
            param.grad.add_(neg)
    return param.grad
