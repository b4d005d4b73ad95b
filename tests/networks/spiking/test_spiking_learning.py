"""Spiking learning (STDP-like rules): mechanics only. The full criterion (Φ super-diagonal in memory
coordinates and replay of the learned network) is NOT met yet: hidden-unit recruitment is unreliable
(items can share or lose units); see docs/spiking.md."""
import numpy as np
import pytest
import torch

from networks.gsemm import dsem, hadamard_patterns
from networks.spiking import SpikingLearner

pytestmark = pytest.mark.brian2


def test_learner_runs_and_weights_move_towards_items():
    g = torch.Generator().manual_seed(0)
    X = hadamard_patterns(32, 4, dtype=torch.float64).T
    init = dsem(0.1 * torch.randn(32, 6, generator=g, dtype=torch.float64), torch.zeros(6, 6, dtype=torch.float64),
                alpha_s=0.5, alpha_c=1.0, beta=4.0, T_d=2.0)
    lrn = SpikingLearner(init, X, epochs=2, seed=0)
    net = lrn.learn()
    assert net.xi.shape == (32, 6) and net.phi.shape == (6, 6)
    assert torch.isfinite(net.xi).all() and (net.phi >= 0).all()
    def best_cos(xi):
        return float(((X @ xi) / (X.norm(dim=1)[:, None] * xi.norm(dim=0)[None, :])).max())
    assert best_cos(init.xi) < 0.5 < 0.7 < best_cos(net.xi)     # Hebbian Ξ tunes a unit to an item
    assert net.phi.abs().sum() > 0                  # the STDP-like Φ rule changed weights


def test_learner_bad_input():
    init = dsem(torch.zeros(8, 3, dtype=torch.float64), torch.zeros(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="X"):
        SpikingLearner(init, np.ones((3, 5)))
    with pytest.raises(ValueError, match="epochs"):
        SpikingLearner(init, np.ones((3, 8)), epochs=0)
