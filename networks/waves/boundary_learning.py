"""Local, online learning of a linear TWM boundary by normalised LMS (NLMS).

With the shift substrate fixed, the start boundary is linear regression on the substrate: the target is
the next true state ``y = x(t+1)`` and the features are ``vec(H(t))``. The rule returns a Δ and does not
mutate (apply it as ``F ← F + ΔF``):

    ΔF = η (y − F̂ vec(H)) vec(H)ᵀ / (‖vec(H)‖² + ε)

Each update uses only the boundary's own input (the substrate) and its error — a local, three-factor-like
delta rule; no BPTT is needed because the substrate does not depend on F under teacher forcing.

Example
-------
>>> import torch
>>> H = torch.ones(1, 2, 1, dtype=torch.float64)
>>> dF = nlms_delta(torch.zeros(1, 2, dtype=torch.float64), H, torch.tensor([[2.0]], dtype=torch.float64))
>>> [round(v, 9) for v in dF.flatten().tolist()]   # one step solves this sample: dF · [1, 1] = 2
[1.0, 1.0]
"""
from __future__ import annotations

import torch
from torch import Tensor

from .linear_hds import check_operator, hds_rollout


def nlms_delta(F_hat: Tensor, H: Tensor, y: Tensor, lr: float = 1.0, eps: float = 1e-12) -> Tensor:
    """NLMS update ``ΔF = lr · mean_b (y_b − F̂ h_b) h_bᵀ / (‖h_b‖² + ε)``, ``h_b = vec(H_b)``; ``H (B, s, d)``
    substrate, ``y (B, d)`` target.

    >>> g = torch.Generator().manual_seed(0)
    >>> F = torch.randn(2, 6, generator=g, dtype=torch.float64)          # the boundary to learn (d=2, s=3)
    >>> F_hat = torch.zeros(2, 6, dtype=torch.float64)
    >>> for _ in range(300):
    ...     H = torch.randn(1, 3, 2, generator=g, dtype=torch.float64)
    ...     F_hat += nlms_delta(F_hat, H, H.reshape(1, -1) @ F.T)
    >>> float((F_hat - F).abs().max()) < 1e-6
    True
    """
    d, s = check_operator(F_hat)
    if H.dim() != 3 or H.shape[1:] != (s, d):
        raise ValueError(f"H must have shape (B, s={s}, d={d}); got {tuple(H.shape)}")
    if y.shape != (H.shape[0], d):
        raise ValueError(f"y must have shape (B, d) = ({H.shape[0]}, {d}); got {tuple(y.shape)}")
    if not 0 < lr <= 2:
        raise ValueError(f"lr={lr} must be in (0, 2] for NLMS to be stable")
    h = H.reshape(H.shape[0], -1).to(F_hat.dtype)
    err = y.to(F_hat.dtype) - h @ F_hat.T
    return lr * torch.einsum("bi,bj->ij", err / (h.pow(2).sum(1, keepdim=True) + eps), h) / H.shape[0]


def learn_boundary_nlms(F: Tensor, updates: int, episode: int = 10, lr: float = 1.0,
                        generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """Teacher-forced NLMS on a single stream of the HDS ``F`` with ±1 histories.

    Every ``episode`` updates a fresh random history is drawn; the substrate then follows the true HDS.
    Returns ``(F_hat, max_abs_error_per_update)``.

    >>> from networks.waves.linear_hds import decode_task_id
    >>> F = decode_task_id(255, 0, 0)
    >>> F_hat, err = learn_boundary_nlms(F, 2000, generator=torch.Generator().manual_seed(0))
    >>> bool(err[-1] < 0.05)
    True
    """
    d, s = check_operator(F)
    if updates < 1 or episode < 1:
        raise ValueError(f"updates={updates} and episode={episode} must be >= 1")
    F_hat = torch.zeros_like(F)
    errs = []
    done = 0
    while done < updates:
        x0 = torch.randint(0, 2, (1, s, d), generator=generator).to(F.dtype) * 2 - 1
        n = min(episode, updates - done)
        traj = torch.cat([x0, hds_rollout(F, x0, n)], dim=1)
        for t in range(n):
            F_hat = F_hat + nlms_delta(F_hat, traj[:, t:t + s], traj[:, t + s], lr)
            errs.append((F_hat - F).abs().max())
        done += n
    return F_hat, torch.stack(errs)
