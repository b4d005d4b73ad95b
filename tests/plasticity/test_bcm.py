

def test_default_parameters_settle_on_the_selective_fixed_point():
    """Two orthogonal patterns, p = 1/2 each: with the defaults the winning weight settles near 1/p = 2 (a
    slow threshold, tau_theta = 1 with eta = 1, oscillates between about 1 and 2.8 instead)."""
    import torch
    from plasticity import BCM
    rule = BCM()
    g = torch.Generator().manual_seed(0)
    w = torch.full((1, 2), 0.5, dtype=torch.float64)
    s = rule.init_state(w)
    X = torch.eye(2, dtype=torch.float64)
    tail = []
    for t in range(30000):
        x = X[int(torch.randint(0, 2, (1,), generator=g))][None]
        dw, s = rule.delta(w, x, x @ w.T, s, 0.01)
        w = w + dw
        if t >= 28000:
            tail.append(w.max().item())
    assert abs(sum(tail) / len(tail) - 2.0) < 0.2 and w.min().abs().item() < 1e-3
    mean = sum(tail) / len(tail)
    sd = (sum((v - mean) ** 2 for v in tail) / len(tail)) ** 0.5
    assert sd < 0.3, sd                                      # no sustained oscillation
