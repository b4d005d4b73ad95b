r"""A streaming learner for the context GSEMM: one pass, no boundaries, no resets, learning always on.

:class:`StreamLearner` takes a stream ``(T, B, N)`` — B independent streams, one element per row — and after
every element gives a prediction of the next one and a surprise score. It runs the
:mod:`~networks.gsemm.context` model in the sharp-presentation limit, one settle per element:

1. **Imprint** (one-shot): the element :math:`x_t` is stored in a recruited cell :math:`w_t`
   (:math:`\hat ξ_{w_t} = \hat x_t`) with the transition :math:`Φ_{w_t, w_{t−1}} = 1` from the cell recruited
   for the previous element. Each cell therefore has at most one outgoing and one incoming transition, and
   Φ is stored as a successor index and a strength per cell (exactly the dense Φ of the energy, in O(K)).
2. **Settle** (clamped phase): :math:`h^+_t = \mathrm{softmax}(β\,\hat Ξ\hat x_t + \log(ε + Φ h^+_{t−1}))`
   over the stored cells: the cells holding :math:`x_t` that the previous state predicted — the same item
   in another context is held by another cell and stays silent — or, when none was predicted, all cells
   holding :math:`x_t` (a burst). In a burst a weak backoff drive (``backoff`` ≪ any real prediction) prefers
   the cells that followed the previous item, and, right after a surprise, cells that also began after one
   (a context that starts afresh, e.g. a sequence after noise). Cells below 1e-3 of the most active one are
   silenced (the sharp limit; no ε-level leaks along chains).
3. **Depress** (optional, ``eta`` > 0; contrastive −∂E/∂Φ gated by a third factor): when a known item
   arrives that nothing predicted, the transitions that predicted other cells lose strength in proportion
   to the confidence of that prediction, :math:`ΔΦ_{ij} = η Φ_{ij} d_j (h^+_i − h^-_i)/(ε+(Φd)_i)`, clipped
   to [0, 1]. Off by default: the recency of the free phase already lets the latest continuation win.
4. **Predict** (free phase): :math:`p_{t+1,i} ∝ (Φ h^+_t)_i\, e^{−\text{age}_i/τ_r}` over the cells with at
   least half the largest drive (``recency`` = τ_r; the transition's short-term facilitation decays with
   the age of its event, so after a change of statistics the latest continuation wins); in feature space
   :math:`\hat x_{t+1} = Σ_i p_i ξ_i` (a mixture when several continuations were seen). ``surprise`` is the
   predicted mass that missed the element that then arrived (1 when nothing was predicted).

Memory is a fixed pool of ``capacity`` cells per stream; when it is full, the least recently used cell (the
one longest out of every confirmed prediction, ties to the oldest stored) is recycled, with its
transitions. A transition seen once is predicted the next time (one-shot); an item that recurs in other
contexts gets other cells, so shared and repeated items are disambiguated by the context they came from.

Contracts (tested): ``run(a ++ b)`` equals ``run(a); run(b)``; ``save → load → continue`` equals an
uninterrupted run (exactly, float64); checkpoints load with ``torch.load(weights_only=True)``; streams in a
batch are independent; bad input raises ``ValueError`` before any state changes.

Example
-------
>>> import torch
>>> from networks.gsemm import random_patterns
>>> X = random_patterns(64, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64).T   # items A..E
>>> seq = X[[0, 1, 2, 3, 4]]                                     # A B C D E, shown once
>>> lrn = StreamLearner(64, capacity=32, dtype=torch.float64)
>>> out = lrn.run(torch.cat([seq, X[[0]]])[:, None])           # ... then A again
>>> out.surprise[:, 0].tolist()                                 # everything new, nothing predicted
[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
>>> int((out.prediction[-1, 0] @ X.T).argmax())                 # after one pass: A is followed by B
1
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor

from plasticity.checks import int_at_least, positive

from .context import clamped_phase
from .learner import read_checkpoint

__all__ = ["StreamLearner", "StreamOutput", "STREAM_FORMAT", "STREAM_VERSION"]

STREAM_FORMAT = "seqplastic.gsemm.stream_learner"
STREAM_VERSION = 1


class StreamOutput(NamedTuple):
    """What :meth:`StreamLearner.run` returns for a chunk of T elements.

    ``prediction`` (T, B, N): row t is the prediction of element t+1 made after elements 0..t (zeros where
    nothing is predicted); ``surprise`` (T, B): 1 − the mass the previous prediction put on element t.

    >>> out = StreamLearner(4, capacity=4).run(torch.eye(4)[:, None])
    >>> out.prediction.shape, out.surprise[:, 0].tolist()
    (torch.Size([4, 1, 4]), [1.0, 1.0, 1.0, 1.0])
    """

    prediction: Tensor
    surprise: Tensor


class StreamLearner:
    r"""Online, one-pass sequence learner built on the context GSEMM (see the module docstring).

    Settings:

    * ``N``: pattern width; ``capacity``: cells per stream (the memory budget K, recycled least recently used
      when full); ``batch``: number of independent streams B;
    * ``beta``: bottom-up sharpness :math:`β\sqrt{α_s}` of the settle; it must make
      :math:`β(1 − \cos) ≫ \log(1/ε)` for the most similar pair of different items (default 1000: items with
      cosine up to ≈ 0.98 are told apart); ``eps``: floor ε of the context drive :math:`\log(ε + Φd)`;
    * ``eta``: depression rate η of the contrastive rule (0: off, the default; 1: a refuted transition is
      removed); ``theta``: cosine above which a stored cell counts as holding the arriving item (for
      ``surprise``, item scores and replay; it does not enter the dynamics);
    * ``recency``: τ_r, in elements, of the free phase's recency weighting (smaller: the latest continuation
      dominates sooner after a change; larger: a softer mixture over past continuations); ``backoff``:
      strength of the burst-only backoff drive (must be ≫ eps to break a burst's ties);
    * ``learn``: imprint (True) or only predict (False); ``dtype``, ``device``.

    >>> lrn = StreamLearner(8, capacity=16, batch=2)
    >>> lrn.run(torch.ones(3, 2, 8)).prediction.shape
    torch.Size([3, 2, 8])
    """

    def __init__(self, N: int, *, capacity: int = 512, batch: int = 1, beta: float = 1000.0, eps: float = 1e-6,
                 eta: float = 0.0, theta: float = 0.9, recency: float = 20.0, backoff: float = 1e-4, learn: bool = True,
                 dtype: torch.dtype = torch.float32,
                 device: str | torch.device = "cpu"):
        for name, n in (("N", N), ("capacity", capacity), ("batch", batch)):
            int_at_least(name, n, 1, whole_floats=True)
        for name, v in (("beta", beta), ("eps", eps), ("recency", recency)):
            positive(name, v)
        positive("eta", eta, strict=False)
        positive("backoff", backoff, strict=False)
        if not (isinstance(theta, (int, float)) and -1.0 < theta < 1.0):
            raise ValueError(f"theta must be a cosine in (-1, 1), got {theta!r}")
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        self.N, self.capacity, self.batch = int(N), int(capacity), int(batch)
        self.beta, self.eps, self.eta, self.theta = float(beta), float(eps), float(eta), float(theta)
        self.recency = float(recency)
        self.backoff = float(backoff)
        self.learn = bool(learn)
        self.dtype, self.device = dtype, torch.device(device)
        self.reset()

    # ------------------------------------------------------------------------------ state
    def reset(self) -> None:
        """Forget everything: empty pool, no trace, step counter 0."""
        B, K, N = self.batch, self.capacity, self.N
        kw = dict(device=self.device)
        self.xi = torch.zeros(B, K, N, dtype=self.dtype, **kw)          # stored patterns (raw)
        self.xi_unit_t = torch.zeros(B, N, K, dtype=self.dtype, **kw)   # unit patterns as columns (fast match)
        self.succ = torch.full((B, K), -1, dtype=torch.long, **kw)      # successor cell (or -1)
        self.pred = torch.full((B, K), -1, dtype=torch.long, **kw)      # predecessor cell (or -1)
        self.strength = torch.zeros(B, K, dtype=self.dtype, **kw)       # Φ[succ[j], j]
        self.used = torch.zeros(B, K, dtype=torch.bool, **kw)
        self.last_use = torch.full((B, K), -1, dtype=torch.long, **kw)
        self.stored = torch.full((B, K), -1, dtype=torch.long, **kw)
        self.h = torch.zeros(B, K, dtype=self.dtype, **kw)              # settled state h⁺ (= next trace d)
        self.winner = torch.full((B,), -1, dtype=torch.long, **kw)      # last recruited cell
        self.prev_hit = torch.zeros(B, K, dtype=torch.bool, **kw)       # cells holding the previous element
        self.surprised = torch.zeros(B, K, dtype=torch.bool, **kw)      # stored when nothing predicted it
        self.prev_surprised = torch.ones(B, dtype=torch.bool, **kw)     # the previous element was a surprise
        self.steps = 0
        self._ar = torch.arange(B, device=self.device)
        self._refresh()

    @property
    def phi(self) -> Tensor:
        """The dense transition matrix Φ (B, K, K), :math:`Φ_{ij}` = strength of j → i."""
        B, K = self.batch, self.capacity
        phi = torch.zeros(B, K, K, dtype=self.dtype, device=self.device)
        b, j = torch.nonzero(self.succ >= 0, as_tuple=True)
        phi[b, self.succ[b, j], j] = self.strength[b, j]
        return phi

    @property
    def cells_used(self) -> Tensor:
        """Number of stored cells per stream, (B,)."""
        return self.used.sum(-1)

    def _drive(self, d: Tensor) -> Tensor:
        """:math:`q = Φd` (B, K) in O(K): each cell's input comes from its one predecessor."""
        src = (self.strength * d).gather(1, self.pred.clamp_min(0))
        return torch.where(self.pred >= 0, src, torch.zeros((), dtype=self.dtype, device=self.device))

    def _free(self, q: Tensor) -> Tensor:
        """The free-phase prediction over cells from the drive ``q`` (B, K): :math:`p_i ∝ q_i e^{−\text{age}_i/τ_r}`
        (the transitions' short-term facilitation decays with the age of the event), zeros if ``q`` is."""
        sup = q >= 0.5 * q.amax(-1, keepdim=True)
        sup = sup & (q > 0)
        newest = torch.where(sup, self.stored, -1).amax(-1, keepdim=True)
        # exponents are floored at −80 (e^−80 ≈ 2e−35): far below every cut-off, and no slow denormals
        age = ((self.stored - newest).to(self.dtype) / self.recency).clamp_min(-80.0)
        w = torch.where(sup, q * torch.exp(age), 0.0)
        return w / w.sum(-1, keepdim=True).clamp_min(1e-30)

    def prediction_cells(self) -> Tensor:
        """The free-phase prediction over cells (B, K), normalised to sum 1 (all zeros when nothing is predicted)."""
        return self._p

    def _refresh(self) -> None:
        """Recompute the cached drive and prediction from the state (after a load or a replay)."""
        self._q = self._drive(self.h)
        self._p = self._free(self._q)

    def predict(self) -> Tensor:
        """The prediction of the next element in feature space, :math:`Σ_i p_i ξ_i` (B, N)."""
        p = self._p
        b, i = p.nonzero(as_tuple=True)                                   # the support is small: gather it
        out = torch.zeros(self.batch, self.N, dtype=self.dtype, device=self.device)
        return out.index_add_(0, b, p[b, i, None] * self.xi[b, i])

    def scores(self, candidates: Tensor) -> Tensor:
        """Predicted probability of each candidate pattern (C, N) as the next element, (B, C): the mass of the
        cells whose pattern is the candidate's (cosine ≥ ``theta``, nearest candidate). Top-k: ``.topk(k)``.

        >>> lrn = StreamLearner(4, capacity=8)
        >>> X = torch.tensor([[1., 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1]])
        >>> _ = lrn.run(X[[0, 1, 2, 0]][:, None])
        >>> lrn.scores(X)
        tensor([[0., 1., 0.]])
        """
        c = self._check_patterns(candidates, "candidates")
        cu = c / c.norm(dim=-1, keepdim=True)
        cos = self.xi_unit_t.transpose(1, 2) @ cu.T                     # (B, K, C)
        best, idx = cos.max(-1)
        onehot = torch.zeros_like(cos).scatter_(-1, idx.unsqueeze(-1), 1.0) * (best >= self.theta).unsqueeze(-1)
        return (self.prediction_cells().unsqueeze(1) @ onehot).squeeze(1)

    # ------------------------------------------------------------------------------ input checks
    def _check_patterns(self, x, name: str) -> Tensor:
        if not isinstance(x, Tensor):
            raise ValueError(f"{name} must be a torch tensor")
        if x.is_complex() or x.dtype == torch.bool:
            raise ValueError(f"{name} must be real floating point, got {x.dtype}")
        if x.dim() != 2 or x.shape[1] != self.N or x.shape[0] == 0:
            raise ValueError(f"{name} must have shape (C, N={self.N}) with C >= 1, got {tuple(x.shape)}")
        x = x.to(dtype=self.dtype, device=self.device)
        if not bool(torch.isfinite(x).all()):
            raise ValueError(f"{name} contains NaN or inf")
        if bool((x.norm(dim=-1) == 0).any()):
            raise ValueError(f"{name} contains an all-zero pattern, which matches nothing")
        return x

    def _check_chunk(self, chunk) -> Tensor:
        if not isinstance(chunk, Tensor):
            raise ValueError("chunk must be a torch tensor of shape (T, B, N)")
        if chunk.is_complex() or chunk.dtype == torch.bool:
            raise ValueError(f"chunk must be real floating point, got {chunk.dtype}")
        if chunk.dim() != 3:
            raise ValueError(f"chunk must have shape (T, B, N), got {tuple(chunk.shape)}")
        T, B, N = chunk.shape
        if T == 0:
            raise ValueError("chunk is empty (T = 0); pass at least one element")
        if N != self.N:
            raise ValueError(f"chunk has pattern width {N} but the learner has N = {self.N}")
        if B != self.batch:
            raise ValueError(f"chunk has {B} streams but the learner has batch = {self.batch}")
        chunk = chunk.to(dtype=self.dtype, device=self.device)
        if not bool(torch.isfinite(chunk).all()):
            raise ValueError("chunk contains NaN or inf; clean the stream before feeding it")
        zero = (chunk.norm(dim=-1) == 0).nonzero()
        if zero.numel():
            t, b = zero[0].tolist()
            raise ValueError(f"element {t} of stream {b} is all zeros; an element must be a non-zero pattern")
        return chunk

    # ------------------------------------------------------------------------------ stepping
    def run(self, chunk: Tensor, *, progress: bool | str = False) -> StreamOutput:
        """Feed ``chunk`` (T, B, N) (or (T, N) for one stream); returns :class:`StreamOutput`."""
        if isinstance(chunk, Tensor) and chunk.dim() == 2 and self.batch == 1:
            chunk = chunk[:, None]
        chunk = self._check_chunk(chunk)
        T = chunk.shape[0]
        preds = torch.empty(T, self.batch, self.N, dtype=self.dtype, device=self.device)
        surprise = torch.empty(T, self.batch, dtype=self.dtype, device=self.device)
        from .integrate import _progress_bar
        bar = _progress_bar(progress, T)
        with torch.no_grad():
            for t in range(T):
                surprise[t] = self._step(chunk[t])
                preds[t] = self.predict()
                if bar is not None and t % 200 == 199:
                    bar.update(200)
        if bar is not None:
            bar.close()
        return StreamOutput(preds, surprise)

    def _lru(self) -> Tensor:
        """The slot to recycle per stream (B,): free first, then least recently used, then oldest stored."""
        big = torch.iinfo(torch.long).max // 4
        lu = torch.where(self.used, self.last_use, torch.full_like(self.last_use, -2))
        m = lu.min(-1, keepdim=True).values
        st = torch.where(lu == m, self.stored, torch.full_like(self.stored, big))
        return st.argmin(-1)

    def _step(self, x: Tensor) -> Tensor:
        ar = self._ar
        xu = x / x.norm(dim=-1, keepdim=True)
        d = self.h
        q, h_minus = self._q, self._p                                    # Φd and the prediction, from the last step
        if self.learn:
            w = self._lru()
            self._recycle(ar, w)                                          # frees w and its transitions
            stale = (q > 0) & (self.pred < 0)
            if bool(stale.any()):                                         # w carried (or received) a prediction
                q = torch.where(stale, torch.zeros_like(q), q)
                h_minus = self._free(q)
        tot = q.sum(-1)
        cos = (xu.unsqueeze(1) @ self.xi_unit_t).squeeze(1)             # (B, K)
        cos_m = cos.masked_fill(~self.used, -2.0)
        best = cos_m.amax(-1, keepdim=True)
        hit = (cos_m >= self.theta) & (cos_m >= best - 0.05)             # cells holding the arriving item
        pi = (h_minus * hit).sum(-1)
        something = tot > 0
        surprise = torch.where(something, 1.0 - pi, torch.ones_like(pi))
        burst = ((q > 0) & hit).sum(-1, keepdim=True) == 0               # no cell holding the item was predicted
        if self.learn:
            refuted = something & (pi <= 1e-6) & (best.squeeze(-1) >= self.theta)   # a novel item refutes nothing
            if self.eta > 0 and bool(refuted.any()):                      # contrastive depression, third factor
                i = self.succ.clamp_min(0)
                dh = -h_minus.gather(1, i) / (self.eps + q.gather(1, i))
                new = (self.strength + self.eta * self.strength * d * dh).clamp(0.0, 1.0)
                self.strength = torch.where((self.succ >= 0) & refuted.unsqueeze(-1), new, self.strength)
            self._imprint(ar, x, xu, w)
            self.surprised[ar, w] = surprise >= 1.0 - 1e-9
            cos[ar, w] = 1.0
            q = q.clone()
            q[ar, w] = 0.0
        # weak backoff drive, used only in a burst: cells that followed a cell of the previous item, and, right
        # after a surprise, cells that also followed a surprise (a context that starts afresh)
        if bool(burst.any()):
            pc = self.pred.clamp_min(0)
            back = (self.prev_hit.gather(1, pc) | (self.surprised.gather(1, pc) & self.prev_surprised[:, None])) \
                & (self.pred >= 0)
            if self.learn:
                back[ar, w] = False                                       # the new cell's own link is not evidence
            q = torch.where(burst, self.backoff * back.to(q.dtype), q)
        cmax = torch.ones_like(best) if self.learn else best             # the imprinted cell matches exactly
        # the energy network's settle, softmax(β cos + log(ε + drive)) over the stored cells; in the sharp limit
        # cells below 1e-3 of the most active one are silent (no ε-level leaks along chains)
        h = clamped_phase(cos, self.eps + q, beta=self.beta, top=cmax, on=self.used, floor=1e-3)
        # use: the cells that carried the (recency-weighted) right prediction
        on = hit & (h_minus >= 0.1 * h_minus.amax(-1, keepdim=True)) & (h_minus > 0)
        self.last_use = torch.where(on, self.steps, self.last_use)
        self.h = h
        self.prev_hit = self.used & (cos >= self.theta) & (cos >= cmax - 0.05)
        self.prev_surprised = surprise >= 1.0 - 1e-9
        self.steps += 1
        self._q = self._drive(h)
        self._p = self._free(self._q)
        return surprise

    def _imprint(self, ar: Tensor, x: Tensor, xu: Tensor, w: Tensor) -> None:
        """One-shot imprint of ``x`` into the recruited cells ``w`` with the transition from the previous ones."""
        self.xi[ar, w] = x
        self.xi_unit_t[ar, :, w] = xu
        self.used[ar, w] = True
        self.stored[ar, w] = self.steps
        self.last_use[ar, w] = self.steps
        prev = self.winner
        ok = prev >= 0
        p = torch.where(ok, prev, w)                  # no predecessor: harmless writes into w's own (empty) slot
        self.succ[ar, p] = torch.where(ok, w, -1)
        self.strength[ar, p] = ok.to(self.dtype)
        self.pred[ar, w] = torch.where(ok, prev, -1)
        self.winner = w.clone()

    def _recycle(self, ar: Tensor, w: Tensor) -> None:
        """Clear cell ``w`` (B,) and its transitions before it is reused (branch-free: absent links write into
        w's own slots, which are cleared anyway)."""
        p, s = self.pred[ar, w], self.succ[ar, w]
        p = torch.where(p >= 0, p, w)
        s = torch.where(s >= 0, s, w)
        self.succ[ar, p] = -1
        self.strength[ar, p] = 0.0
        self.pred[ar, s] = -1
        self.succ[ar, w] = -1
        self.pred[ar, w] = -1
        self.strength[ar, w] = 0.0
        self.used[ar, w] = False
        self.surprised[ar, w] = False
        self.h[ar, w] = 0.0
        self.winner = torch.where(self.winner == w, -1, self.winner)

    # ------------------------------------------------------------------------------ replay
    def replay(self, cue: Tensor, steps: int) -> Tensor:
        """Free replay: settle on the cue (L, B, N) (or (L, N) for one stream) without learning, starting from
        an empty trace, then feed back the predicted item ``steps`` times. Returns (steps, B, N) patterns (rows
        of zeros once nothing is predicted). The learner's own state is left unchanged.

        >>> X = torch.eye(4)
        >>> lrn = StreamLearner(4, capacity=8)
        >>> _ = lrn.run(X[[0, 1, 2, 3]][:, None])
        >>> lrn.replay(X[[0]], 3)[:, 0].argmax(-1).tolist()
        [1, 2, 3]
        """
        steps = int_at_least("steps", steps, 1, whole_floats=True)
        if isinstance(cue, Tensor) and cue.dim() == 2 and self.batch == 1:
            cue = cue[:, None]
        cue = self._check_chunk(cue)
        saved = (self.h, self.learn, self.steps, self.last_use, self.winner, self.prev_hit, self.prev_surprised)
        out = torch.zeros(int(steps), self.batch, self.N, dtype=self.dtype, device=self.device)
        try:
            self.learn = False
            self.h = torch.zeros_like(self.h)
            self.prev_hit = torch.zeros_like(self.prev_hit)
            self.prev_surprised = torch.ones_like(self.prev_surprised)         # a cue starts a context afresh
            self._refresh()
            with torch.no_grad():
                for t in range(cue.shape[0]):
                    self._step(cue[t])
                for t in range(int(steps)):
                    p = self.prediction_cells()
                    alive = p.sum(-1) > 0
                    if not bool(alive.any()):
                        break
                    x = self.xi[torch.arange(self.batch), p.argmax(-1)]
                    x = torch.where(alive.unsqueeze(-1), x, self.xi[:, 0].abs() + 1.0)   # dead streams: dummy
                    out[t] = torch.where(alive.unsqueeze(-1), x, torch.zeros_like(x))
                    h = self.h
                    self._step(x)
                    self.h = torch.where(alive.unsqueeze(-1), self.h, torch.zeros_like(h))
                    self._refresh()
        finally:
            self.h, self.learn, self.steps, self.last_use, self.winner, self.prev_hit, self.prev_surprised = saved
            self._refresh()
        return out

    # ------------------------------------------------------------------------------ checkpoints
    _TENSORS = ("xi", "xi_unit_t", "succ", "pred", "strength", "used", "last_use", "stored", "h", "winner", "prev_hit",
                "surprised", "prev_surprised")

    def _config(self) -> dict:
        return {"N": self.N, "capacity": self.capacity, "batch": self.batch, "beta": self.beta, "eps": self.eps,
                "eta": self.eta, "theta": self.theta, "recency": self.recency, "backoff": self.backoff,
                "learn": self.learn, "dtype": str(self.dtype).removeprefix("torch.")}

    def save(self, path: str | Path) -> Path:
        """Write a versioned checkpoint (config, pool, transitions, state) atomically (temp file + rename)."""
        path = Path(path)
        ck = {"format": STREAM_FORMAT, "version": STREAM_VERSION, "config": self._config(), "steps": self.steps,
              "tensors": {k: getattr(self, k).detach().cpu().clone() for k in self._TENSORS}}
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        torch.save(ck, tmp)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | Path, *, device: str | torch.device = "cpu") -> "StreamLearner":
        """Rebuild a learner from :meth:`save` (``torch.load(weights_only=True)``); a missing, corrupt or
        malformed file raises ``ValueError`` naming the problem."""
        path = Path(path)
        ck = read_checkpoint(path, STREAM_FORMAT, STREAM_VERSION, "stream-learner")
        try:
            cfg = dict(ck["config"])
            dtype = {"float32": torch.float32, "float64": torch.float64}.get(cfg.pop("dtype"))
            if dtype is None:
                raise ValueError("unknown dtype")
            lrn = cls(dtype=dtype, device=device, **cfg)
            steps = ck["steps"]
            if not isinstance(steps, int) or steps < 0:
                raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
            tens = ck["tensors"]
            if set(tens) != set(cls._TENSORS):
                raise ValueError(f"tensor entries {sorted(tens)} differ from {sorted(cls._TENSORS)}")
            for k in cls._TENSORS:
                ref, val = getattr(lrn, k), tens[k]
                if not isinstance(val, Tensor) or val.shape != ref.shape or val.dtype != ref.dtype:
                    raise ValueError(f"entry {k!r} has shape/dtype {getattr(val, 'shape', None)}/"
                                     f"{getattr(val, 'dtype', None)}, expected {tuple(ref.shape)}/{ref.dtype}")
                if val.is_floating_point() and not bool(torch.isfinite(val).all()):
                    raise ValueError(f"entry {k!r} contains NaN or inf")
            K = lrn.capacity
            for k in ("succ", "pred"):
                if bool(((tens[k] < -1) | (tens[k] >= K)).any()):
                    raise ValueError(f"entry {k!r} holds a cell index outside [-1, {K})")
            if bool(((tens["strength"] < 0) | (tens["strength"] > 1)).any()):
                raise ValueError("entry 'strength' outside [0, 1]")
            for k in cls._TENSORS:
                setattr(lrn, k, tens[k].to(device))
            lrn.steps = steps
            lrn._refresh()
        except (KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"checkpoint {path} is incompatible (missing or malformed entry: {e})") from e
        return lrn
