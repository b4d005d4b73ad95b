"""Shared pytest configuration: deterministic threads, the `gpu` and `slow` marker skips, hypothesis profile.

Tests marked ``slow`` (large shapes on the Triton interpreter, long runs) are skipped by default; every code
path they exercise also has a fast test. ``pytest --runslow`` (or selecting them with ``-m slow``) runs them.
"""
import pytest
import torch
from hypothesis import HealthCheck, settings

# Small-tensor tests are dispatch-bound: one intra-op thread avoids spin-wait oversubscription.
torch.set_num_threads(1)
settings.register_profile("ci", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile("ci")


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run the tests marked slow (skipped by default)")


def run_slow(config) -> bool:
    """Whether this session runs ``slow`` tests: ``--runslow``, or a ``-m`` expression that names ``slow``."""
    return bool(config.getoption("--runslow")) or "slow" in (config.getoption("markexpr") or "")


def pytest_collection_modifyitems(config, items):
    skips = []
    if not torch.cuda.is_available():
        skips.append(("gpu", pytest.mark.skip(reason="needs a CUDA device (torch.cuda.is_available() is False)")))
    if not run_slow(config):
        skips.append(("slow", pytest.mark.skip(reason="slow: run with --runslow")))
    for item in items:
        for keyword, skip in skips:
            if keyword in item.keywords:
                item.add_marker(skip)
