"""Runs the fused-kernel tests (``kernel/``) on the Triton CPU interpreter in a subprocess.

``TRITON_INTERPRET=1`` must be set before Triton is imported; a subprocess keeps it out of the
rest of the test session. Where CUDA is present (or the session already interprets), the kernel
tests are collected in-process by ``conftest.py`` instead, so this wrapper does not run them twice.
The subprocess runs the same selection as this session: the ``slow`` ones only with ``--runslow``.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import run_slow

ROOT = Path(__file__).resolve().parents[3]
_INTERP = os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on", "yes")


@pytest.mark.skipif(torch.cuda.is_available() or _INTERP,
                    reason="kernel/ tests are collected in-process (CUDA present or TRITON_INTERPRET=1 already)")
def test_kernel_suite_under_triton_interpreter(request):
    pytest.importorskip("triton", reason="triton is not installed: the fused kernel cannot be tested")
    env = dict(os.environ, TRITON_INTERPRET="1", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    slow = ["--runslow"] if run_slow(request.config) else []
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *slow,
                           str(ROOT / "tests/networks/aussm/kernel")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800 if slow else 600)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout
