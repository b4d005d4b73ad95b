"""Training and evaluation of the bias-free Elman RNN on an EMT task (the authors' recipe, §3.4).

Recipe: ``ElmanRNN(d, hidden, d)`` tanh, no biases, ``h_0 = 0``; Adam (lr 1e−3, weight decay = L2), global
grad-norm clip 1.0, batch 64, MSE on ±1 targets at steps ``t ≥ s``; horizon curriculum
``[10, 20, 40, 60, 100]`` advanced when a training batch's bit accuracy exceeds the threshold; test bit
accuracy at horizon 200 over 10 batches of 64 (extrapolation past the training horizon).

Example
-------
>>> import torch
>>> res = train_emt((255, 0, 0), hidden=16, steps=3, batch=4, generator=torch.Generator().manual_seed(0))
>>> sorted(res)[:3], [s for s, _ in res["history"]["loss"]]     # logged every 10 steps and at the end
(['curriculum', 'history', 'model'], [0, 2])
"""
from __future__ import annotations

import time

import torch

from networks.waves import ElmanRNN

from .tasks import Curriculum, bit_accuracy, emt_batch


def train_emt(task_id, hidden: int = 128, steps: int = 20000, batch: int = 64, lr: float = 1e-3, l2: float = 0.0,
              clip: float = 1.0, levels=(10, 20, 40, 60, 100), threshold: float = 0.96, d: int = 8, s: int = 8,
              generator: torch.Generator | None = None, device="cpu", backend: str = "auto", progress=None,
              max_seconds: float = 0.0) -> dict:
    """Train one model; returns ``{"model", "curriculum", "history": {"loss", "acc", "horizon"}, "seconds",
    "steps_done"}``. ``max_seconds > 0`` stops early (checked every 100 steps)."""
    if steps < 1:
        raise ValueError(f"steps={steps} must be >= 1")
    init_g = torch.Generator().manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
    model = ElmanRNN(d, hidden, d, generator=init_g, backend=backend).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=l2)
    cur = Curriculum(list(levels), threshold)
    hist = {"loss": [], "acc": [], "horizon": []}
    it = range(steps) if progress is None else progress(range(steps))
    t0 = time.perf_counter()
    done = 0
    for step in it:
        x, y, mask = emt_batch(task_id, batch, cur.horizon, d, s, generator=generator)
        x, y, mask = x.to(device), y.to(device), mask.to(device)
        out, _ = model(x)
        loss = ((out[:, mask] - y[:, mask]) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if step % 10 == 0 or step == steps - 1:
            acc = bit_accuracy(out.detach(), y, mask)
            hist["loss"].append((step, float(loss.detach())))
            hist["acc"].append((step, acc))
            hist["horizon"].append((step, cur.horizon))
            cur.update(acc, step)
        done = step + 1
        if max_seconds > 0 and step % 100 == 99 and time.perf_counter() - t0 > max_seconds:
            break
    if device != "cpu" and torch.cuda.is_available():
        torch.cuda.synchronize()
    return {"model": model, "curriculum": cur, "history": hist, "seconds": time.perf_counter() - t0,
            "steps_done": done}


@torch.no_grad()
def evaluate_emt(model: ElmanRNN, task_id, horizon: int = 200, batches: int = 10, batch: int = 64, d: int = 8, s: int = 8,
             generator: torch.Generator | None = None, device="cpu") -> float:
    """Test bit accuracy at ``horizon`` (mean over ``batches`` fresh batches)."""
    accs = []
    for _ in range(batches):
        x, y, mask = emt_batch(task_id, batch, horizon, d, s, generator=generator)
        out, _ = model(x.to(device))
        accs.append(bit_accuracy(out.cpu(), y, mask))
    return sum(accs) / len(accs)
