"""Brian2 tests: numpy code generation, a clean device before and after each test.

brian2 is an optional extra: without it every test here is skipped *with the reason* (install
``pip install -e .[spiking]``); CI installs it, so there they run.
"""
import pytest

brian2 = pytest.importorskip("brian2", reason="brian2 not installed: pip install -e .[spiking]")


@pytest.fixture(autouse=True)
def _clean_device():
    from networks.spiking.targets import reset_device
    reset_device()
    yield
    reset_device()
