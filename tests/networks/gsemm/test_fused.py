"""The fused Triton DSEM kernel against the dense oracle, through the Triton interpreter on a CPU
(a subprocess, so TRITON_INTERPRET does not leak into other tests). Tolerance: float32 rounding
(~1e-7 relative per op) over 200 steps of a contracting flow stays below 1e-5 on overlaps in [−1, 1]."""
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from networks.gsemm import cycle, dsem, lisem, random_patterns, simulate

SCRIPT = textwrap.dedent("""
    import json, torch
    from networks.gsemm import cycle, dsem, masked_cue, random_patterns, simulate
    g = torch.Generator().manual_seed(0)
    N, P, B = 40, 5, 5
    xi = random_patterns(N, P, generator=g, dtype=torch.float32)
    net = dsem(xi, cycle(P), alpha_s=0.8, alpha_c=torch.tensor([2.0, 3.0, 4.9, 2.5, 3.3]), beta=1.0,
               beta_d=1.2, T_d=5.0)
    v0 = torch.stack([masked_cue(xi[:, b % P], 0.25) for b in range(B)])
    s0 = 0.1 * torch.randn(B, N, generator=g)
    st = net.init_state(v0, s0)
    out = {}
    for method in ("euler", "split"):
        f1, t1 = simulate(net, st, steps=200, dt=0.05, method=method, record_every=10, backend="triton")
        f2, t2 = simulate(net, st, steps=200, dt=0.05, method=method, record_every=10, backend="dense")
        assert t1.backend == "triton"
        out[method] = [(t1.overlaps - t2.overlaps).abs().max().item(), (f1.v - f2.v).abs().max().item(),
                       (f1.s - f2.s).abs().max().item(), t1.overlaps.shape[0]]
    print(json.dumps(out))
""")


def test_fused_kernel_matches_dense_in_interpreter():
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    res = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    for method, (ov, dv, ds, n) in out.items():
        assert n == 21
        assert ov < 1e-5 and dv < 1e-5 and ds < 1e-5, (method, ov, dv, ds)


def test_fused_refuses_what_it_does_not_implement():
    xi = random_patterns(16, 4, dtype=torch.float32)
    st_net = dsem(xi, cycle(4))
    st = st_net.init_state(xi[:, 0])
    with pytest.raises(ValueError, match="does not apply"):  # joint RK4 is not implemented by the kernel
        simulate(st_net, st, steps=10, dt=0.01, method="rk4", backend="triton")
    with pytest.raises(ValueError, match="multiple of record_every"):
        simulate(st_net, st, steps=15, dt=0.01, method="euler", record_every=10, backend="triton")
    with pytest.raises(ValueError, match="softmax|nonlinear"):
        net = lisem(xi, cycle(4))
        simulate(net, net.init_state(xi[:, 0]), steps=10, dt=0.01, backend="triton")


@pytest.mark.gpu
@pytest.mark.parametrize("method", ["euler", "split"])
def test_fused_kernel_on_gpu(method):
    g = torch.Generator().manual_seed(0)
    xi = random_patterns(784, 64, generator=g, dtype=torch.float32)
    cues = xi[:, :64].T.contiguous() * (torch.rand(64, 784, generator=g) > 0.25)
    net = dsem(xi.cuda(), cycle(64, device="cuda"), alpha_s=1.0, alpha_c=4.9, T_d=20.0)
    ref_net = dsem(xi.double(), cycle(64, dtype=torch.float64), alpha_s=1.0, alpha_c=4.9, T_d=20.0)
    from networks.gsemm.triton_ops import simulate_fused
    _, t1 = simulate_fused(net, net.init_state(cues.cuda()), steps=2000, dt=0.01, method=method, record_every=20,
                           precision="tf32x3")
    _, t2 = simulate(ref_net, ref_net.init_state(cues.double()), steps=2000, dt=0.01, method=method,
                     record_every=20, backend="dense")
    assert (t1.overlaps.cpu().double() - t2.overlaps).abs().max() < 1e-4
