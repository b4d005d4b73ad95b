"""StreamLearner: one-pass, high-order, one-shot online learning (contracts and behaviour)."""
import numpy as np
import pytest
import torch

from networks.gsemm import random_patterns
from networks.gsemm.streaming import StreamLearner

D = torch.float64


def _items(n, N=64, seed=0):
    return random_patterns(N, n, generator=torch.Generator().manual_seed(seed), dtype=D).T   # (n, N)


def _noise_stream(seqs, reps, X, noise, seed=0):
    """seqs of item ids, each repeated `reps` times in random order, one fresh noise item after each."""
    rng = np.random.default_rng(seed)
    ids, k = [], 0
    for _ in range(reps):
        for q in rng.permutation(len(seqs)):
            ids += list(seqs[q])
            ids.append(("n", k))
            k += 1
    rows = [X[i] if not isinstance(i, tuple) else noise[i[1]] for i in ids]
    return torch.stack(rows), ids


def _decode(pred, X):
    return int((pred @ X.T).argmax())


def test_one_shot_prediction():
    """A transition seen once is predicted the next time the context recurs."""
    X = _items(5)
    lrn = StreamLearner(64, capacity=32, dtype=D)
    out = lrn.run(torch.cat([X, X[:1]])[:, None])
    assert _decode(out.prediction[-1, 0], X) == 1
    assert float(out.surprise[0, 0]) == 1.0
    out = lrn.run(X[1:3][:, None])
    assert [_decode(p, X) for p in out.prediction[:, 0]] == [2, 3]
    assert out.surprise[:, 0].tolist() == [0.0, 0.0]


def test_shared_middle_items_are_disambiguated_by_context():
    """A B C D E and X B C D Y: after D the prediction depends on the first item, in prediction and replay."""
    X = _items(7)                           # A B C D E X Y = 0..6
    noise = _items(40, seed=1)
    seqs = [(0, 1, 2, 3, 4), (5, 1, 2, 3, 6)]
    stream, ids = _noise_stream(seqs, 3, X, noise)
    lrn = StreamLearner(64, capacity=256, dtype=D)
    out = lrn.run(stream[:, None])
    # last repetition of each sequence: the prediction made at D names the right ending
    ends = [t for t in range(1, len(ids)) if ids[t] in (4, 6) and ids[t - 1] == 3]
    for t in ends[-2:]:
        assert _decode(out.prediction[t - 1, 0], X) == ids[t]
    for q in seqs:
        rep = lrn.replay(X[list(q[:2])], 3)[:, 0]
        assert [_decode(r, X) for r in rep] == list(q[2:])


def test_repeated_item_inside_a_sequence():
    """A B C A D E: the two A's are held by different cells; prediction and replay follow the context."""
    X = _items(5)                           # A B C D E
    noise = _items(30, seed=2)
    stream, ids = _noise_stream([(0, 1, 2, 0, 3, 4)], 3, X, noise)
    lrn = StreamLearner(64, capacity=128, dtype=D)
    out = lrn.run(stream[:, None])
    last = len(ids) - 1 - ids[::-1].index(4)      # last E
    preds = [_decode(out.prediction[t, 0], X) for t in range(last - 5, last)]
    assert preds == [1, 2, 0, 3, 4]                # after A -> B, after C A -> D
    rep = lrn.replay(X[[0, 1]], 4)[:, 0]
    assert [_decode(r, X) for r in rep] == [2, 0, 3, 4]


def test_correlated_real_images_are_learned_and_replayed():
    """Ten different images of the same digit (highly correlated) in a sequence: one pass, then replay."""
    sk = pytest.importorskip("sklearn.datasets")
    d = sk.load_digits()
    imgs = d.images[d.target == 3][:10].reshape(10, -1)
    X = torch.tensor(np.where(imgs > 8.0, 1.0, -1.0), dtype=D)
    Xn = X / X.norm(dim=1, keepdim=True)
    c = Xn @ Xn.T
    assert float(c.fill_diagonal_(0).max()) > 0.7       # the patterns really are correlated
    lrn = StreamLearner(64, capacity=64, dtype=D)
    lrn.run(X[:, None])
    rep = lrn.replay(X[:1], 9)[:, 0]
    assert [int((r @ Xn.T).argmax()) for r in rep] == list(range(1, 10))


def test_memory_is_bounded_under_never_repeating_noise():
    """Thousands of novel elements recycle cells; a sequence seen recently is still predicted."""
    X = _items(4)
    noise = _items(3000, seed=3)
    lrn = StreamLearner(64, capacity=64, dtype=D)
    lrn.run(noise[:, None])
    assert int(lrn.cells_used[0]) == 64
    lrn.run(torch.cat([X, noise[:5], X[:1]])[:, None])
    assert _decode(lrn.predict()[0], X) == 1
    assert int(lrn.cells_used[0]) == 64


def test_streams_in_a_batch_are_independent():
    X = _items(6)
    a, b = X[[0, 1, 2, 0]], X[[3, 4, 5, 3]]
    both = StreamLearner(64, capacity=16, batch=2, dtype=D)
    out = both.run(torch.stack([a, b], 1))
    one = StreamLearner(64, capacity=16, dtype=D)
    out1 = one.run(b[:, None])
    torch.testing.assert_close(out.prediction[:, 1], out1.prediction[:, 0], rtol=0, atol=0)


def test_chunking_invariance_and_exact_resume(tmp_path):
    X = _items(6)
    noise = _items(50, seed=4)
    stream, _ = _noise_stream([(0, 1, 2), (3, 1, 4)], 4, X, noise)
    s = torch.stack([stream, stream.flip(0)], 1)
    whole = StreamLearner(64, capacity=24, batch=2, dtype=D)
    o = whole.run(s)
    parts = StreamLearner(64, capacity=24, batch=2, dtype=D)
    o1 = parts.run(s[:7])
    parts.save(tmp_path / "ck.pt")
    back = StreamLearner.load(tmp_path / "ck.pt")
    o2 = back.run(s[7:])
    torch.testing.assert_close(torch.cat([o1.prediction, o2.prediction]), o.prediction, rtol=0, atol=0)
    torch.testing.assert_close(torch.cat([o1.surprise, o2.surprise]), o.surprise, rtol=0, atol=0)
    for k in StreamLearner._TENSORS:
        torch.testing.assert_close(getattr(back, k), getattr(whole, k), rtol=0, atol=0)
    assert back.steps == whole.steps
    ck = torch.load(tmp_path / "ck.pt", weights_only=True)
    assert ck["version"] == 1


def test_float32_matches_float64():
    X = _items(6)
    noise = _items(30, seed=5)
    stream, _ = _noise_stream([(0, 1, 2, 3), (4, 1, 2, 5)], 3, X, noise)
    o64 = StreamLearner(64, capacity=64, dtype=D).run(stream[:, None])
    o32 = StreamLearner(64, capacity=64, dtype=torch.float32).run(stream[:, None].float())
    # same decoded predictions everywhere; values within float32 rounding of the softmax weights
    assert ((o64.prediction[:, 0] @ X.T).argmax(-1) == (o32.prediction[:, 0].double() @ X.T).argmax(-1)).all()
    torch.testing.assert_close(o32.prediction.double(), o64.prediction, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("bad, msg", [
    (torch.zeros(3, 1, 8), "all zeros"),
    (torch.full((3, 1, 8), float("nan")), "NaN"),
    (torch.ones(3, 2, 8), "streams"),
    (torch.ones(3, 1, 7), "width"),
    (torch.ones(0, 1, 8), "empty"),
    (torch.ones(3, 1, 8, dtype=torch.complex64), "real"),
    ("x", "torch tensor"),
])
def test_bad_input_raises_before_any_state_change(bad, msg):
    lrn = StreamLearner(8, capacity=4)
    lrn.run(torch.ones(2, 1, 8))
    before = {k: getattr(lrn, k).clone() for k in StreamLearner._TENSORS}
    with pytest.raises(ValueError, match=msg):
        lrn.run(bad)
    for k, v in before.items():
        assert torch.equal(getattr(lrn, k), v)
    assert lrn.steps == 2


def test_load_rejects_malformed_checkpoints(tmp_path):
    lrn = StreamLearner(8, capacity=4)
    lrn.run(torch.ones(2, 1, 8))
    p = lrn.save(tmp_path / "a.pt")
    ck = torch.load(p, weights_only=True)
    ck["tensors"]["succ"][0, 0] = 99
    torch.save(ck, tmp_path / "b.pt")
    with pytest.raises(ValueError, match="outside"):
        StreamLearner.load(tmp_path / "b.pt")
    ck = torch.load(p, weights_only=True)
    ck["version"] = 2
    torch.save(ck, tmp_path / "c.pt")
    with pytest.raises(ValueError, match="version"):
        StreamLearner.load(tmp_path / "c.pt")
    (tmp_path / "d.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match="corrupt"):
        StreamLearner.load(tmp_path / "d.pt")
    with pytest.raises(ValueError, match="does not exist"):
        StreamLearner.load(tmp_path / "nope.pt")


@pytest.mark.parametrize("kw", [{"capacity": 0}, {"beta": -1.0}, {"theta": 1.5}, {"recency": 0.0},
                                {"N": 2.5}, {"dtype": torch.int64}])
def test_bad_settings(kw):
    args = {"N": 8, **kw}
    with pytest.raises(ValueError):
        StreamLearner(args.pop("N"), **args)
