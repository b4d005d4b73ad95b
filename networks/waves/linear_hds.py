"""Linear history-dependent dynamical systems (HDS) and the EMT variable-binding task family.

A linear HDS with state dimension ``d`` and history ``s`` evolves as

    x(t+1) = F · [x(t−s+1); …; x(t)]        F ∈ ℝ^{d × s·d}

where the stacked history is *oldest first* and flattened position-major (index ``pos·d + dim``).
The EMT tasks (Karuvally et al., arXiv:2310.02430) are the signed selections F ∈ {−1, 0, 1}^{d×sd}
named by three integers ``(task_id1, task_id2, task_id3)``:

* ``task_id1`` — bitmask over the ``s·d`` history entries with exactly ``d`` bits set (which entries);
  entry ``j`` (in increasing bit order) initially feeds output dimension ``j``;
* ``task_id2`` — base-``d`` digits, least significant first; digit ``j`` swaps the assignments of output
  dims ``j`` and ``j + digit`` (requires ``digit < d − j``);
* ``task_id3`` — binary, least significant first; bit ``k`` set flips the sign of output dim ``k``.

Repeat copy of period ``s`` is ``(2**d − 1, 0, 0)``.

Example
-------
>>> F = decode_task_id(255, 0, 0, d=8, s=8)
>>> F.shape, int(F.abs().sum())
(torch.Size([8, 64]), 8)
>>> x0 = torch.ones(1, 8, 8)
>>> hds_rollout(F, x0, steps=3).shape
torch.Size([1, 3, 8])
"""
from __future__ import annotations

import torch
from torch import Tensor

#: the four EMT tasks used in the paper (task ids as tuples), d = s = 8
EMT_TASKS: dict[str, tuple[int, int, int]] = {
    "repeat_copy": (255, 0, 0),
    "compose_diag": (9241421688590303745, 0, 0),
    "compose_a": (9241421688590303745, 262676, 189),
    "compose_b": (9241421688590303745, 38637, 145),
}


def _check_dims(d: int, s: int) -> None:
    if not isinstance(d, int) or d < 1:
        raise ValueError(f"d={d!r} must be a positive integer (state dimension)")
    if not isinstance(s, int) or s < 1:
        raise ValueError(f"s={s!r} must be a positive integer (history length)")


def task_assignment(task_id1: int, task_id2: int, task_id3: int, d: int = 8, s: int = 8
                    ) -> tuple[list[int], list[int], list[int]]:
    """Decode an EMT task id into ``(position, dim, sign)`` per output dimension.

    Output dim ``k`` equals ``sign[k] · x(t − s + position[k])[dim[k]]`` (``position`` 0 = oldest).

    >>> pos, dim, sign = task_assignment(255, 0, 0, 8, 8)
    >>> pos[:3], dim[:3], sign[:3]
    ([0, 0, 0], [0, 1, 2], [1, 1, 1])
    """
    _check_dims(d, s)
    if task_id1 < 0 or task_id1 >= 1 << (s * d):
        raise ValueError(f"task_id1={task_id1} must be a bitmask over s*d={s * d} history entries")
    entries = [b for b in range(s * d) if (task_id1 >> b) & 1]
    if len(entries) != d:
        raise ValueError(f"task_id1={task_id1} sets {len(entries)} bits; exactly d={d} are required")
    if task_id2 < 0:
        raise ValueError(f"task_id2={task_id2} must be >= 0 (base-d swap digits)")
    perm = list(range(d))
    rest, j = task_id2, 0
    while rest:
        digit = rest % d
        rest //= d
        if j >= d or digit >= d - j:
            raise ValueError(f"task_id2={task_id2}: digit {digit} at position {j} must be < d - j = {d - j}")
        perm[j], perm[j + digit] = perm[j + digit], perm[j]
        j += 1
    if task_id3 < 0 or task_id3 >= 1 << d:
        raise ValueError(f"task_id3={task_id3} must be a sign bitmask below 2**d = {1 << d}")
    chosen = [entries[p] for p in perm]
    positions = [e // d for e in chosen]
    dims = [e % d for e in chosen]
    signs = [-1 if (task_id3 >> k) & 1 else 1 for k in range(d)]
    return positions, dims, signs


def decode_task_id(task_id1: int, task_id2: int, task_id3: int, d: int = 8, s: int = 8,
                   dtype: torch.dtype = torch.float64) -> Tensor:
    """The task operator ``F ∈ {−1,0,1}^{d × s·d}``: ``F[k, pos_k·d + dim_k] = sign_k``.

    >>> F = decode_task_id(9241421688590303745, 262676, 189)
    >>> int(F[0, 4 * 8 + 4])   # out_0 = −x(t−4)[4]
    -1
    """
    positions, dims, signs = task_assignment(task_id1, task_id2, task_id3, d, s)
    F = torch.zeros(d, s * d, dtype=dtype)
    for k in range(d):
        F[k, positions[k] * d + dims[k]] = signs[k]
    return F


def fibonacci_operator(d: int, s: int, dtype: torch.dtype = torch.float64) -> Tensor:
    """Generalised Fibonacci ``x(t+1) = Σ_{k<s} x(t−k)``, i.e. ``F = [I_d … I_d]``.

    >>> fibonacci_operator(1, 2).tolist()
    [[1.0, 1.0]]
    """
    _check_dims(d, s)
    return torch.eye(d, dtype=dtype).repeat(1, s)


def check_operator(F: Tensor, d: int | None = None, s: int | None = None) -> tuple[int, int]:
    """Validate a boundary operator ``F`` of shape ``(d, s·d)`` and return ``(d, s)``.

    >>> check_operator(torch.zeros(2, 6))
    (2, 3)
    """
    if not isinstance(F, Tensor) or F.dim() != 2:
        raise ValueError(f"F must be a 2-D tensor of shape (d, s*d); got {getattr(F, 'shape', type(F))}")
    dd = F.shape[0] if d is None else d
    if dd < 1 or F.shape[1] % dd:
        raise ValueError(f"F has shape {tuple(F.shape)}; the second dimension must be a multiple of d={dd}")
    ss = F.shape[1] // dd if s is None else s
    if F.shape != (dd, ss * dd):
        raise ValueError(f"F has shape {tuple(F.shape)}; expected (d, s*d) = ({dd}, {ss * dd})")
    if not torch.isfinite(F).all():
        raise ValueError("F contains NaN or inf")
    return dd, ss


def phi_from_operator(F: Tensor) -> Tensor:
    """One-step operator of the linear TWM: ``Φ = (S ⊗ I_d) + (e_s ⊗ F)`` of shape ``(sd, sd)``.

    ``S`` has ones on the superdiagonal (block ``i`` ← block ``i+1``), ``e_s`` is the last unit vector, so
    the last block row of Φ is F. The state is ``h = [h_1; …; h_s]`` with ``h_1`` the oldest column.

    >>> phi = phi_from_operator(decode_task_id(255, 0, 0))
    >>> torch.allclose(phi @ phi.T, torch.eye(64, dtype=phi.dtype))   # repeat copy: a permutation
    True
    """
    d, s = check_operator(F)
    shift = torch.kron(torch.diag(torch.ones(s - 1, dtype=F.dtype), 1), torch.eye(d, dtype=F.dtype))
    phi = shift.to(F.device)
    phi[(s - 1) * d:, :] = F
    return phi


def hds_rollout(F: Tensor, x_init: Tensor, steps: int) -> Tensor:
    """Direct simulation of the linear HDS: returns ``x(s), …, x(s+steps−1)`` of shape ``(B, steps, d)``.

    ``x_init`` of shape ``(B, s, d)`` holds ``x(0) … x(s−1)`` (oldest first).

    >>> F = fibonacci_operator(1, 2)
    >>> hds_rollout(F, torch.ones(1, 2, 1, dtype=torch.float64), 4).flatten().tolist()
    [2.0, 3.0, 5.0, 8.0]
    """
    d, s = check_operator(F)
    if x_init.dim() != 3 or x_init.shape[1:] != (s, d):
        raise ValueError(f"x_init must have shape (B, s={s}, d={d}); got {tuple(x_init.shape)}")
    if steps < 0:
        raise ValueError(f"steps={steps} must be >= 0")
    hist = [x_init[:, i] for i in range(s)]
    out = []
    for _ in range(steps):
        y = torch.cat(hist[-s:], dim=-1) @ F.T.to(x_init.dtype)
        out.append(y)
        hist.append(y)
    if not out:
        return x_init.new_zeros(x_init.shape[0], 0, d)
    return torch.stack(out, 1)
