"""The eager step loops read the sequence by ``unbind``, so backprop through time costs O(L).

Indexing ``z[:, t]`` inside the loop is correct but its backward (``SelectBackward``) writes a zero tensor
of the whole sequence's size for every step, then adds it into the gradient: O(L²) memory traffic. On
the wave-copy training step (B=128, L=60, H=600) that was 90 % of the time on CPU. These tests walk
the autograd graph of each loop and fail if a per-step select of a sequence input comes back.
"""
import torch

from networks.aussm.mamba import selective_scan
from networks.aussm.reference import scan_sequential
from networks.waves import LinearBoundary, TWMCell
from networks.waves.scan_reference import scan_reference


def graph_nodes(t: torch.Tensor) -> list:
    """Every autograd node reachable from ``t``."""
    seen, stack = set(), [t.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        stack.extend(nxt for nxt, _ in fn.next_functions)
    return list(seen)


def sequence_selects(nodes: list, L: int) -> list:
    """``SelectBackward`` nodes that took one time step out of a ``(B, L, ...)`` tensor (dim 1)."""
    return [fn for fn in nodes if type(fn).__name__ == "SelectBackward0" and fn._saved_dim == 1
            and len(fn._saved_self_sym_sizes) > 1 and fn._saved_self_sym_sizes[1] == L]


def assert_linear_bptt(out: torch.Tensor, L: int) -> None:
    nodes = graph_nodes(out)
    assert not sequence_selects(nodes, L), "a per-step select of the sequence is back (O(L²) backward)"
    assert "UnbindBackward0" in {type(fn).__name__ for fn in nodes}
    assert len(nodes) < 40 * L   # the graph grows linearly with L


def test_wave_scan_reference_reads_by_unbind():
    g = torch.Generator().manual_seed(0)
    L = 12
    z = torch.randn(2, L, 8, generator=g, requires_grad=True)
    for structure, w in (("dense", torch.randn(8, 8, generator=g) / 4), ("ring", torch.randn(2, 2, 3, generator=g))):
        hs = scan_reference(z, torch.zeros(2, 8), w.requires_grad_(), structure, "relu")
        assert_linear_bptt(hs, L)
        hs.sum().backward()
        assert torch.isfinite(z.grad).all()


def test_mamba_and_aussm_sequential_scans_read_by_unbind():
    g = torch.Generator().manual_seed(1)
    L, d, n = 10, 3, 4
    u = torch.randn(1, L, d, generator=g, requires_grad=True)
    delta = torch.rand(1, L, d, generator=g)
    y, _ = selective_scan(u, delta, -torch.rand(d, n, generator=g), torch.randn(1, L, n, generator=g),
                          torch.randn(1, L, n, generator=g), torch.ones(d))
    assert_linear_bptt(y, L)
    f64 = dict(dtype=torch.float64, generator=g)
    y, _ = scan_sequential(u.double(), delta.double(), torch.randn(d, n, d, **f64),
                           torch.zeros(d, n, dtype=torch.float64),
                           torch.ones(n, dtype=torch.complex128), torch.ones(n, dtype=torch.complex128),
                           torch.ones(d, dtype=torch.float64))
    assert_linear_bptt(y, L)


def test_twm_rollout_reads_inputs_by_unbind():
    L = 9
    cell = TWMCell(LinearBoundary(torch.eye(2, 4 * 2, dtype=torch.float64)), input_mode="additive",
                   input_matrix=torch.eye(2, dtype=torch.float64))
    u = torch.randn(3, L, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2), requires_grad=True)
    _, ys = cell.rollout(cell.init_state(3, dtype=torch.float64), u)
    assert_linear_bptt(ys, L)
    ys.sum().backward()
    assert u.grad.shape == u.shape
