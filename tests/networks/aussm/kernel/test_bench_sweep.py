"""The benchmark's chunk × warps sweep (run on the interpreter in CI, on CUDA where present)."""
from experiments.bench import aussm_scan as bench_scan
from networks.aussm import triton_scan

from .helpers import DEVICE


def test_sweep_measures_every_configuration_and_restores_the_warps():
    before = dict(triton_scan.NUM_WARPS)
    rows = bench_scan.run([(1, 1, 2, 20)], ["fast"], 1, 0, DEVICE, 0, False, chunks=[16, 32], warps=[4, 8])
    assert [(r["chunk"], r["num_warps"]) for r in rows] == [(16, 4), (16, 8), (32, 4), (32, 8)]
    assert all(r["rel_err"] < 1e-4 for r in rows)        # every configuration computes the same scan
    assert triton_scan.NUM_WARPS == before
    md = bench_scan.table(rows)
    assert md.count("\n| 1, 1, 2, 20 | fast | 16, 4 |") == 1 and "| 32, 8 |" in md
