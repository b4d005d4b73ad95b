"""Every docstring example in plasticity/ runs and prints what it claims (doctest)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["rule", "apply", "hebb", "oja", "bcm", "stdp", "triplet", "weight_dependence", "three_factor"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(f"plasticity.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"plasticity.{name} has no docstring examples"
    assert result.failed == 0
