"""EMT task-id decoding (§3.3 table) and V3: Φ construction, spectra, singular values, rank reduction,
spectral_error."""
import math

import pytest
import torch

from networks.waves import (EMT_TASKS, decode_task_id, eig_count, phi_from_operator, rank_reduce, spectral_error,
                            task_assignment, unit_eigs)

# brief §3.3, "x(t−k)[j]" per output dim 0..7 as (sign, k, j); position = 8 − k
TABLE = {
    "repeat_copy": [(1, 8, k) for k in range(8)],
    "compose_diag": [(1, 8 - k, k) for k in range(8)],
    "compose_a": [(-1, 4, 4), (1, 5, 3), (-1, 6, 2), (-1, 8, 0), (-1, 7, 1), (-1, 3, 5), (1, 1, 7), (-1, 2, 6)],
    "compose_b": [(-1, 3, 5), (1, 2, 6), (1, 8, 0), (1, 7, 1), (-1, 6, 2), (1, 5, 3), (1, 4, 4), (-1, 1, 7)],
}


@pytest.mark.parametrize("name", list(EMT_TASKS))
def test_task_id_decoding_matches_brief_table(name):
    pos, dim, sign = task_assignment(*EMT_TASKS[name])
    assert [(s, 8 - p, j) for p, j, s in zip(pos, dim, sign)] == TABLE[name]
    F = decode_task_id(*EMT_TASKS[name])
    assert (F != 0).sum() == 8 and set(F.unique().tolist()) <= {-1.0, 0.0, 1.0}


def test_bitmask_selects_diagonal_entries():
    bits = [b for b in range(64) if (9241421688590303745 >> b) & 1]
    assert bits == [9 * p for p in range(8)]


@pytest.mark.parametrize("bad, match", [((254, 0, 0), "exactly d"), ((255, 8 ** 7, 0), "digit"),
                                        ((255, 0, 256), "task_id3"), ((1 << 64, 0, 0), "bitmask")])
def test_bad_task_ids_raise(bad, match):
    with pytest.raises(ValueError, match=match):
        decode_task_id(*bad)


def test_v3_repeat_copy_spectrum_and_orthogonality():
    phi = phi_from_operator(decode_task_id(*EMT_TASKS["repeat_copy"]))
    ev = torch.linalg.eigvals(phi)
    assert eig_count(phi) == 64
    assert torch.allclose(ev.abs(), torch.ones(64, dtype=torch.float64), atol=1e-10)
    assert torch.allclose(ev ** 8, torch.ones(64, dtype=torch.complex128), atol=1e-9)   # 8th roots of unity
    # each root with multiplicity 8
    angles = torch.round(torch.remainder(ev.angle(), 2 * math.pi) / (2 * math.pi / 8)).remainder(8)
    assert torch.bincount(angles.long(), minlength=8).tolist() == [8] * 8
    assert torch.equal(phi @ phi.T, torch.eye(64, dtype=torch.float64))
    assert rank_reduce(phi).numel() == 64


@pytest.mark.parametrize("name", ["compose_diag", "compose_a", "compose_b"])
def test_v3_composition_spectra(name):
    phi = phi_from_operator(decode_task_id(*EMT_TASKS[name]))
    ue = unit_eigs(phi, 0.8)
    assert ue.numel() == 36
    # unit-circle eigenvalues are semisimple: float64 round-off only
    assert torch.allclose(ue.abs(), torch.ones(36, dtype=torch.float64), atol=1e-8)
    sv = torch.linalg.svdvals(phi)
    rounded = {round(v, 9) for v in sv.tolist()}
    assert rounded == {0.0, 1.0, round(math.sqrt(2), 9)}
    keep = rank_reduce(phi)
    assert keep.numel() == 36
    assert sorted(torch.bincount(keep // 8, minlength=8).tolist()) == list(range(1, 9))


def test_phi_structure_is_shift_plus_block_row():
    F = torch.arange(2 * 6, dtype=torch.float64).reshape(2, 6)
    phi = phi_from_operator(F)
    assert torch.equal(phi[4:], F)
    assert torch.equal(phi[:4, 2:], torch.eye(4, dtype=torch.float64))
    assert phi[:4, :2].abs().sum() == 0


def test_spectral_error_properties():
    phi = phi_from_operator(decode_task_id(*EMT_TASKS["compose_a"]))
    assert spectral_error(phi, phi) < 1e-12
    # rotating every eigenvalue by a small angle gives exactly that angle as error
    g = torch.Generator().manual_seed(0)
    P = torch.randn(64, 64, generator=g, dtype=torch.float64)
    rot = torch.linalg.matrix_exp(torch.zeros(64, 64, dtype=torch.float64))
    assert spectral_error(P @ phi @ torch.linalg.inv(P) @ rot, phi) < 1e-8
    a = 0.01
    R = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=torch.float64)
    assert abs(spectral_error(R, torch.eye(2, dtype=torch.float64)) - a) < 1e-12
    # a missing eigenvalue is padded with 0 (angle 0): error counts the unmatched angle
    err = spectral_error(torch.diag(torch.tensor([1.0, 0.0])), torch.diag(torch.tensor([1.0, -1.0])))
    assert err == pytest.approx(math.pi / 2)
    with pytest.raises(ValueError, match="square"):
        spectral_error(torch.zeros(2, 3), phi)
