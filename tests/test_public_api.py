"""Every name a package lists in ``__all__`` exists (a star import must not fail), and no submodule leaks."""
import importlib
import types

import pytest

PACKAGES = ["plasticity", "networks.gsemm", "networks.spiking", "networks.waves", "networks.aussm"]


@pytest.mark.parametrize("pkg", PACKAGES)
def test_all_names_resolve_and_are_not_modules(pkg):
    mod = importlib.import_module(pkg)
    names = getattr(mod, "__all__", None)
    assert names, f"{pkg} has no __all__"
    assert len(names) == len(set(names)), f"{pkg}.__all__ has duplicates"
    for n in names:
        obj = getattr(mod, n)                        # raises AttributeError for a stale entry
        assert not isinstance(obj, types.ModuleType), f"{pkg}.__all__ exports the module {n!r}"


def test_star_import_of_gsemm_keeps_user_names():
    ns = {"model": "mine"}
    exec("from networks.gsemm import *", ns)
    assert ns["model"] == "mine" and "Learner" in ns and "register_rule" in ns


@pytest.mark.parametrize("pkg", PACKAGES)
def test_every_public_function_and_class_has_an_example(pkg):
    """The quality bar: a docstring with a short example (run by tests/test_doctests.py or a docs page)."""
    import inspect
    mod = importlib.import_module(pkg)
    missing = []
    for n in mod.__all__:
        obj = getattr(mod, n)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            doc = inspect.getdoc(obj) or ""
            if ">>>" not in doc:
                missing.append(n)
    assert not missing, f"{pkg}: public names without a docstring example: {missing}"
