"""Bad input gets a clear error naming the argument, before any work is done."""
import pytest
import torch

from networks.gsemm import chain, cycle, dsem, lisem, make_model, random_patterns, simulate, from_edges

D = torch.float64


def _net(**kw):
    xi = random_patterns(20, 4, generator=torch.Generator().manual_seed(0), dtype=D)
    return dsem(xi, cycle(4, dtype=D), **kw), xi


def test_weight_shapes_and_values():
    xi = random_patterns(20, 4, dtype=D)
    with pytest.raises(ValueError, match="phi must be"):
        dsem(xi, cycle(5, dtype=D))
    bad = xi.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="xi contains NaN"):
        dsem(bad, cycle(4, dtype=D))
    with pytest.raises(ValueError, match="share dtype"):
        dsem(xi, cycle(4, dtype=torch.float32))
    with pytest.raises(ValueError, match="xi must be a tensor"):
        dsem(xi[0], cycle(4, dtype=D))


@pytest.mark.parametrize("field,value", [("T_f", 0.0), ("T_d", -1.0), ("T_h", -0.1), ("T_f", float("inf"))])
def test_time_constants(field, value):
    with pytest.raises(ValueError, match=field):
        _net(**{field: value})


def test_alpha_s_negative():
    with pytest.raises(ValueError, match="alpha_s"):
        _net(alpha_s=-1.0)


def test_dt_checks():
    net, xi = _net(T_f=1.0)
    st = net.init_state(xi[:, 0])
    with pytest.raises(ValueError, match="too large"):
        simulate(net, st, steps=10, dt=1.5, method="euler")
    with pytest.raises(ValueError, match="dt must be > 0"):
        simulate(net, st, steps=10, dt=0.0)
    with pytest.raises(ValueError, match="unknown method"):
        simulate(net, st, steps=10, dt=0.01, method="heun")


def test_state_and_input_checks():
    net, xi = _net()
    with pytest.raises(ValueError, match="v0 must have shape"):
        net.init_state(torch.zeros(2, 21, dtype=D))
    with pytest.raises(ValueError, match="v0 contains NaN"):
        net.init_state(torch.full((1, 20), float("nan"), dtype=D))
    st = net.init_state(xi[:, 0])
    with pytest.raises(ValueError, match="inputs must be"):
        simulate(net, st, steps=5, dt=0.01, inputs=torch.zeros(1, 19, dtype=D))
    with pytest.raises(ValueError, match="unknown record"):
        simulate(net, st, steps=5, dt=0.01, record=("velocity",))
    with pytest.raises(ValueError, match="does not apply"):
        simulate(lisem(xi, cycle(4, dtype=D)), st, steps=5, dt=0.01, backend="subspace")
    with pytest.raises(ValueError, match="unknown backend"):
        simulate(net, st, steps=5, dt=0.01, backend="gpu")


def test_graph_helpers():
    with pytest.raises(ValueError, match="out of range"):
        from_edges(3, [(0, 3)])
    assert torch.equal(chain(3), from_edges(3, [(0, 1), (1, 2)]))
    with pytest.raises(ValueError, match="unknown model"):
        make_model("hopfield", torch.zeros(3, 2), torch.zeros(2, 2))
