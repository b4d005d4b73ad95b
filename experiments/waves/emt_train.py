"""Training and evaluation of the bias-free Elman RNN on an EMT task (the authors' recipe, §3.4).

Recipe: ``ElmanRNN(d, hidden, d)`` tanh, no biases, ``h_0 = 0``; Adam (lr 1e−3, weight decay = L2), global
grad-norm clip 1.0, batch 64, MSE on ±1 targets at steps ``t ≥ s``; horizon curriculum
``[10, 20, 40, 60, 100]`` advanced when a training batch's bit accuracy exceeds the threshold; test bit
accuracy at horizon 200 over 10 batches of 64 (extrapolation past the training horizon).

Checkpoints (the authors' Lightning ``ModelCheckpoint(monitor="accuracy", save_top_k=5, mode="max")``): with
``checkpoint_every = n > 0`` the model is snapshotted after every n-th step (n = 2000 is the authors' epoch
of 2000 batches), i.e. after steps n, 2n, …. Each snapshot is scored by its *training accuracy*:

- ``"last_batch"`` (default): the bit accuracy of the training batch of the snapshot's own step, the
  epoch's last batch. This is what the authors' checkpoint ranks by: their ``training_step`` calls
  ``self.log("accuracy", …)`` with Lightning's defaults for a training step (``on_step=True``,
  ``on_epoch=False``), so the value ``ModelCheckpoint`` reads at the end of a training epoch is the
  last batch's accuracy, not an epoch mean.
- ``"window"``: the mean of the logged (every 10th step) training-batch accuracies with
  ``step − 200 < s ≤ step``, a less noisy alternative (also recorded when ranking by the last batch).

The top ``checkpoint_top`` snapshots by that score are kept as CPU ``state_dict`` copies, with
Lightning's rule (:class:`TopK`): fill up to k, then a new snapshot replaces the worst kept one only if
its score is strictly higher (a tie with the worst kept one does not replace it; among equally bad kept
ones the oldest is dropped first, as Lightning's ``min`` over its insertion-ordered dict does). The final model
is a candidate only when ``steps`` is a multiple of n and its score makes the top k, so the best kept checkpoint
can test below it.

Example
-------
>>> import torch
>>> res = train_emt((255, 0, 0), hidden=16, steps=3, batch=4, generator=torch.Generator().manual_seed(0))
>>> sorted(res)[:3], [s for s, _ in res["history"]["loss"]]     # logged every 10 steps and at the end
(['checkpoints', 'curriculum', 'history'], [0, 2])
"""
from __future__ import annotations

import time

import torch

from networks.waves import ElmanRNN

from .tasks import Curriculum, bit_accuracy, emt_batch


class TopK:
    """Keep the ``k`` items with the highest scores, offered one at a time (Lightning's ``save_top_k`` rule).

    While fewer than ``k`` are kept every item is kept. After that an item replaces the worst kept one
    only if its score is strictly higher; among equally bad kept items the one offered first is dropped.

    >>> t = TopK(2)
    >>> [t.offer(s, name) for s, name in [(0.5, "a"), (0.7, "b"), (0.7, "c"), (0.6, "d"), (0.9, "e")]]
    [True, True, True, False, True]
    >>> t.items()                     # "e" dropped "b", the older of the two kept 0.7s
    [(0.7, 'c'), (0.9, 'e')]
    """

    def __init__(self, k: int):
        if k < 1:
            raise ValueError(f"k={k} must be >= 1")
        self.k = k
        self._kept: list[tuple[int, float, object]] = []   # (offer order, score, item)
        self._n = 0

    def offer(self, score: float, item) -> bool:
        """Offer one item; returns whether it is kept (at this point; it may be dropped later)."""
        order, self._n = self._n, self._n + 1
        if len(self._kept) < self.k:
            self._kept.append((order, score, item))
            return True
        worst = min(range(len(self._kept)), key=lambda i: (self._kept[i][1], self._kept[i][0]))
        if score > self._kept[worst][1]:
            del self._kept[worst]
            self._kept.append((order, score, item))
            return True
        return False

    def items(self) -> list[tuple[float, object]]:
        """The kept ``(score, item)`` pairs in the order they were offered."""
        return [(sc, it) for _, sc, it in sorted(self._kept, key=lambda e: e[0])]


def select_top_k(scores, k: int) -> list[int]:
    """Indices (ascending) of the entries of ``scores`` that :class:`TopK` keeps when offered in order.

    >>> select_top_k([0.9, 0.95, 0.95, 0.8, 1.0, 0.97], 3)
    [2, 4, 5]
    >>> select_top_k([1.0, 1.0, 1.0, 1.0], 2)        # ties: the earliest snapshots stay
    [0, 1]
    """
    t = TopK(k)
    for i, sc in enumerate(scores):
        t.offer(float(sc), i)
    return sorted(i for _, i in t.items())


def window_acc(acc_log: list[tuple[int, float]], step: int, window: int = 200) -> float:
    """Mean of the logged accuracies with ``step − window < s ≤ step`` (nan when none)."""
    vals = [a for s, a in acc_log if step - window < s <= step]
    return sum(vals) / len(vals) if vals else float("nan")


#: how :func:`train_emt` ranks snapshots (the ``emt`` experiment's ``checkpoint_rank`` setting; module docstring)
CHECKPOINT_RANKS = ("last_batch", "window")


def train_emt(task_id, hidden: int = 128, steps: int = 20000, batch: int = 64, lr: float = 1e-3, l2: float = 0.0,
              clip: float = 1.0, levels=(10, 20, 40, 60, 100), threshold: float = 0.96, d: int = 8, s: int = 8,
              generator: torch.Generator | None = None, device="cpu", backend: str = "auto", progress=None,
              max_seconds: float = 0.0, checkpoint_every: int = 0, checkpoint_top: int = 5,
              checkpoint_rank: str = "last_batch") -> dict:
    """Train one model; returns ``{"model", "curriculum", "history": {"loss", "acc", "horizon"}, "seconds",
    "steps_done", "checkpoints", "kept_states"}``. ``max_seconds > 0`` stops early (checked every 100 steps).

    ``checkpoints`` lists every snapshot as ``{"step" (steps done), "horizon", "train_acc_last_batch",
    "train_acc_window", "train_acc" (the ranking score), "kept"}``; ``kept_states`` maps the step of each kept
    snapshot to its CPU ``state_dict`` (see the module docstring). ``checkpoint_every = 0`` takes none.
    ``seconds`` includes the (cheap) snapshot copies."""
    if steps < 1:
        raise ValueError(f"steps={steps} must be >= 1")
    if checkpoint_every < 0 or checkpoint_top < 1:
        raise ValueError(f"checkpoint_every={checkpoint_every} must be >= 0 and checkpoint_top={checkpoint_top} >= 1")
    if checkpoint_rank not in CHECKPOINT_RANKS:
        raise ValueError(f"checkpoint_rank={checkpoint_rank!r} must be one of {CHECKPOINT_RANKS}")
    top = TopK(checkpoint_top)
    ckpts: list[dict] = []
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
        if checkpoint_every and done % checkpoint_every == 0:
            # score with the horizon this batch was trained at (before any update above changed it)
            last = bit_accuracy(out.detach(), y, mask)
            c = {"step": done, "horizon": int(x.shape[1] - s), "train_acc_last_batch": last,
                 "train_acc_window": window_acc(hist["acc"], step)}
            c["train_acc"] = c["train_acc_last_batch"] if checkpoint_rank == "last_batch" else c["train_acc_window"]
            state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            top.offer(c["train_acc"], (done, state))
            ckpts.append(c)
        if max_seconds > 0 and step % 100 == 99 and time.perf_counter() - t0 > max_seconds:
            break
    if device != "cpu" and torch.cuda.is_available():
        torch.cuda.synchronize()
    kept = {st: state for _, (st, state) in top.items()}
    for c in ckpts:
        c["kept"] = c["step"] in kept
    return {"model": model, "curriculum": cur, "history": hist, "seconds": time.perf_counter() - t0,
            "steps_done": done, "checkpoints": ckpts, "kept_states": kept}


@torch.no_grad()
def evaluate_emt(model: ElmanRNN, task_id, horizon: int = 200, batches: int = 10, batch: int = 64, d: int = 8,
                 s: int = 8, generator: torch.Generator | None = None, device="cpu") -> float:
    """Test bit accuracy at ``horizon`` (mean over ``batches`` fresh batches)."""
    accs = []
    for _ in range(batches):
        x, y, mask = emt_batch(task_id, batch, horizon, d, s, generator=generator)
        out, _ = model(x.to(device))
        accs.append(bit_accuracy(out.cpu(), y, mask))
    return sum(accs) / len(accs)
