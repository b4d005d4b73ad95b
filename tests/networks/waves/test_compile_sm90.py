"""The fused wave-RNN kernels compile for an H100 (sm_90) on any machine (no GPU needed).

Shapes: the sMNIST wRNN ring (c = 16 channels of n = 256, ReLU, 8 warps as launched) and the EMT Elman
dense kernel (H = 128, tanh, 4 warps). The CPU interpreter cannot catch GPU-only lowering errors; this can.
"""
import os

import pytest

pytest.importorskip("triton", reason="triton is not installed: nothing to compile")
os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")


@pytest.mark.skipif(os.environ.get("TRITON_INTERPRET", "0") not in ("0", ""),
                    reason="under TRITON_INTERPRET the kernels are interpreter objects, not compilable")
@pytest.mark.parametrize("name,consts,warps", [
    ("_ring_fwd_kernel", dict(ACT=0, CP=16, NP=256), 8),
    ("_ring_bwd_kernel", dict(ACT=0, CP=16, NP=256), 8),
    ("_dense_fwd_kernel", dict(ACT=1, BB=16, HP=128), 4),
    ("_dense_bwd_kernel", dict(ACT=1, BB=16, HP=128), 4),
])
def test_wave_kernels_compile_for_sm90(name, consts, warps):
    from experiments.bench.kernel_compile import compile_for_gpu
    from networks.waves import scan_triton
    r = compile_for_gpu(getattr(scan_triton, name), consts, num_warps=warps)
    assert 0 < r["registers"] <= 255 and r["spill_store_bytes"] is not None, r
