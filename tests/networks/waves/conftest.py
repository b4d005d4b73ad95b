"""Local to tests/networks/waves: run each test single-threaded (restored afterwards, so nothing leaks to
other folders). Small CPU tensors are several times slower with 2 intra-op threads on a busy 2-core box."""
import pytest
import torch


@pytest.fixture(autouse=True)
def _single_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
