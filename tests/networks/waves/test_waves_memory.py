"""V6 (gradient norm against lag), V7 (lag decodability: wave vs bump), the FFT wave detector and
V15 (local NLMS learning of the boundary)."""
import pytest
import torch

from networks.waves import (EMT_TASKS, LinearBoundary, TWMCell, WaveRNN, decode_task_id, fft_diag_power, irnn,
                            jacobian_product_norms, lag_decodability, learn_boundary_nlms, nlms_delta,
                            phi_from_operator)

D = S = 8


def input_gradient_norms(cell, T):
    """‖∂ vec(H(T)) / ∂u(T−k)‖₂ for k = 0 … T−1 via autograd through the ring-buffer rollout."""
    u = torch.zeros(1, T, D, dtype=torch.float64)

    def final(u_):
        _, _, subs = cell.rollout(cell.init_state(1, torch.float64), u_, record=True)
        return subs[0, -1].reshape(-1)

    J = torch.autograd.functional.jacobian(final, u)[:, 0]          # (sd, T, d)
    return torch.stack([torch.linalg.matrix_norm(J[:, T - 1 - k], ord=2) for k in range(T)])


def test_v6_twm_gradients_do_not_decay_inside_the_window():
    pure = TWMCell(LinearBoundary(torch.zeros(D, S * D, dtype=torch.float64)), input_mode="additive")
    n = input_gradient_norms(pure, 20)
    assert torch.allclose(n[:S], torch.ones(S, dtype=torch.float64))      # exact copies: norm 1
    assert n[S:].abs().max() == 0                                         # open end: hard window
    rc = TWMCell(LinearBoundary(decode_task_id(*EMT_TASKS["repeat_copy"])), input_mode="additive")
    assert torch.allclose(input_gradient_norms(rc, 20), torch.ones(20, dtype=torch.float64))
    # same numbers from the Jacobian products of Φ (linear): ‖Φ^k‖ = 1 for the permutation
    phi = phi_from_operator(decode_task_id(*EMT_TASKS["repeat_copy"]))
    jn = jacobian_product_norms(phi, torch.zeros(60, 64, dtype=torch.float64), 60, "linear")
    assert torch.allclose(jn, torch.ones(61, dtype=torch.float64), atol=1e-12)


def elman_norms(gain, seed, N=64, T=80, K=50):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(N, N, generator=g, dtype=torch.float64) * gain / N ** 0.5
    h = torch.zeros(N, dtype=torch.float64)
    hs = []
    for _ in range(T):
        h = torch.tanh(W @ h + torch.randn(N, generator=g, dtype=torch.float64))
        hs.append(h)
    return jacobian_product_norms(W, torch.stack(hs), K, "tanh")


def test_v6_random_elman_gradients_decay_exponentially():
    n1 = torch.stack([elman_norms(1.0, s) for s in range(3)]).median(0).values
    # brief: ≈0.07 at k=10, ≈1e-3 at k=20 (one seed); bands of ~×3 allow for seed variation
    assert 0.02 < n1[10] < 0.25
    assert n1[20] < 1e-2 and n1[30] < 1e-3
    n15 = torch.stack([elman_norms(1.5, s) for s in range(3)]).median(0).values
    # brief: ≈1.7, 0.42, 0.05 at k = 10, 20, 30 — slower, but still exponential decay
    assert 0.5 < n15[10] < 5 and 0.1 < n15[20] < 1.5 and n15[30] < 0.3 and n15[50] < 0.02
    assert (n15[10:] > n1[10:]).all()


def test_v7_waves_keep_lags_separable_bumps_do_not():
    # many short streams (L = n): no wrap-around on the ring, lags decoded across streams
    g = torch.Generator().manual_seed(0)
    n, B = 24, 300
    u = torch.rand(B, n, 1, generator=g, dtype=torch.float64)          # non-negative: survives the ReLU
    wrnn = WaveRNN(1, n, 1, 1, bias=False, dtype=torch.float64, generator=g)
    _, hw = wrnn(u, backend="torch")
    _, hi = irnn(1, n, 1, generator=g, dtype=torch.float64)(u, backend="torch")
    twm = TWMCell(LinearBoundary(torch.zeros(1, n, dtype=torch.float64)), input_mode="additive")
    _, _, ht = twm.rollout(twm.init_state(B, torch.float64), u, record=True)
    K = n - 4
    r_w = lag_decodability(hw, u, K)
    r_t = lag_decodability(ht.reshape(B, n, -1), u, K)
    r_i = lag_decodability(hi, u, K)
    assert (r_w > 0.999).all() and (r_t > 0.999).all()                # every lag inside the window
    assert (r_i[1:] < 0.5).all()                                      # one direction holds all lags
    assert r_w.mean() - r_i.mean() > 0.5
    # the open end: a TWM with s < n forgets lags >= s
    short = TWMCell(LinearBoundary(torch.zeros(1, 8, dtype=torch.float64)), input_mode="additive")
    _, _, hs8 = short.rollout(short.init_state(B, torch.float64), u, record=True)
    r8 = lag_decodability(hs8.reshape(B, n, -1), u, 12)
    assert (r8[:8] > 0.999).all() and r8[8:].max() < 0.1


def test_fft_detector_separates_wave_from_bump():
    g = torch.Generator().manual_seed(1)
    n, T = 32, 200
    u = torch.rand(1, T, 1, generator=g, dtype=torch.float64)
    wrnn = WaveRNN(1, n, 1, 1, bias=False, dtype=torch.float64)
    _, hw = wrnn(u, backend="torch")
    _, hi = irnn(1, n, 1, generator=g, dtype=torch.float64)(u, backend="torch")
    pw = fft_diag_power(hw[0].detach(), generator=g)
    pi = fft_diag_power(hi[0].detach(), generator=g)
    assert pw["power"] > 10 * max(pi["power"], 1.0)
    assert pw["direction"] == 1                     # content moves toward lower neuron indices
    with pytest.raises(ValueError, match="activity"):
        fft_diag_power(torch.zeros(3))


@pytest.mark.parametrize("name", list(EMT_TASKS))
def test_v15_nlms_learns_the_boundary_locally(name):
    F = decode_task_id(*EMT_TASKS[name])
    F_hat, err = learn_boundary_nlms(F, 4000, episode=10, generator=torch.Generator().manual_seed(0))
    # brief: <= 1.3e-3 after 4000 updates (its seeds); our draws give 4e-13 .. 1.5e-3 over seeds 0-2, so
    # the band is 2e-3 (convergence is geometric; a broken rule stays at O(1))
    assert err[-1] <= 2e-3
    assert err[-1] < err[100]


def test_v15_long_episodes_converge_more_slowly():
    F = decode_task_id(*EMT_TASKS["compose_a"])
    g = torch.Generator().manual_seed(0)
    _, short = learn_boundary_nlms(F, 1000, episode=10, generator=g)
    _, long = learn_boundary_nlms(F, 1000, episode=100, generator=torch.Generator().manual_seed(0))
    assert long[-1] > 3 * short[-1]


def test_nlms_rejects_bad_arguments():
    F = torch.zeros(2, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="lr"):
        nlms_delta(F, torch.ones(1, 2, 2, dtype=torch.float64), torch.ones(1, 2, dtype=torch.float64), lr=3.0)
    with pytest.raises(ValueError, match="H"):
        nlms_delta(F, torch.ones(1, 3, 2, dtype=torch.float64), torch.ones(1, 2, dtype=torch.float64))
