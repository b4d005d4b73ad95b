"""Inputs that used to be accepted silently (or failed inside torch) raise a ValueError naming the argument.

Each test below fails on the code before the validation was added: the call either returned a result
(zero dwell times, a graph with a shared memory, an empty graph) or raised a TypeError/RuntimeError
from deep inside torch or Python.
"""
import pytest
import torch

from networks.gsemm import (Learner, RecruitingRule, State, argmax_labels, chain, cycle, cycles, decode,
                            decoded_order, dsem, dwell_times, from_edges, hadamard_patterns, masked_cue,
                            order_follows_graph, random_patterns, simulate, smooth_labels, transitions)

D = torch.float64


def _overlaps():
    labels = torch.tensor([0, 0, 1, 1, 1, 2, 2, 0])
    return torch.nn.functional.one_hot(labels, 3).to(D)


# ---------------------------------------------------------------------------------------- decoding
@pytest.mark.parametrize("sample_dt", [0, 0.0, -0.1, float("nan"), float("inf"), "0.1", None])
def test_decode_rejects_bad_sample_dt(sample_dt):
    with pytest.raises(ValueError, match="sample_dt"):
        decode(_overlaps(), sample_dt)


def test_decode_valid_sample_dt_scales_dwell():
    d = decode(_overlaps(), 0.5)
    assert d.dwell.tolist() == [1.5, 1.0] and d.order == [0, 1, 2, 0]


@pytest.mark.parametrize("min_dwell", [0, -3, 2.5, True])
def test_decode_and_smooth_reject_bad_min_dwell(min_dwell):
    with pytest.raises(ValueError, match="min_dwell"):
        decode(_overlaps(), 0.1, min_dwell=min_dwell)
    with pytest.raises(ValueError, match="min_dwell"):
        smooth_labels(torch.tensor([0, 1, 1]), min_dwell=min_dwell)


@pytest.mark.parametrize("sample_dt", [0, -1.0, float("nan")])
def test_dwell_times_rejects_bad_sample_dt(sample_dt):
    with pytest.raises(ValueError, match="sample_dt"):
        dwell_times(torch.tensor([0, 1, 1, 2]), sample_dt)


@pytest.mark.parametrize("fn", [decoded_order, transitions, lambda x: dwell_times(x, 0.1)])
def test_label_functions_need_one_stream(fn):
    with pytest.raises(ValueError, match="1-D"):
        fn(torch.zeros(4, 2, dtype=torch.int64))


def test_argmax_labels_needs_memories():
    with pytest.raises(ValueError, match="overlaps"):
        argmax_labels(torch.zeros(5, 0))


def test_order_follows_graph_checks_phi_and_labels():
    with pytest.raises(ValueError, match="outside"):
        order_follows_graph([0, 3], cycle(3))
    with pytest.raises(ValueError, match="phi must be one"):
        order_follows_graph([0, 1], cycle(3).expand(2, 3, 3))


# ---------------------------------------------------------------------------------------- patterns
def test_cycles_rejects_overlapping_groups():
    with pytest.raises(ValueError, match="disjoint"):
        cycles([0, 1], [1, 2])
    with pytest.raises(ValueError, match="disjoint"):
        cycles([0, 1, 0])


def test_cycles_rejects_no_group_and_empty_group():
    with pytest.raises(ValueError, match="at least one group"):
        cycles()
    with pytest.raises(ValueError, match="empty group"):
        cycles([0, 1], [])
    with pytest.raises(ValueError, match="memory index must be an integer"):
        cycles([0, 1.5])


def test_cycles_valid():
    assert torch.equal(cycles([0, 1, 2]), cycle(3))
    assert cycles([0, 1], [2, 3], P=5).shape == (5, 5)


@pytest.mark.parametrize("make", [cycle, chain, lambda P: from_edges(P, [])])
@pytest.mark.parametrize("P", [-2, 0, 2.5, "3"])
def test_graphs_reject_bad_P(make, P):
    with pytest.raises(ValueError, match="P must be an integer"):
        make(P)


def test_from_edges_rejects_malformed_edges_and_weight():
    with pytest.raises(ValueError, match="pair"):
        from_edges(3, [(0,)])
    with pytest.raises(ValueError, match="pair"):
        from_edges(3, [(0, 1.5)])
    with pytest.raises(ValueError, match="weight"):
        from_edges(3, [(0, 1)], weight=float("nan"))


@pytest.mark.parametrize("N,P,name", [(16.5, 3, "N"), (16, 2.0, "P"), (0, 3, "N"), (16, -1, "P"), (True, 3, "N")])
def test_random_patterns_rejects_non_integer_sizes(N, P, name):
    with pytest.raises(ValueError, match=f"{name} must be an integer"):
        random_patterns(N, P, generator=torch.Generator().manual_seed(0))


def test_hadamard_patterns_rejects_non_integer_sizes():
    with pytest.raises(ValueError, match="N must be an integer"):
        hadamard_patterns(16.0, 3)
    with pytest.raises(ValueError, match="P must be an integer"):
        hadamard_patterns(16, 2.5)


def test_masked_cue_checks_mode_even_when_nothing_is_masked():
    with pytest.raises(ValueError, match="mode"):
        masked_cue(torch.ones(8), 0.0, mode="zero")
    with pytest.raises(ValueError, match="mode"):
        masked_cue(torch.ones(8), 0.25, mode="Tail")


# ---------------------------------------------------------------------------------------- dtypes
def _net():
    xi = hadamard_patterns(16, 3, dtype=D)
    return dsem(xi, cycle(3, dtype=D), alpha_c=2.0, beta=5.0, T_d=2.0), xi


@pytest.mark.parametrize("backend", ["auto", "dense", "subspace", "native"])
def test_simulate_rejects_state_of_another_dtype(backend):
    net, xi = _net()
    st = State(xi[:, 0].float()[None], torch.zeros(1, 16))
    with pytest.raises(ValueError, match="state.v has dtype torch.float32"):
        simulate(net, st, steps=4, dt=0.01, backend=backend)
    st = State(xi[:, 0][None], torch.zeros(1, 16))   # only s is float32
    with pytest.raises(ValueError, match="state.s has dtype torch.float32"):
        simulate(net, st, steps=4, dt=0.01, backend=backend)


def test_simulate_rejects_non_state():
    net, xi = _net()
    with pytest.raises(ValueError, match="state must be a State"):
        simulate(net, xi[:, 0][None], steps=4, dt=0.01)


def test_init_state_casts_the_cue_and_inputs_are_cast():
    """The documented cast: a float32 cue / input current becomes float64 exactly and runs."""
    net, xi = _net()
    st32 = net.init_state(xi[:, 0].float())
    assert st32.v.dtype == D
    _, a = simulate(net, st32, steps=20, dt=0.01, backend="dense", inputs=torch.ones(1, 16))
    _, b = simulate(net, net.init_state(xi[:, 0]), steps=20, dt=0.01, backend="dense",
                    inputs=torch.ones(1, 16, dtype=D))
    assert torch.equal(a.overlaps, b.overlaps)


def test_learner_run_casts_float32_chunk_exactly():
    """Learner.run casts the chunk (documented); a float32 ±1 stream gives the same run as float64."""
    x = random_patterns(16, 2, generator=torch.Generator().manual_seed(0))  # float32
    chunk = x.T.repeat_interleave(5, 0)[:, None, :]
    runs = []
    for c in (chunk, chunk.to(D)):
        lrn = Learner(dsem(torch.zeros(16, 4, dtype=D), torch.zeros(4, 4, dtype=D), alpha_c=2.0), RecruitingRule(),
                      dt=0.05)
        lrn.run(c)
        runs.append(lrn)
    assert runs[0].xi.dtype == D and runs[0].v.dtype == D
    assert torch.equal(runs[0].xi, runs[1].xi) and torch.equal(runs[0].phi, runs[1].phi)
    assert torch.equal(runs[0].s, runs[1].s)
