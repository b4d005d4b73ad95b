"""Every docstring example in networks.waves and experiments.waves runs and prints what it claims."""
import doctest
import importlib

import pytest

MODULES = ["bases", "boundaries", "boundary_learning", "detectors", "elman", "linear_hds", "scan_op",
           "scan_reference", "spectra", "twm", "wrnn", "__init__"]
EXPERIMENT_MODULES = ["emt", "emt_analysis", "emt_train", "seq_train", "tasks"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = importlib.import_module("networks.waves" if name == "__init__" else f"networks.waves.{name}")
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0, f"{name} has no examples"
    assert res.failed == 0


@pytest.mark.parametrize("name", [f"waves.{m}" for m in EXPERIMENT_MODULES] + ["threads"])
def test_experiment_docstring_examples(name):
    mod = importlib.import_module(f"experiments.{name}")
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0, f"{name} has no examples"
    assert res.failed == 0
