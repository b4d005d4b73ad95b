"""Shared pytest configuration: deterministic threads, the `gpu` marker skip, hypothesis profile."""
import os

import pytest
import torch
from hypothesis import HealthCheck, settings

# Small-tensor tests are dispatch-bound: one intra-op thread avoids spin-wait oversubscription.
torch.set_num_threads(1)
settings.register_profile("ci", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile("ci")


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (torch.cuda.is_available() is False)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
