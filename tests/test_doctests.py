"""Run the docstring examples of every module of the three packages (the API promise: every example runs).

Modules that need an optional extra (Brian2) are collected only when it is installed; modules whose import
needs a CUDA device or the Triton interpreter are exercised by their own test folders instead.
"""
import doctest
import importlib
import importlib.util
import pkgutil

import pytest

PACKAGES = ("plasticity", "networks", "experiments")
# compiled-kernel modules: their examples run in tests/networks/*/kernel under the Triton interpreter
SKIP = {"networks.aussm.triton_scan", "networks.waves.scan_triton", "networks.gsemm.triton_subspace"}


def _modules():
    out = []
    for pkg in PACKAGES:
        root = importlib.import_module(pkg)
        out.append(pkg)
        for info in pkgutil.walk_packages(root.__path__, prefix=pkg + "."):
            if info.name not in SKIP and not info.name.endswith("__main__"):
                out.append(info.name)
    return sorted(out)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    if name.startswith("networks.spiking") and importlib.util.find_spec("brian2") is None:
        pytest.skip("needs the spiking extra (brian2)")
    mod = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(mod, name, globs=dict(vars(mod))) if t.examples]
    for t in tests:
        runner.run(t)
    res = runner.summarize(verbose=False)
    assert res.failed == 0, f"{res.failed} of {res.attempted} examples failed in {name} (see the output above)"
