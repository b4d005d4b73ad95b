"""Reliability: no silent NaN, no crash on an empty batch, no silently dropped optimizer."""
from typing import NamedTuple

import numpy as np
import pytest
import torch

from networks.gsemm import check_dt, cycle, dsem, random_patterns, register_rule, simulate
from networks.gsemm.learner import Learner
from networks.gsemm.learning import RecruitingRule

D = torch.float64


def _net(**kw):
    xi = random_patterns(16, 3, generator=torch.Generator().manual_seed(0), dtype=D)
    return dsem(xi, cycle(3, dtype=D), **kw)


def test_empty_batch_is_refused_on_every_backend():
    net = _net()
    st = net.init_state(torch.zeros(0, 16, dtype=D))
    for backend in ("dense", "native", "auto"):
        with pytest.raises(ValueError, match="empty batch"):
            simulate(net, st, steps=3, dt=0.01, method="euler", backend=backend)


def test_dt_above_the_slow_time_constant_is_refused():
    with pytest.raises(ValueError, match="fastest time constant 0.001"):
        check_dt(_net(T_d=0.001), 0.01, "euler")


class _S(NamedTuple):
    n: torch.Tensor


@register_rule
class _Blowup:
    """Test rule: a NaN update at its third step."""
    name = "test_blowup"
    input_mode = "clamp"

    def config(self):
        return {"name": self.name}

    def init_state(self, model, batch):
        return _S(torch.zeros((), dtype=torch.int64))

    def update(self, model, x, old, new, state, dt):
        bad = float("nan") if int(state.n) == 2 else 0.0
        return torch.full_like(model.xi, bad), torch.zeros_like(model.phi), _S(state.n + 1)


def test_non_finite_update_stops_with_the_step_and_keeps_the_last_finite_state(tmp_path):
    lrn = Learner(_net(), _Blowup(), dt=0.01)
    x = torch.ones(5, 1, 16, dtype=D)
    with pytest.raises(ValueError, match="step 2: the rule produced a non-finite update"):
        lrn.run(x)
    assert lrn.steps == 2 and bool(torch.isfinite(lrn.xi).all())
    back = Learner.load(lrn.save(tmp_path / "ok.pt"))
    assert back.steps == 2


def test_load_refuses_to_drop_a_saved_optimizer(tmp_path):
    opt = lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9)
    lrn = Learner(_net(), RecruitingRule(), dt=0.01, optimizer=opt)
    lrn.run(torch.ones(3, 1, 16, dtype=D))
    p = lrn.save(tmp_path / "o.pt")
    with pytest.raises(ValueError, match="holds optimizer state"):
        Learner.load(p)
    assert Learner.load(p, optimizer=opt).steps == 3


@pytest.mark.parametrize("arr, msg", [
    (np.ones((3, 4), dtype=complex), "complex values are refused"),
    (np.array(["a", "b"]).reshape(1, 2), "real numbers"),
    (np.zeros(2, dtype=[("a", "f8"), ("b", "f8")]), "real numbers"),
])
def test_load_patterns_refuses_non_real_arrays(tmp_path, arr, msg):
    from networks.gsemm import load_patterns
    p = tmp_path / "x.npy"
    np.save(p, arr)
    with pytest.raises(ValueError, match=msg):
        load_patterns(p)


@pytest.mark.parametrize("corrupt, msg", [
    (lambda ck: ck["state"].__setitem__("v", ck["state"]["v"].float()), "state 'v' is torch.float32"),
    (lambda ck: ck["state"]["v"].__setitem__((0, 0), float("nan")), "NaN"),
    (lambda ck: ck["state"].__setitem__("steps", -3), "non-negative integer"),
    (lambda ck: ck["rule_state"].__setitem__("ybar", torch.zeros(7, dtype=torch.float64)), "rule state 'ybar'"),
    (lambda ck: ck["monitors"].__setitem__("telepathy", []), "unknown monitor"),
    (lambda ck: ck.__setitem__("rng", torch.zeros(3, dtype=torch.uint8)), "random-generator state"),
])
def test_load_refuses_malformed_entries(tmp_path, corrupt, msg):
    lrn = Learner(_net(), RecruitingRule(), dt=0.01)
    lrn.run(torch.ones(3, 1, 16, dtype=D))
    ck = torch.load(lrn.save(tmp_path / "a.pt"), weights_only=True)
    corrupt(ck)
    torch.save(ck, tmp_path / "b.pt")
    with pytest.raises(ValueError, match=msg):
        Learner.load(tmp_path / "b.pt")


def _native_in_fresh_process(cache_home):
    import subprocess
    import sys
    code = ("from networks.gsemm.native import native_available; ok, why = native_available(); "
            "print('OK' if ok else 'NO', why)")
    env = {**__import__("os").environ, "XDG_CACHE_HOME": str(cache_home)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env).stdout


def test_native_cache_is_verified_and_a_corrupt_library_is_rebuilt(tmp_path):
    import os
    import time
    first = _native_in_fresh_process(tmp_path)
    if not first.startswith("OK"):
        pytest.skip(f"no native backend on this machine: {first.strip()}")
    lib = next((tmp_path / "seqplastic").glob("native-*.so"))
    assert lib.with_suffix(".sha256").is_file()                     # the build records what it made
    lib.write_bytes(b"not a library")                               # a corrupt (or planted) cache entry
    stale = tmp_path / "seqplastic" / ".native-deadbeef-x.so"        # a compile killed mid-way, long ago
    stale.write_bytes(b"half")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    again = _native_in_fresh_process(tmp_path)
    assert again.startswith("OK"), again                            # rebuilt, not loaded
    assert lib.read_bytes()[:4] == b"\x7fELF" and not stale.exists()


def test_native_unwritable_cache_names_the_cache_not_the_compiler(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")                                          # XDG_CACHE_HOME is a file: cannot hold a cache
    out = _native_in_fresh_process(blocker)
    if "needs a C compiler" in out:
        pytest.skip("no C compiler on this machine")
    assert out.startswith("NO") and "cannot write the build cache" in out and "install" not in out
