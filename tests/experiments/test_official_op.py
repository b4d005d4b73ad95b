"""Side-by-side plumbing for the official AUSSM op (experiments.bench.aussm_official_op, aussm_scan --official).

The official CUDA op itself needs a GPU and a local copy of its source (never part of this project); these
tests check everything around it on the CPU: the CCCL-3 source edits, the layout and parameter mapping
(against our float64 oracle, and against the official Python reference where a local copy exists), and the
benchmark row with a stand-in op that follows the official interface.
"""
import ast
import importlib.util
import types
from pathlib import Path

import pytest
import torch

from experiments.bench import aussm_official_op as official_op, aussm_scan as bench_scan
from networks.aussm import scan_polar
from networks.aussm.reference import polar

OFFICIAL = Path(__file__).resolve().parents[2] / ".official" / "extension-cpp"


def _inputs(b=2, d=5, n=4, L=37, seed=1):
    g = torch.Generator().manual_seed(seed)
    u = (torch.rand(b, L, d, generator=g) < 0.5).double()
    dt, z = (torch.randn(b, L, d, generator=g, dtype=torch.float64) for _ in range(2))
    W = torch.randn(d, n, d, generator=g, dtype=torch.float64)
    bA = torch.randn(d, n, generator=g, dtype=torch.float64)
    Bp, Cp = (torch.randn(n, generator=g, dtype=torch.complex128) for _ in range(2))
    return u, dt, W, bA, Bp, Cp, torch.randn(d, generator=g, dtype=torch.float64), z


def test_cccl3_edits_replace_both_removed_helpers_everywhere():
    text = "a(cub::LaneId()); cub::CTA_SYNC();\n  cub::CTA_SYNC();"
    new, count = official_op.patch_cccl3(text)
    assert count == 3 and "cub::" not in new and new.count("__syncthreads();") == 2
    assert official_op.patch_cccl3(new) == (new, 0)          # idempotent


def test_find_source_explains_what_it_wants(tmp_path):
    with pytest.raises(FileNotFoundError, match="extension-cpp"):
        official_op.find_source(tmp_path)
    (tmp_path / "extension-cpp" / "extension_cpp").mkdir(parents=True)
    (tmp_path / "extension-cpp" / "setup.py").write_text("")
    assert official_op.find_source(tmp_path) == tmp_path / "extension-cpp"


def test_official_layout_matches_our_oracle():
    u, dt, W, bA, Bp, Cp, Dk, z = _inputs()
    a = official_op.to_official(u, dt, W, bA, Bp, Cp, Dk, z)
    assert a[0].shape == (2, 5, 37) and a[0].is_contiguous() and a[7].shape == (2, 5, 37)
    y_off = official_op.official_layout_oracle(*a)
    y, _ = scan_polar(u, dt, W, bA, polar(Bp), polar(Cp), Dk, z=z)
    assert torch.allclose(y_off.transpose(1, 2), y, rtol=0, atol=1e-12)
    # the raw parameters matter: feeding B̃ where the interface expects the raw B changes the result
    wrong = official_op.official_layout_oracle(*a[:4], polar(Bp), polar(Cp), *a[6:])
    assert (wrong.transpose(1, 2) - y).abs().max() > 1e-3


def _official_reference():
    """The official Python reference, read from a local copy (compiled extension not needed), or None."""
    src = OFFICIAL / "extension_cpp" / "ops.py"
    if not src.is_file() or importlib.util.find_spec("einops") is None:
        return None
    from einops import einsum, rearrange
    tree = ast.parse(src.read_text())
    fn = [n for n in tree.body if isinstance(n, ast.FunctionDef)
          and n.name == "reference_ssm_adaptive_unitary_optimized_polar"]
    ns = dict(torch=torch, F=torch.nn.functional, rearrange=rearrange, einsum=einsum)
    exec(compile(ast.Module(fn, []), str(src), "exec"), ns)
    return ns[fn[0].name]


@pytest.mark.skipif(_official_reference() is None,
                    reason="needs a local copy of the official extension in .official/extension-cpp and einops")
def test_mapping_agrees_with_the_official_python_reference():
    ref = _official_reference()
    a = official_op.to_official(*_inputs())
    assert torch.allclose(ref(*a), official_op.official_layout_oracle(*a), rtol=0, atol=1e-10)


def test_benchmark_row_for_the_official_op_with_a_stand_in():
    """``official_row`` feeds the official op raw B, C in (b, d, L) and compares with our oracle in (b, L, d)."""
    calls = []

    def interface(u, dt, x, x_bias, B, C, D, z, unitary=True):
        calls.append((tuple(u.shape), B.dtype, unitary))
        return official_op.official_layout_oracle(u, dt, x, x_bias, B, C, D, z)
    ops = types.SimpleNamespace(ssm_adaptive_interface=interface)
    shape = (2, 4, 3, 40)
    gen = torch.Generator().manual_seed(0)
    args, args64, raw = bench_scan.make_inputs(*shape, torch.device("cpu"), gen, raw=True)
    y64 = bench_scan.oracle64(args64)
    row = bench_scan.official_row(ops, shape, args, raw, y64, float(y64.abs().max()), 1, 0, torch.device("cpu"),
                                  gen)
    assert calls[0] == ((2, 4, 40), torch.complex64, True)
    assert row["impl"] == "official" and row["rel_err"] < 1e-5 and row["fwdbwd_ms"] > 0
    md = bench_scan.table([row])
    assert "| 2, 4, 3, 40 | official | – |" in md
