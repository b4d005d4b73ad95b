"""V5: basis-transform round trips — Krylov and F-aware wave bases of an embedded TWM."""
import pytest
import torch

from networks.waves import (EMT_TASKS, decode_task_id, dual_basis, eig_count, f_aware_basis, grounding, in_basis,
                            krylov_basis, phi_from_operator, project, spectral_error)

D = S = 8


def embedded(name, seed=0):
    """W = M diag(Φ, T) M⁻¹ with M = [P | Q] random (non-orthogonal), T contractive (|λ| ≤ 0.5)."""
    g = torch.Generator().manual_seed(seed)
    F = decode_task_id(*EMT_TASKS[name])
    phi = phi_from_operator(F)
    P = torch.randn(128, 64, generator=g, dtype=torch.float64)
    Q = torch.randn(128, 64, generator=g, dtype=torch.float64)
    T = 0.5 * torch.linalg.qr(torch.randn(64, 64, generator=g, dtype=torch.float64))[0]
    M = torch.cat([P, Q], 1)
    W = M @ torch.block_diag(phi, T) @ torch.linalg.inv(M)
    E_s = torch.zeros(64, D, dtype=torch.float64)
    E_s[56:] = torch.eye(D, dtype=torch.float64)
    return F, phi, W, P @ E_s, g


@pytest.mark.parametrize("name", list(EMT_TASKS))
def test_v5_krylov_basis_shift_blocks_and_spectrum(name):
    F, phi, W, W_uh, g = embedded(name)
    Psi = krylov_basis(W, W_uh, S)
    A = in_basis(W, Psi)
    # block column k (k >= 1) of Ψ⁺WΨ is the unit block at row k-1: W Ψ_k = Ψ_{k-1} by construction.
    # Tolerance 1e-10: pinv of a 128x64 random basis (cond ~ 1e2..1e3) times matrix powers of W.
    for k in range(1, S):
        blk = A[:, k * D:(k + 1) * D]
        target = torch.zeros_like(blk)
        target[(k - 1) * D:k * D] = torch.eye(D, dtype=torch.float64)
        assert (blk - target).abs().max() < 1e-10
    assert eig_count(W, 0.8) == eig_count(phi, 0.8)
    assert spectral_error(W, phi, 0.8) < 1e-10
    # input-phase Krylov coordinates equal the loaded inputs: h(s) = Σ_j W^{s-1-j} W_uh u(j)
    u = torch.randn(5, S, D, generator=g, dtype=torch.float64)
    h = torch.zeros(5, 128, dtype=torch.float64)
    for t in range(S):
        h = h @ W.T + u[:, t] @ W_uh.T
    assert (project(h, dual_basis(Psi), S) - u).abs().max() < 1e-9


@pytest.mark.parametrize("name", list(EMT_TASKS))
def test_v5_f_aware_basis_gives_row_form_phi_and_clean_shift(name):
    F, phi, W, W_uh, g = embedded(name, seed=1)
    Psi = f_aware_basis(W, W_uh, F)
    assert (in_basis(W, Psi) - phi).abs().max() < 1e-10
    # autonomous coordinates shift by exactly one column per step
    z0 = torch.randn(3, 64, generator=g, dtype=torch.float64)
    h = z0 @ Psi.T
    Ps = dual_basis(Psi)
    prev = project(h, Ps, S)
    for _ in range(10):
        h = h @ W.T
        cur = project(h, Ps, S)
        assert (cur[:, :-1] - prev[:, 1:]).abs().max() < 1e-9
        assert (cur[:, -1] - prev.reshape(3, -1) @ F.T).abs().max() < 1e-9    # boundary = F · vec(H)
        prev = cur


def test_bases_coincide_for_repeat_copy_and_differ_for_compositions():
    F, phi, W, W_uh, _ = embedded("repeat_copy", seed=2)
    assert (krylov_basis(W, W_uh, S) - f_aware_basis(W, W_uh, F)).abs().max() < 1e-9
    F, phi, W, W_uh, _ = embedded("compose_a", seed=2)
    K = in_basis(W, krylov_basis(W, W_uh, S))
    assert (K - phi).abs().max() > 0.5               # companion (block-column) form, not row form
    assert spectral_error(K, phi, 0.8) < 1e-9        # ... but similar


def test_grounding_and_validation():
    W_hy = torch.randn(8, 32, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    G = grounding(W_hy=W_hy, mode="output")
    assert torch.allclose(W_hy @ G, torch.eye(8, dtype=torch.float64), atol=1e-12)
    with pytest.raises(ValueError, match="W_uh"):
        grounding(mode="input")
    with pytest.raises(ValueError, match="rows"):
        krylov_basis(torch.eye(4), torch.ones(3, 1), 2)
    with pytest.raises(ValueError, match="columns"):
        f_aware_basis(torch.eye(64, dtype=torch.float64), torch.ones(64, 3, dtype=torch.float64),
                      decode_task_id(255, 0, 0))
    with pytest.raises(ValueError, match="multiple"):
        project(torch.ones(2, 4), torch.eye(4)[:3], 2)
