"""Lazy access to Brian2 (an optional dependency: ``pip install -e .[spiking]``).

>>> b2 = require_brian2()      # doctest: +SKIP
>>> b2.ms                      # doctest: +SKIP
1. * msecond
"""
from __future__ import annotations

import importlib

_HINT = "pip install -e .[spiking]  (brian2 >= 2.9; on Python 3.11 also numpy<2.4)"


def require_brian2():
    """Import and return the ``brian2`` module, or raise :class:`ImportError` naming the extra to install.

    >>> require_brian2().__name__  # doctest: +SKIP
    'brian2'
    """
    try:
        return importlib.import_module("brian2")
    except ImportError as e:  # missing, or broken by numpy >= 2.4 with brian2 <= 2.9
        raise ImportError(f"networks.spiking needs Brian2, which could not be imported ({e}). Install it with: "
                          f"{_HINT}") from e
    except AttributeError as e:  # numpy 2.4 removed ndarray.ptp, which brian2 <= 2.9 uses at import
        raise ImportError(f"Brian2 failed at import ({e}); with brian2 <= 2.9 pin numpy<2.4: {_HINT}") from e


def brian2_available() -> tuple[bool, str]:
    """``(True, version)`` when Brian2 imports, else ``(False, reason)``.

    >>> isinstance(brian2_available()[0], bool)
    True
    """
    try:
        b2 = require_brian2()
    except ImportError as e:
        return False, str(e)
    return True, b2.__version__
