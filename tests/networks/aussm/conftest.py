"""The fused-kernel tests in ``kernel/`` run natively on CUDA, or on the Triton CPU interpreter.

The interpreter must be switched on (``TRITON_INTERPRET=1``) before Triton is first imported, which
cannot be done inside a shared pytest process without leaking into other tests. So on a machine
without CUDA the ``kernel/`` folder is not collected here; ``test_interpreter.py`` runs it in a
subprocess with the variable set. With CUDA, or when the whole run already has ``TRITON_INTERPRET=1``,
it is collected in-process.
"""
import os

import torch

_INTERP = os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on", "yes")
collect_ignore_glob = [] if (_INTERP or torch.cuda.is_available()) else ["kernel/*"]
