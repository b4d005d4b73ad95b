"""Streaming learner contracts: chunking, checkpoint/resume, batch independence, dt refinement, bad input,
Ctrl-C, the .grad route; and the GSEMM closed-form rules against autograd of GSEMM.energy."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings, strategies as st

from networks.gsemm import State, dsem, random_patterns
from networks.gsemm.learner import Learner
from networks.gsemm.learning import AuthorsRule, RecruitingRule, free_recall
from plasticity import gsemm_phi_grad, gsemm_xi_grad
from plasticity.energy import energy_grad

D = torch.float64
N, P, L = 16, 6, 3


def _patterns(B, seed=0):
    return torch.stack([random_patterns(N, L, generator=torch.Generator().manual_seed(seed + b), dtype=D)
                        for b in range(B)])


def _learner(kind="recruiting", B=2, seed=0, **kw):
    g = torch.Generator().manual_seed(100 + seed)
    xi = torch.randn(B, N, P, generator=g, dtype=D) / N
    phi = torch.randn(B, P, P, generator=g, dtype=D) / P
    if kind == "recruiting":
        net = dsem(xi, torch.zeros_like(phi), alpha_c=2.0, T_f=0.05, T_d=1.0)
        return Learner(net, RecruitingRule(), dt=kw.pop("dt", 0.05), **kw)
    net = dsem(xi, phi, alpha_c=1.5, T_f=0.1, T_d=1.0)
    return Learner(net, AuthorsRule(T_lxi=0.5, T_lphi=2.0), dt=kw.pop("dt", 0.01), gain=kw.pop("gain", 5.0), **kw)


def _stream(B, steps_per_item=7, seed=0):
    X = _patterns(B, seed)                                   # (B, N, L)
    return X.permute(2, 0, 1).repeat_interleave(steps_per_item, 0)  # (T, B, N)


def _snapshot(lrn):
    out = {"v": lrn.v, "s": lrn.s, "xi": lrn.xi.detach(), "phi": lrn.phi.detach(), "steps": torch.tensor(lrn.steps)}
    out.update({f"rule.{k}": v for k, v in lrn.rule_state._asdict().items()})
    for m in lrn.monitors:
        out[f"mon.{m}"] = lrn.monitor(m)
    return {k: v.clone() for k, v in out.items()}


def _assert_equal(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].shape == b[k].shape, k
        assert torch.equal(a[k], b[k]), k


@settings(max_examples=12, deadline=None)
@given(kind=st.sampled_from(["recruiting", "authors"]), split=st.integers(1, 20), every=st.sampled_from([1, 3, 4]))
def test_chunking_invariance(kind, split, every):
    x = _stream(2)
    a = _learner(kind, monitors=("energy", "overlaps"), monitor_every=every)
    a.run(x)
    b = _learner(kind, monitors=("energy", "overlaps"), monitor_every=every)
    b.run(x[:split])
    b.run(x[split:])
    _assert_equal(_snapshot(a), _snapshot(b))
    assert a.monitor("energy").shape[0] == (x.shape[0] + every - 1) // every


@settings(max_examples=8, deadline=None)
@given(kind=st.sampled_from(["recruiting", "authors"]), split=st.integers(1, 20))
def test_save_load_continue_equals_uninterrupted(tmp_path_factory, kind, split):
    path = tmp_path_factory.mktemp("ck") / "learner.pt"
    x = _stream(2)
    a = _learner(kind, monitors=("energy",), monitor_every=2)
    a.run(x)
    b = _learner(kind, monitors=("energy",), monitor_every=2)
    b.run(x[:split])
    b.save(path)
    assert not any(p.name.startswith(".") for p in path.parent.iterdir())   # no temp file left behind
    c = Learner.load(path)
    c.run(x[split:])
    _assert_equal(_snapshot(a), _snapshot(c))
    assert torch.equal(a.generator.get_state(), c.generator.get_state())


@pytest.mark.parametrize("kind", ["recruiting", "authors"])
def test_batch_independence(kind):
    x = _stream(3)
    full = _learner(kind, B=3)
    full.run(x)
    for b in range(3):
        one = _learner(kind, B=3)
        single = Learner(one._base.replace(xi=one.xi.detach()[b:b + 1], phi=one.phi.detach()[b:b + 1]), one.rule,
                         dt=one.dt, gain=one.gain)
        single.run(x[:, b:b + 1])
        torch.testing.assert_close(single.xi.detach()[0], full.xi.detach()[b], rtol=1e-12, atol=1e-13)
        torch.testing.assert_close(single.phi.detach()[0], full.phi.detach()[b], rtol=1e-12, atol=1e-13)
        torch.testing.assert_close(single.v[0], full.v[b], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind,dt0", [("authors", 0.02), ("recruiting", 0.02)])
def test_dt_refinement_converges(kind, dt0):
    """Same presentation in physical time with dt, dt/2, dt/4 (and a dt/16 reference): first-order convergence."""
    X = _patterns(1)
    T_item = 0.8
    res = {}
    for f in (1, 2, 4, 16):
        dt = dt0 / f
        lrn = _learner(kind, B=1, dt=dt)
        n = int(round(T_item / dt))
        lrn.run(X.permute(2, 0, 1).repeat_interleave(n, 0))
        res[f] = torch.cat([lrn.xi.detach().flatten(), lrn.phi.detach().flatten()])
    e = [float((res[f] - res[16]).norm()) for f in (1, 2, 4)]
    assert e[0] > e[1] > e[2] > 0
    assert e[1] / e[2] > 1.5            # ≈ 2 for a first-order scheme (errors vs dt/16 make it a bit less clean)


def test_bad_input_raises_before_any_change(tmp_path):
    lrn = _learner()
    lrn.run(_stream(2)[:5])
    before = _snapshot(lrn)
    good = _stream(2)
    bad = good.clone()
    bad[3, 1, 2] = float("nan")
    cases = [(bad, "NaN"), (good[:, :, :-1], "width"), (good[:0], "empty"), (good[:, :1], "batch"),
             (good[0], r"\(T, B, N\)"), ([1, 2], "tensor")]
    inf = good.clone()
    inf[0, 0, 0] = float("inf")
    cases.append((inf, "NaN or inf"))
    for x, msg in cases:
        with pytest.raises(ValueError, match=msg):
            lrn.run(x)
        _assert_equal(before, _snapshot(lrn))
    with pytest.raises(ValueError, match="unknown monitor"):
        _learner(monitors=("bogus",))
    with pytest.raises(ValueError, match="dt"):
        _learner(dt=-1.0)


def test_corrupt_and_incompatible_checkpoints(tmp_path):
    lrn = _learner()
    lrn.run(_stream(2)[:4])
    good = lrn.save(tmp_path / "ok.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(ValueError, match="corrupt"):
        Learner.load(bad)
    with pytest.raises(ValueError, match="does not exist"):
        Learner.load(tmp_path / "missing.pt")
    ck = torch.load(good, weights_only=True)
    ck["version"] = 999
    torch.save(ck, tmp_path / "v.pt")
    with pytest.raises(ValueError, match="version"):
        Learner.load(tmp_path / "v.pt")
    torch.save({"format": "something else"}, tmp_path / "f.pt")
    with pytest.raises(ValueError, match="not a"):
        Learner.load(tmp_path / "f.pt")
    ck = torch.load(good, weights_only=True)
    del ck["rule_state"]
    torch.save(ck, tmp_path / "m.pt")
    with pytest.raises(ValueError, match="incompatible"):
        Learner.load(tmp_path / "m.pt")


class _Interrupting:
    """Wraps a rule and raises KeyboardInterrupt on its n-th update (a Ctrl-C in the middle of run)."""

    def __init__(self, inner, n):
        self.inner, self.n, self.calls = inner, n, 0
        self.name, self.input_mode = inner.name, inner.input_mode

    def config(self):
        return self.inner.config()

    def init_state(self, model, batch):
        return self.inner.init_state(model, batch)

    def reset_transient(self, s):
        return self.inner.reset_transient(s)

    def update(self, *a):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return self.inner.update(*a)


def test_ctrl_c_leaves_a_loadable_checkpoint(tmp_path):
    x = _stream(2)
    ref = _learner(monitors=("energy",), monitor_every=2)
    ref.run(x[:9])
    lrn = _learner(monitors=("energy",), monitor_every=2)
    lrn.rule = _Interrupting(lrn.rule, 10)
    path = tmp_path / "interrupted.pt"
    with pytest.raises(KeyboardInterrupt):
        lrn.run(x, checkpoint=path)
    back = Learner.load(path)
    assert back.steps == 9
    assert torch.equal(back.monitor("energy"), ref.monitor("energy"))      # no sample of the interrupted step
    torch.testing.assert_close(back.xi.detach(), ref.xi.detach(), rtol=0, atol=0)
    back.run(x[9:])
    ref.run(x[9:])
    _assert_equal(_snapshot(ref), _snapshot(back))


def test_grad_route_equals_plain_apply_and_no_grad_by_default():
    x = _stream(2)
    plain = _learner("authors")
    plain.run(x)
    assert plain.xi.grad is None and not plain.xi.requires_grad
    via = _learner("authors", optimizer=lambda ps: torch.optim.SGD(ps, lr=1.0))
    via.run(x)
    torch.testing.assert_close(via.xi.detach(), plain.xi.detach(), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(via.phi.detach(), plain.phi.detach(), rtol=1e-12, atol=1e-14)


def test_differentiable_learning_backpropagates_through_the_stream():
    lrn = _learner("authors", differentiable=True)
    xi0 = lrn.xi
    lrn.run(_stream(2)[:10])
    (lrn.v.square().sum() + lrn.xi.sum()).backward()
    assert xi0.grad is not None and torch.isfinite(xi0.grad).all() and xi0.grad.abs().sum() > 0


def test_closed_forms_equal_autograd_of_the_network_energy():
    """−∂E/∂Ξ and −∂E/∂Φ of GSEMM.energy (reduced DSEM, T_h = 0) equal the closed forms at σ_h = softmax(βh)."""
    g = torch.Generator().manual_seed(3)
    xi = torch.randn(2, N, P, generator=g, dtype=D) / 4
    phi = torch.randn(2, P, P, generator=g, dtype=D)
    net = dsem(xi, phi, alpha_s=0.8, alpha_c=1.3, beta=0.7)
    v, s = torch.randn(2, N, generator=g, dtype=D), torch.randn(2, N, generator=g, dtype=D)
    st0 = State(v, s, None)
    sh = net.hidden_activity(st0)
    auto_xi = energy_grad(lambda w: net.replace(xi=w).energy(st0), xi)
    auto_phi = energy_grad(lambda w: net.replace(phi=w).energy(st0), phi)
    torch.testing.assert_close(gsemm_xi_grad(xi, v, sh, s=s, phi=phi, alpha_s=0.8, alpha_c=1.3), auto_xi)
    torch.testing.assert_close(gsemm_phi_grad(phi, xi, s, sh, alpha_c=1.3), auto_phi)


def test_recruiting_rule_gives_distinct_units_and_learns_the_chain():
    X = _patterns(2, seed=5)
    lrn = _learner(B=2)
    for _ in range(6):
        lrn.reset_state()
        lrn.run(X.permute(2, 0, 1).repeat_interleave(60, 0))
    cos = torch.einsum("bnp,bnl->blp", lrn.xi.detach(), X) / (lrn.xi.detach().norm(dim=1).unsqueeze(1) * N ** 0.5)
    units = cos.argmax(-1)
    assert all(len(set(u.tolist())) == L for u in units)
    assert float(cos.max(-1).values.min()) > 0.99                # columns converge to the patterns
    for b in range(2):
        u = units[b]
        pm = lrn.phi.detach()[b][u][:, u]
        assert float(pm.diagonal(1).min()) > 0.5 > float((pm - torch.diag_embed(pm.diagonal(1), 1)).abs().max())
    # the same pattern presented again reuses its unit (no new recruitment)
    n_committed = int(lrn.rule_state.committed.sum())
    lrn.run(X[:, :, 0][None].expand(5, 2, N))
    assert int(lrn.rule_state.committed.sum()) == n_committed
    orders, _ = free_recall(lrn.model, X, steps=1200, dt=0.005)
    assert [o[:L] for o in orders] == [[0, 1, 2], [0, 1, 2]]     # (N = 16: crosstalk may loop back after the end)


DOC = Path(__file__).resolve().parents[3] / "docs" / "streaming.md"


def test_streaming_page_executes():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 2
    ns: dict = {"__name__": "docs_streaming"}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{DOC.name}[block {i}]", "exec", dont_inherit=True), ns)
    assert "learner" in ns


def test_authors_rule_update_matches_plasticity_authors_rule():
    """The learner's authors' step equals plasticity.authors_rule (Φ computed with the updated Ξ)."""
    from plasticity import authors_rule
    lrn = _learner("authors")
    m = lrn.model
    g = torch.Generator().manual_seed(4)
    x, v, s = (torch.randn(2, N, generator=g, dtype=D) for _ in range(3))
    old = State(v, s, None)
    new = State(v + 0.1, s + 0.05, None)
    dxi, dphi, _ = lrn.rule.update(m, x, old, new, lrn.rule_state, 0.01)
    yh = m.hidden.act(xi_t_(m.xi, x))
    sig = m.hidden.act(m.hidden_input(v, s))
    gx, _ = authors_rule(m.xi, m.phi, x, new.v, new.s, yh, sig, alpha_s=1.0, alpha_c=1.5, c_xi=2.0)
    _, gp = authors_rule(m.xi, m.phi, x, new.v, new.s, yh, sig, alpha_s=1.0, alpha_c=1.5, c_xi=2.0,
                         xi_phi=m.xi + 0.01 / 0.5 * gx)
    torch.testing.assert_close(dxi, 0.01 / 0.5 * gx)
    torch.testing.assert_close(dphi, 0.01 / 2.0 * gp)


def xi_t_(xi, v):
    return torch.einsum("bn,bnp->bp", v, xi)


def test_run_progress_bar_on_a_terminal(monkeypatch, capsys):
    import sys
    from networks.gsemm import Learner, RecruitingRule, dsem
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    lrn = Learner(dsem(torch.zeros(4, 2), torch.zeros(2, 2)), RecruitingRule(), dt=0.1)
    lrn.run(torch.ones(5, 1, 4), progress="feeding")
    assert lrn.steps == 5 and "feeding" in capsys.readouterr().err
    lrn.run(torch.ones(2, 1, 4))                      # default: no bar
    assert "feeding" not in capsys.readouterr().err and lrn.steps == 7
