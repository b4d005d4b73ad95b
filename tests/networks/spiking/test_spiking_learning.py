"""Spiking learning (novelty recruitment + STDP-like Φ): structure of the learned weights and replay of the
learned network, over several seeds. Success rates measured over more seeds are in docs/spiking.md."""
import numpy as np
import pytest
import torch

from networks.gsemm import dsem, random_patterns
from networks.spiking import SpikingGSEMM, SpikingLearner, transition_check

pytestmark = pytest.mark.brian2

N, L, P = 64, 5, 7


def _learn(seed):
    g = torch.Generator().manual_seed(seed)
    X = random_patterns(N, L, generator=g, dtype=torch.float64).T                 # (L, N) random ±1 items
    init = dsem(0.01 * torch.randn(N, P, generator=g, dtype=torch.float64), torch.zeros(P, P, dtype=torch.float64),
                alpha_s=0.5, alpha_c=1.0, beta=4.0, T_d=2.0)
    lrn = SpikingLearner(init, X, seed=seed)
    return X, lrn, lrn.learn()


def test_learning_recruits_one_unit_per_item_and_learns_transitions():
    ok, replay_prefix = [], []
    for seed in (1, 2, 3):
        X, lrn, net = _learn(seed)
        chk = transition_check(net.xi.numpy(), net.phi.numpy(), X.numpy())
        assert lrn.committed.sum() == L                      # novelty recruitment: exactly one unit per item
        assert chk["distinct"]                               # each item has its own unit (cos >= 0.8)
        ok.append(chk["ok"])
        un = chk["units"]
        sub = net.phi.numpy()[np.ix_(un, un)]
        assert np.diag(sub, 1).mean() > 2 * np.diag(sub).mean()   # super-diagonal beats the diagonal
        assert np.diag(sub, 1).min() > 0.6                   # every learned transition is strong
        assert np.allclose(np.diag(sub), 0.0)                # self-transitions not plastic (self_phi=False)
        res = SpikingGSEMM(net, duration=40.0, seed=seed).run(X[0])
        order = res.decoded(X.numpy().T, bin=0.5, min_dwell=3)
        k = 0
        while k < min(len(order), L) and order[k] == k:
            k += 1
        replay_prefix.append(k)
    assert all(ok)                                           # Φ super-diagonal in memory coordinates
    assert replay_prefix == [L, L, L]                        # every learned network replays the whole sequence


def test_learner_bad_input():
    init = dsem(torch.zeros(8, 3, dtype=torch.float64), torch.zeros(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="X"):
        SpikingLearner(init, np.ones((3, 5)))
    with pytest.raises(ValueError, match="P >= L"):
        SpikingLearner(init, np.ones((4, 8)))
    with pytest.raises(ValueError, match="epochs"):
        SpikingLearner(init, np.ones((3, 8)), epochs=0)
    with pytest.raises(ValueError, match="theta"):
        SpikingLearner(init, np.ones((3, 8)), theta=1.5)
    with pytest.raises(ValueError, match="committed"):
        SpikingLearner(init, np.ones((3, 8))).learn(committed=[True])
