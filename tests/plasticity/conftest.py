"""Plasticity tests work on tiny tensors: run them single-threaded.

On a loaded 2-core machine, multi-threaded BLAS calls on (64, 5)-sized matrices were measured at
~40 ms each (busy-waiting worker threads) instead of ~3 µs single-threaded. The fixture restores the
previous thread count afterwards, so other test folders are unaffected.
"""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
