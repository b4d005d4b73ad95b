"""One backend policy for gsemm, aussm and waves (networks/backends.py): an explicit request that cannot run
raises with the cause; ``"auto"`` picks the first usable backend and records why it passed over the others."""
import logging
import pickle
import warnings

import pytest
import torch

from networks import backends
from networks.backends import Availability, BackendError, Choice, resolve


def _never(name):
    def fail():
        raise AssertionError(f"{name} was evaluated but should not have been")
    return fail


# ------------------------------------------------------------------------------------------ the resolver
def test_explicit_request_that_cannot_run_raises_with_the_cause():
    with pytest.raises(BackendError, match=r"backend='fast' does not apply: no compiler on PATH") as e:
        resolve("fast", ("fast", "slow"), {"fast": lambda: "no compiler on PATH", "slow": None})
    assert isinstance(e.value, ValueError) and isinstance(e.value, RuntimeError)   # callers catch either


def test_explicit_request_evaluates_only_its_own_reason():
    c = resolve("slow", ("fast", "slow"), {"fast": _never("fast"), "slow": lambda: None})
    assert c == "slow" and c.requested == "slow" and c.skipped == ()


def test_auto_picks_the_first_usable_in_order_and_records_the_others():
    c = resolve("auto", ("a", "b", "c", "d"), {"a": "not built", "b": None, "c": _never("c"), "d": None},
                auto_only={"a": None, "b": None})
    assert c == "b" and isinstance(c, str) and c.requested == "auto"
    assert c.skipped == (("a", "not built"),)
    assert c.explain() == "backend='auto' chose 'b'; skipped a: not built"


def test_auto_only_reasons_bind_auto_but_not_an_explicit_request():
    reasons = {"interp": None, "torch": None}
    only = {"interp": "the interpreter is for tests"}
    assert resolve("auto", ("interp", "torch"), reasons, auto_only=only).skipped == (
        ("interp", "the interpreter is for tests"),)
    assert resolve("interp", ("interp", "torch"), reasons, auto_only=only) == "interp"


def test_auto_records_at_debug_level_and_never_warns(caplog):
    with caplog.at_level(logging.DEBUG, logger="networks.backends"), warnings.catch_warnings():
        warnings.simplefilter("error")
        resolve("auto", ("gpu", "cpu"), {"gpu": "no CUDA device", "cpu": None}, family="demo")
    assert "demo: backend='auto' chose 'cpu'; skipped gpu: no CUDA device" in caplog.text


def test_unknown_name_and_nothing_usable():
    with pytest.raises(ValueError, match=r"unknown backend 'gpu' for demo; choose one of \('auto', 'cpu'\)"):
        resolve("gpu", ("cpu",), {"cpu": None}, family="demo")
    with pytest.raises(BackendError, match="found no usable backend: cpu: broken"):
        resolve("auto", ("cpu",), {"cpu": "broken"})


def test_choice_and_availability_values():
    c = Choice("dense", "auto", [("native", "no compiler")])
    assert pickle.loads(pickle.dumps(c)).skipped == c.skipped and str(c) == "dense"
    a = Availability(False, "no compiler")
    ok, why = a
    assert not a and not ok and why == "no compiler" and Availability(True, "x") and a == (False, "no compiler")


def test_family_declarations_follow_one_vocabulary():
    rows = backends.table()
    assert set(backends.FAMILIES) == {"gsemm", "aussm", "waves"}
    for name, fam in backends.FAMILIES.items():
        assert fam.backends[0] == "auto"
        assert set(fam.order) == set(fam.backends[1:]), name    # auto may pick any explicit backend
        assert [b for f, b, _ in rows if f == name] == list(fam.backends[1:])
    for _, _, avail in rows:
        assert isinstance(avail, Availability) and isinstance(avail.reason, str) and avail.reason
    with pytest.raises(ValueError, match="'auto' must come first"):
        backends.Family("bad", ("torch", "auto"), order=("torch",), register=False)


# ------------------------------------------------------------------------------------------ gsemm
def _net(N=64, P=4):
    from networks.gsemm import cycle, dsem, hadamard_patterns
    xi = hadamard_patterns(N, P, dtype=torch.float64)
    net = dsem(xi, cycle(P, dtype=torch.float64), alpha_s=0.5, alpha_c=1.0, beta=10.0, T_d=5.0)
    return net, net.init_state(xi[:, 0])


def test_gsemm_auto_records_why_it_passed_backends_over(monkeypatch):
    from networks.gsemm import integrate, simulate
    net, st = _net()
    _, tr = simulate(net, st, steps=20, dt=0.01, backend="auto")
    if tr.backend == "native":                         # this machine builds the C loop: nothing was passed over
        assert tr.skipped == ()
    monkeypatch.setitem(integrate.FAMILY.available, "native", lambda: Availability(False, "no C compiler here"))
    _, tr = simulate(net, st, steps=20, dt=0.01, backend="auto")
    assert tr.backend == "subspace"                    # N = 64 >= 4(P + 2): the reduced coordinates pay off
    assert [b for b, _ in tr.skipped] == ["native", "triton"]
    assert tr.skipped[0][1] == "no C compiler here" and "CUDA" in tr.skipped[1][1]
    small, st = _net(N=16, P=4)
    _, tr = simulate(small, st, steps=20, dt=0.01, backend="auto")
    assert tr.backend == "dense" and "N >= 4(P + 2)" in dict(tr.skipped)["subspace"]


def test_gsemm_explicit_backend_that_cannot_run_raises_with_the_cause(monkeypatch):
    from networks.gsemm import integrate, simulate
    net, st = _net()
    monkeypatch.setitem(integrate.FAMILY.available, "native", lambda: Availability(False, "no C compiler here"))
    with pytest.raises(BackendError, match="backend='native' does not apply: no C compiler here"):
        simulate(net, st, steps=5, dt=0.01, backend="native")
    with pytest.raises(BackendError, match="backend='triton' does not apply: .*euler and split"):
        simulate(net, st, steps=5, dt=0.01, method="rk4", backend="triton")


# ------------------------------------------------------------------------------------------ aussm, waves
def test_aussm_auto_on_cuda_without_the_kernel_records_instead_of_warning(monkeypatch):
    from networks.aussm import ops
    monkeypatch.setitem(ops.FAMILY.available, "triton", lambda: Availability(False, "triton does not import"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # the old policy warned here
        c = ops.resolve_backend("auto", torch.device("cuda"))
    assert c == "torch" and c.skipped == (("triton", "triton does not import"),)
    with pytest.raises(RuntimeError, match="triton does not import"):
        ops.resolve_backend("triton", torch.device("cuda"))
    with pytest.raises(ValueError, match="no CUDA C\\+\\+ backend"):
        ops.resolve_backend("cuda", torch.device("cpu"))


def test_waves_auto_and_explicit_follow_the_same_policy(monkeypatch):
    from networks.waves import scan_op
    z, w = torch.zeros(1, 2, 4), torch.zeros(4, 4)
    c = scan_op.resolve_backend("auto", z, w, "dense")
    assert c == "torch" and c.skipped[0][0] == "triton"
    monkeypatch.setitem(scan_op.FAMILY.available, "triton", lambda: Availability(False, "triton does not import"))
    meta = torch.zeros(1, 2, 4, device="meta")
    with pytest.raises(BackendError, match="CUDA tensors only"):   # the call's own reason comes first
        scan_op.resolve_backend("triton", meta, w, "dense")
