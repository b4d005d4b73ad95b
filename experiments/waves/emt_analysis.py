"""Post-training analysis of an EMT model: spectrum vs Φ, W_hh in the wave basis, Ψ*h(t), wave-shift score.

The wave basis is the Krylov basis grounded in the input (``G = W_ih``, the paper's choice) or the output
(``G = pinv(W_hy)``, the authors' code), or the F-aware theory basis. The wave-shift score is our
criterion for the moving wave: the mean over output-phase steps of ``corr(vec z_{t+1}[0:s−1], vec z_t[1:s])`` where
``z_t = Ψ* h(t)`` reshaped ``(s, d)`` — 1 when every variable moves exactly one block per step.

Example
-------
>>> import torch
>>> from networks.waves import ElmanRNN
>>> net = ElmanRNN(8, 64, 8, generator=torch.Generator().manual_seed(0))
>>> res = analyse(net, (255, 0, 0), generator=torch.Generator().manual_seed(0))
>>> sorted(k for k in res if not k.startswith("_"))[:3]
['eig_count', 'spectral_error', 'unit_eigs']
"""
from __future__ import annotations

import torch

from networks.waves import (decode_task_id, dual_basis, eig_count, f_aware_basis, grounding, in_basis, krylov_basis,
                            phi_from_operator, project, spectral_error, unit_eigs)

from .tasks import emt_batch


#: the wave bases :func:`wave_basis` builds (the ``emt`` experiment's ``basis`` setting)
BASES = ("krylov_input", "krylov_output", "f_aware")


def wave_basis(model, task_id, kind: str = "krylov_input", d: int = 8, s: int = 8) -> torch.Tensor:
    """Ψ (float64, ``(H, s·d)``) for ``kind`` in :data:`BASES`."""
    W = model.weight_hh.detach().cpu().double()
    W_ih = model.weight_ih.detach().cpu().double()
    if kind == "krylov_input":
        return krylov_basis(W, grounding(W_uh=W_ih, mode="input"), s)
    if kind == "krylov_output":
        return krylov_basis(W, grounding(W_hy=model.readout.detach().cpu().double(), mode="output"), s)
    if kind == "f_aware":
        return f_aware_basis(W, W_ih, decode_task_id(*task_id, d=d, s=s))
    raise ValueError(f"basis={kind!r} must be one of {BASES}")


def wave_shift_score(z: torch.Tensor) -> float:
    """Mean correlation between ``z[t+1, :-1]`` and ``z[t, 1:]`` over t (``z (T, s, d)``).

    >>> z = torch.randn(10, 8, 3, generator=torch.Generator().manual_seed(0))
    >>> wave = torch.stack([torch.roll(z[0], -t, dims=0) for t in range(10)])   # moves one block per step
    >>> round(wave_shift_score(wave), 6)
    1.0
    """
    a = z[1:, :-1].reshape(z.shape[0] - 1, -1)
    b = z[:-1, 1:].reshape(z.shape[0] - 1, -1)
    a = a - a.mean(1, keepdim=True)
    b = b - b.mean(1, keepdim=True)
    corr = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-300)
    return float(corr.mean())


@torch.no_grad()
def analyse(model, task_id, basis: str = "krylov_input", horizon: int = 24, d: int = 8, s: int = 8,
            eig_threshold: float = 0.8, generator: torch.Generator | None = None) -> dict:
    """Spectrum, spectral error (radians, threshold 0.9 as in emt-tools), Ψ⁺WΨ and Ψ*h(t) of one sequence."""
    W = model.weight_hh.detach().cpu().double()
    phi = phi_from_operator(decode_task_id(*task_id, d=d, s=s))
    Psi = wave_basis(model, task_id, basis, d, s)
    x, y, mask = emt_batch(task_id, 1, horizon, d, s, generator=generator)
    dev = next(model.parameters()).device
    _, hs = model(x.to(dev), backend="torch")
    z = project(hs[0].detach().cpu().double(), dual_basis(Psi), s)
    return {
        "eig_count": eig_count(W, eig_threshold),
        "spectral_error": spectral_error(W, phi, 0.9),
        "unit_eigs": unit_eigs(W, eig_threshold),
        "wave_shift_score": wave_shift_score(z[s:]),
        "_phi": phi, "_W_basis": in_basis(W, Psi), "_z": z, "_x": x[0], "_y": y[0],
        "_eig_W": torch.linalg.eigvals(W), "_eig_phi": torch.linalg.eigvals(phi),
    }
