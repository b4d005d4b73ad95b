r"""Argument checks shared by every layer (plasticity, networks, experiments): one definition per kind of value.

Each check raises ``ValueError`` naming the argument, and returns the value normalised (a Python ``float`` or
``int``), so a caller writes ``self.eta = positive("eta", eta)``. The number checks take a real number (``int``,
``float``, numpy scalars) or a one-element tensor (read with ``.item()``); ``bool`` and strings are refused.

* :func:`finite_number` — any finite real;
* :func:`positive` — finite and > 0 (``strict=False``: >= 0);
* :func:`int_at_least` — an integer ≥ a minimum;
* :func:`known` — names drawn from a fixed list (recorded signals, monitors);
* :func:`finite_tensor` — a tensor without NaN or inf (one device sync: a value scan, not a shape check).

>>> from plasticity.checks import finite_number, int_at_least, positive
>>> positive("tau", 20), finite_number("gain", -1.5), int_at_least("steps", 0, 0)
(20.0, -1.5, 0)
>>> positive("eta", float("nan"))
Traceback (most recent call last):
...
ValueError: eta must be finite and > 0; got nan
"""
from __future__ import annotations

import math
import operator
from numbers import Real
from typing import Any

import torch
from torch import Tensor

__all__ = ["finite_number", "positive", "int_at_least", "known", "finite_tensor"]


def _real(name: str, value: Any) -> float | None:
    """``value`` as a float, or None when it is not a real number (bool and str included)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be a scalar; got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    return float(value)


def finite_number(name: str, value: Any) -> float:
    """``value`` as a float after checking it is a finite real number.

    >>> finite_number("a_plus", 0.01)
    0.01
    >>> finite_number("a_plus", "big")
    Traceback (most recent call last):
    ...
    ValueError: a_plus must be a finite number; got 'big'
    """
    v = _real(name, value)
    if v is None or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    return v


def positive(name: str, value: Any, *, strict: bool = True, what: str = "number", note: str = "") -> float:
    """``value`` as a float after checking it is finite and > 0 (``strict=False``: >= 0).

    ``what`` names the expected type in the message (``"number"``, ``"float"``) and ``note`` is appended to
    both messages (e.g. ``" (a time constant)"``).

    >>> positive("eps", 1e-6), positive("eta", 0, strict=False)
    (1e-06, 0.0)
    >>> positive("tau", -1.0, note=" (a time constant)")
    Traceback (most recent call last):
    ...
    ValueError: tau must be finite and > 0 (a time constant); got -1.0
    """
    v = _real(name, value)
    if v is None:
        raise ValueError(f"{name} must be a {'positive' if strict else 'non-negative'} {what}{note}; got {value!r}")
    if not (math.isfinite(v) and (v > 0 if strict else v >= 0)):
        raise ValueError(f"{name} must be finite and {'>' if strict else '>='} 0{note}; got {value!r}")
    return v


def int_at_least(name: str, value: Any, minimum: int = 0, *, whole_floats: bool = False) -> int:
    """``value`` as a Python int after checking it is an integer >= ``minimum``.

    Floats are refused rather than truncated (16.5 and also 16.0), unless ``whole_floats=True`` lets a
    whole float such as 100.0 through (for step counts computed as ``T / dt``). ``bool`` is refused.

    >>> int_at_least("record_every", 10, 1), int_at_least("steps", 100.0, 0, whole_floats=True)
    (10, 100)
    >>> int_at_least("N", 16.0, 1)
    Traceback (most recent call last):
    ...
    ValueError: N must be an integer >= 1, got 16.0
    """
    if not isinstance(value, bool):
        if whole_floats and isinstance(value, float) and value.is_integer():
            n = int(value)
        else:
            try:
                n = operator.index(value)
            except TypeError:
                n = None
        if n is not None and n >= minimum:
            return n
    raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def known(what: str, names: Any, choices: tuple) -> tuple:
    """``names`` as a tuple after checking that each is one of ``choices``.

    >>> known("monitor", ["v", "energy"], ("v", "s", "energy"))
    ('v', 'energy')
    >>> known("monitor", ("v", "volts"), ("v", "s"))
    Traceback (most recent call last):
    ...
    ValueError: unknown monitor(s) ['volts']; choose from ('v', 's')
    """
    names = (names,) if isinstance(names, str) else tuple(names)
    bad = [n for n in names if n not in choices]
    if bad:
        raise ValueError(f"unknown {what}(s) {bad}; choose from {choices}")
    return names


def finite_tensor(name: str, t: Tensor, hint: str = "") -> Tensor:
    """``t`` after checking it holds no NaN or inf (a value scan: one device sync on a GPU).

    >>> import torch
    >>> finite_tensor("x", torch.ones(2)).shape
    torch.Size([2])
    >>> finite_tensor("x", torch.tensor([1.0, float("inf")]), "; clean the input")
    Traceback (most recent call last):
    ...
    ValueError: x contains NaN or inf; clean the input
    """
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or inf{hint}")
    return t
