"""Seeded task streams for the wave experiments (every sampler takes an explicit ``torch.Generator``).

* **EMT linear variable binding** (:func:`emt_batch`, :class:`Curriculum`): inputs ``x(t) ∈ {±1}^d`` for
  ``t < s``, zero for the next ``H`` steps; targets ``y(t) = F·[y(t−s); …; y(t−1)]`` for ``t ≥ s`` (zero
  and unscored before). ``F`` comes from the task id (:func:`networks.waves.decode_task_id`). Repeat copy
  is ``(2**d − 1, 0, 0)`` (:func:`repeat_copy_batch`). Curriculum over horizons ``[10, 20, 40, 60, 100]``,
  one level up whenever a training batch's bit accuracy exceeds the threshold.
* **Copy** (wRNN definition, :func:`copy_batch`): 10 one-hot categories; 10 data tokens from {1..8},
  zeros, the delimiter 9 at index ``T−1``; length ``T+10``; targets: the data in the last 10 steps, 0
  elsewhere (cross-entropy over all steps).
* **Adding** (:func:`adding_batch`): length ``T``, channel 0 ``U[0,1]``, channel 1 two indicators (one in
  each half); target the sum of the two marked values (MSE on the last state).

Batch axis first everywhere: ``(B, L, features)``.

Example
-------
>>> import torch
>>> x, y, mask = emt_batch((255, 0, 0), 4, horizon=10, generator=torch.Generator().manual_seed(0))
>>> x.shape, bool(torch.equal(y[:, 8:16], x[:, :8]))     # repeat copy replays the inputs
(torch.Size([4, 18, 8]), True)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from networks.waves import decode_task_id, hds_rollout


def _check_batch(batch: int) -> None:
    if not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch={batch!r} must be a positive integer")


def emt_batch(task_id: tuple[int, int, int], batch: int, horizon: int, d: int = 8, s: int = 8,
              generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
              ) -> tuple[Tensor, Tensor, Tensor]:
    """One EMT batch: ``x (B, s+H, d)``, ``y (B, s+H, d)`` and the scored-step mask ``(s+H,)`` (``t ≥ s``)."""
    _check_batch(batch)
    if horizon < 1:
        raise ValueError(f"horizon={horizon} must be >= 1")
    F = decode_task_id(*task_id, d=d, s=s)
    x0 = (torch.randint(0, 2, (batch, s, d), generator=generator) * 2 - 1).to(torch.float64)
    y_out = hds_rollout(F, x0, horizon)
    x = torch.cat([x0, torch.zeros(batch, horizon, d, dtype=torch.float64)], 1)
    y = torch.cat([torch.zeros(batch, s, d, dtype=torch.float64), y_out], 1)
    mask = torch.arange(s + horizon) >= s
    return x.to(dtype), y.to(dtype), mask


def repeat_copy_batch(batch: int, horizon: int, d: int = 8, generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor, Tensor]:
    """Repeat copy of period ``d`` (EMT id ``(2**d − 1, 0, 0)``, ``s = d``)."""
    return emt_batch(((1 << d) - 1, 0, 0), batch, horizon, d=d, s=d, generator=generator, dtype=dtype)


def bit_accuracy(pred: Tensor, target: Tensor, mask: Tensor) -> float:
    """Mean over scored steps, batch and dims of ``[ŷ ≥ 0 → +1, else −1] == y``."""
    p = torch.where(pred[:, mask] >= 0, 1.0, -1.0)
    return float((p == target[:, mask]).float().mean())


@dataclass
class Curriculum:
    """Horizon curriculum: advance one level when a training batch's bit accuracy exceeds ``threshold``.

    >>> c = Curriculum([10, 20], 0.9)
    >>> c.update(0.95), c.horizon, c.update(0.99), c.horizon
    (True, 20, False, 20)
    """

    levels: list[int] = field(default_factory=lambda: [10, 20, 40, 60, 100])
    threshold: float = 0.96
    level: int = 0
    history: list[tuple[int, int]] = field(default_factory=list)   # (step, new level)

    def __post_init__(self):
        if not self.levels or any(h < 1 for h in self.levels):
            raise ValueError(f"levels={self.levels} must be a non-empty list of positive horizons")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold={self.threshold} must be in (0, 1]")

    @property
    def horizon(self) -> int:
        return self.levels[self.level]

    def update(self, acc: float, step: int = 0) -> bool:
        if acc > self.threshold and self.level < len(self.levels) - 1:
            self.level += 1
            self.history.append((step, self.level))
            return True
        return False


def copy_batch(batch: int, T: int, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
               ) -> tuple[Tensor, Tensor]:
    """Copy task: one-hot inputs ``(B, T+10, 10)`` and integer targets ``(B, T+10)``.

    >>> x, y = copy_batch(2, 12, generator=torch.Generator().manual_seed(0))
    >>> x.shape, int(x[0, 11].argmax()), bool(torch.equal(y[:, 12:], x[:, :10].argmax(-1)))
    (torch.Size([2, 22, 10]), 9, True)
    """
    _check_batch(batch)
    if T < 11:
        raise ValueError(f"T={T} must be >= 11 (the delimiter sits at index T-1, after the 10 data tokens)")
    data = torch.randint(1, 9, (batch, 10), generator=generator)
    seq = torch.zeros(batch, T + 10, dtype=torch.long)
    seq[:, :10] = data
    seq[:, T - 1] = 9
    target = torch.zeros(batch, T + 10, dtype=torch.long)
    target[:, T:] = data
    return torch.nn.functional.one_hot(seq, 10).to(dtype), target


def adding_batch(batch: int, T: int, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32
                 ) -> tuple[Tensor, Tensor]:
    """Adding task: ``x (B, T, 2)`` (values, markers) and the target sum ``(B, 1)``.

    >>> x, y = adding_batch(3, 10, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose((x[..., 0] * x[..., 1]).sum(1, keepdim=True), y)), x[..., 1].sum(1).tolist()
    (True, [2.0, 2.0, 2.0])
    """
    _check_batch(batch)
    if T < 2:
        raise ValueError(f"T={T} must be >= 2")
    vals = torch.rand(batch, T, generator=generator)
    half = T // 2
    i1 = torch.randint(0, half, (batch,), generator=generator)
    i2 = torch.randint(half, T, (batch,), generator=generator)
    marks = torch.zeros(batch, T)
    marks[torch.arange(batch), i1] = 1.0
    marks[torch.arange(batch), i2] = 1.0
    y = (vals * marks).sum(1, keepdim=True)
    return torch.stack([vals, marks], -1).to(dtype), y.to(dtype)
