"""The context GSEMM in Brian2: a network learned from a high-order stream replays in the same order as in torch."""
import pytest
import torch

from networks.gsemm import random_patterns
from networks.gsemm.context import ContextGSEMM
from networks.gsemm.streaming import StreamLearner

pytestmark = pytest.mark.brian2


def _learned():
    g = torch.Generator().manual_seed(0)
    X = random_patterns(64, 7, generator=g, dtype=torch.float64).T         # A B C D E X Y
    noise = random_patterns(64, 40, generator=g, dtype=torch.float64).T
    rows, k = [], 0
    for _ in range(2):
        for seq in ([0, 1, 2, 3, 4], [5, 1, 2, 3, 6]):                     # shared middle B C D
            rows += [X[i] for i in seq] + [noise[k]]
            k += 1
    lrn = StreamLearner(64, capacity=64, dtype=torch.float64)
    lrn.run(torch.stack(rows)[:, None])
    used = lrn.used[0]
    xi, phi = lrn.xi[0, used], lrn.phi[0][used][:, used]
    return X, xi, ContextGSEMM(xi, phi, beta=10.0, T_f=0.1, T_h=0.05, T_d=0.5)


def test_high_order_network_replays_in_brian2_as_in_torch():
    from networks.spiking import ContextRateMirror
    X, xi, net = _learned()
    Xn = X / X.norm(dim=1, keepdim=True)
    xin = xi / xi.norm(dim=1, keepdim=True)

    def items(cells):
        ov = xin[torch.as_tensor(cells)] @ Xn.T
        lab = torch.where(ov.max(-1).values > 0.9, ov.argmax(-1), -1)
        return torch.unique_consecutive(lab).tolist()

    mirror = ContextRateMirror(net, duration=20.0, dt=0.01, cue_time=1.0, record_every=5)
    for cue, expect in ((0, [0, 1, 2, 3, 4]), (5, [5, 1, 2, 3, 6])):      # A ... -> E,  X ... -> Y
        tr = net.simulate(X[cue], steps=2000, dt=0.01, cue_steps=100, record_every=5)
        torch_order = items(tr.cell[:, 0])
        brian_order = items(mirror.run(X[cue]).cells)
        assert torch_order[:5] == expect, torch_order
        assert brian_order[:5] == expect, brian_order
        assert brian_order == torch_order


def test_mirror_rejects_bad_settings():
    from networks.spiking import ContextRateMirror
    _, _, net = _learned()
    with pytest.raises(ValueError, match="cue_time"):
        ContextRateMirror(net, duration=1.0, dt=0.01, cue_time=2.0)
    with pytest.raises(ValueError, match="dt"):
        ContextRateMirror(net, duration=1.0, dt=0.2)
