r"""The contenders of the comparison, behind one small interface.

A contender is built by :func:`make` for a pattern width ``N`` and a number of items it must hold
(``items``), with a seed; then

* ``fit(X, probe=..., probe_at=...)`` trains on the sequence ``X`` (L, N) for its fixed budget of
  ``epochs`` presentations of the whole sequence (one presentation = every item once) and returns a
  :class:`FitLog` (presentations used, training seconds, peak memory, and the probe's values at the
  requested epochs, the probe's own time excluded). A second ``fit`` continues from the current weights
  (continual learning).
* ``recall(cues, n)`` → ``(K, n, N)``: from each cue (K, N), the next ``n`` items the model produces.

Contenders (:data:`CONTENDERS`), all sized for a CPU:

* ``gsemm_local`` — DSEM (α_c = 2, r = ½) taught online by the recruiting contrastive energy rule
  (:class:`~networks.gsemm.learning.RecruitingRule`, teacher-forced, no backprop); recall = free running
  from the cue, the items read where the winning hidden unit changes (the model's own state).
* ``gsemm_bptt`` — the same architecture, initial-weight family and recall, with Ξ and Φ trained by
  backpropagation through the unrolled free dynamics from the cue (loss: ‖v(t_k) − x_k‖² at the centre
  t_k = (k + ½) T_esc of each item's dwell; Adam, gradient-norm clipping) — the "rule vs architecture"
  control.
* ``aussm`` (``a``), ``hybrid`` (``a|m``), ``wrnn``, ``elman``, ``lstm``, ``twm`` — next-pattern predictors
  (linear in, model, linear out) trained by BPTT (Adam, binary cross-entropy on the ±1 targets, the
  whole sequence as one batch per presentation); recall = autoregressive rollout of the sign readout.

Example
-------
>>> import torch
>>> from experiments.compare.tasks import random_sequence, score
>>> X = random_sequence(16, 4, torch.Generator().manual_seed(0))
>>> c = make("lstm", N=16, items=4, seed=0, epochs=150)
>>> log = c.fit(X)
>>> log.presentations, score(c.recall(X[:1], 3)[0], X)[0]
(150, True)
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from networks.aussm.stack import HybridStack
from networks.gsemm import State, dsem, escape_time, simulate, smooth_labels
from networks.gsemm.learner import Learner
from networks.gsemm.learning import RecruitingRule
from networks.waves.boundaries import MLPBoundary
from networks.waves.elman import ElmanRNN
from networks.waves.twm import TWMCell
from networks.waves.wrnn import WaveRNN

from .measure import PeakMemory

#: contender name -> one-line description
CONTENDERS: dict[str, str] = {
    "gsemm_local": "DSEM + recruiting energy rule (online, local, no backprop)",
    "gsemm_bptt": "same DSEM trained by BPTT through its free dynamics (rule-vs-architecture control)",
    "aussm": "AUSSM stack 'a', next-pattern BPTT",
    "hybrid": "AUSSM/Mamba hybrid 'a|m', next-pattern BPTT",
    "wrnn": "wave RNN, next-pattern BPTT",
    "elman": "Elman RNN (tanh), next-pattern BPTT",
    "lstm": "torch.nn.LSTM, next-pattern BPTT",
    "twm": "traveling-wave model (clamped lattice of the last 4 patterns, MLP boundary), next-pattern BPTT",
}

#: default budget: presentations of the whole sequence per fit
DEFAULT_EPOCHS = {"gsemm_local": 8, "gsemm_bptt": 150, "aussm": 200, "hybrid": 200, "wrnn": 200, "elman": 200,
                  "lstm": 200, "twm": 200}

# DSEM operating point shared by both GSEMM contenders
_DSEM = dict(alpha_s=1.0, alpha_c=2.0, beta=1.0, beta_d=1.0, T_f=0.05, T_d=1.0)


def item_dwell() -> float:
    """The dwell per item of the DSEM contenders: :func:`networks.gsemm.escape_time` at their parameters
    (α_s = 1, α_c = 2, β_d = 1, T_d = 1, so r = √α_s/(α_c β_d) = 0.5).

    >>> round(item_dwell(), 3)
    1.228
    """
    return escape_time(math.sqrt(_DSEM["alpha_s"]) / (_DSEM["alpha_c"] * _DSEM["beta_d"]), _DSEM["T_d"])


@dataclass
class FitLog:
    """What one ``fit`` used: ``presentations`` (whole-sequence passes), ``items`` (item presentations),
    ``seconds`` (training only), ``peak_mb`` and ``curve`` = [(presentations, seconds, probe value), ...].

    >>> FitLog(3, 30, 0.1, 0.0).items
    30
    """

    presentations: int
    items: int
    seconds: float
    peak_mb: float
    curve: list = field(default_factory=list)


class Contender:
    """Base class: subclasses implement ``train_epoch(X)`` and ``recall(cues, n)``; ``fit`` is shared.

    >>> issubclass(Predictor, Contender)
    True
    """

    name = "contender"

    def __init__(self, N: int, items: int, seed: int, epochs: int, device="cpu"):
        if N < 2 or items < 2:
            raise ValueError(f"N={N} and items={items} must be >= 2")
        if epochs < 1:
            raise ValueError(f"epochs={epochs} must be >= 1")
        self.N, self.items, self.seed, self.epochs = N, items, seed, epochs
        self.device = torch.device(device)
        self.generator = torch.Generator().manual_seed(10_007 * seed + sum(map(ord, self.name)))

    def budget(self) -> dict:
        """The fixed, recorded hyper-parameters of this contender."""
        return {"epochs": self.epochs, **self.hparams()}

    def hparams(self) -> dict:
        return {}

    def train_epoch(self, X: Tensor) -> None:
        raise NotImplementedError

    def recall(self, cues: Tensor, n: int) -> Tensor:
        raise NotImplementedError

    def fit(self, X: Tensor, probe=None, probe_at=()) -> FitLog:
        """Train for ``self.epochs`` presentations of ``X`` (L, N); ``probe(self)`` is evaluated after the
        epochs listed in ``probe_at`` (its time is not counted)."""
        if X.dim() != 2 or X.shape[1] != self.N:
            raise ValueError(f"X must be (L, {self.N}), got {tuple(X.shape)}")
        X = X.to(self.device)
        want = set(int(e) for e in probe_at)
        seconds = 0.0
        curve = []
        with PeakMemory(self.device) as pm:
            for e in range(1, self.epochs + 1):
                t0 = time.perf_counter()
                self.train_epoch(X)
                if self.device.type == "cuda":
                    torch.cuda.synchronize(self.device)
                seconds += time.perf_counter() - t0
                if probe is not None and e in want:
                    curve.append((e, seconds, probe(self)))
        return FitLog(self.epochs, self.epochs * X.shape[0], seconds, pm.peak_mb, curve)


# ---------------------------------------------------------------------------------------------- GSEMM
class _GSEMMBase(Contender):
    recall_dt = 0.005
    record_every = 10
    min_dwell = 5

    def _net(self, xi, phi):
        return dsem(xi, phi, **_DSEM)

    def model(self):
        raise NotImplementedError

    def recall(self, cues: Tensor, n: int) -> Tensor:
        """Free run from each cue (v = cue, s = 0) for (n + 2) T_esc; the items are v at the middle of the
        visits of successive winning hidden units (visits shorter than ``min_dwell`` samples merged), the
        cue's own visit dropped; missing items are 0."""
        net = self.model()
        cues = cues.to(dtype=net.xi.dtype, device=net.xi.device)
        steps = int(math.ceil((n + 2) * item_dwell() / self.recall_dt))
        _, tr = simulate(net, net.init_state(cues), steps=steps, dt=self.recall_dt, method="euler",
                         record=("v", "s"), record_every=self.record_every, backend="dense")
        h = net.hidden_input(tr.v.flatten(0, 1), tr.s.flatten(0, 1)).reshape(*tr.v.shape[:2], -1)
        win = h.argmax(-1)                                                       # (T, K)
        out = cues.new_zeros(cues.shape[0], n, self.N)
        for b in range(cues.shape[0]):
            lab = smooth_labels(win[:, b].cpu(), self.min_dwell)
            runs, start = [], 0
            for t in range(1, lab.shape[0] + 1):
                if t == lab.shape[0] or lab[t] != lab[start]:
                    runs.append((start, t))
                    start = t
            for j, (a, z) in enumerate(runs[1:n + 1]):
                out[b, j] = tr.v[(a + z - 1) // 2, b]
        return out


class GSEMMLocal(_GSEMMBase):
    """DSEM taught by the recruiting energy rule (module docstring); ``hidden_per_item`` spare units.

    >>> GSEMMLocal(N=16, items=4, seed=0, epochs=2).learner.xi.shape
    torch.Size([16, 8])
    """

    name = "gsemm_local"

    def __init__(self, N, items, seed, epochs, device="cpu", hidden_per_item=2, item_steps=60, dt=0.05,
                 theta=0.9):
        super().__init__(N, items, seed, epochs, device)
        self.item_steps, self.dt, self.theta, self.hidden_per_item = item_steps, dt, theta, hidden_per_item
        P = hidden_per_item * items
        xi = torch.randn(N, P, generator=self.generator, dtype=torch.float64) / N
        net = self._net(xi.to(self.device), torch.zeros(P, P, dtype=torch.float64, device=self.device))
        self.learner = Learner(net, RecruitingRule(theta=theta), dt=dt, seed=seed)

    def hparams(self):
        return {"rule": "recruiting", "theta": self.theta, "item_steps": self.item_steps, "dt": self.dt,
                "hidden_units": self.hidden_per_item * self.items, **_DSEM}

    def train_epoch(self, X):
        self.learner.reset_state()
        for k in range(X.shape[0]):
            self.learner.run(X[k].expand(self.item_steps, 1, self.N))

    def model(self):
        return self.learner.model


class GSEMMBPTT(_GSEMMBase):
    """The same DSEM trained by BPTT through its unrolled free dynamics (module docstring).

    >>> c = GSEMMBPTT(N=16, items=4, seed=0, epochs=1)
    >>> c.fit(torch.ones(4, 16, dtype=torch.float64)).presentations
    1
    """

    name = "gsemm_bptt"

    def __init__(self, N, items, seed, epochs, device="cpu", hidden_per_item=2, lr=0.02, init_scale=0.5,
                 train_dt=0.025, clip=1.0):
        super().__init__(N, items, seed, epochs, device)
        P = hidden_per_item * items
        self.lr, self.init_scale, self.train_dt, self.clip, self.hidden_per_item = lr, init_scale, train_dt, clip, \
            hidden_per_item
        kw = dict(dtype=torch.float64, device=self.device)
        self.xi = nn.Parameter((torch.randn(N, P, generator=self.generator, dtype=torch.float64) * init_scale).to(**kw))
        self.phi = nn.Parameter(torch.zeros(P, P, **kw))
        self.opt = torch.optim.Adam([self.xi, self.phi], lr=lr)

    def hparams(self):
        return {"optimizer": "adam", "lr": self.lr, "init_scale": self.init_scale, "train_dt": self.train_dt,
                "clip": self.clip, "hidden_units": self.hidden_per_item * self.items, **_DSEM}

    def train_epoch(self, X):
        L = X.shape[0]
        T = item_dwell()
        net = self._net(self.xi, self.phi)
        centres = {int(round((j + 0.5) * T / self.train_dt)): j for j in range(L)}
        v, s = X[0][None].clone(), torch.zeros_like(X[:1])
        loss = X.new_zeros(())
        for i in range(max(centres) + 1):
            if i in centres:
                loss = loss + (v[0] - X[centres[i]]).pow(2).mean()
            dv, ds, _ = net.flow(State(v, s, None))                  # Euler through the model's equations
            v, s = v + self.train_dt * dv, s + self.train_dt * ds
        self.opt.zero_grad(set_to_none=True)
        (loss / L).backward()
        torch.nn.utils.clip_grad_norm_([self.xi, self.phi], self.clip)
        self.opt.step()

    def model(self):
        return self._net(self.xi.detach(), self.phi.detach())


# ---------------------------------------------------------------------------------------------- BPTT predictors
class _LSTMCore(nn.Module):
    def __init__(self, N, H):
        super().__init__()
        self.rnn = nn.LSTM(N, H, batch_first=True)
        self.out = nn.Linear(H, N)

    def forward(self, x):
        return self.out(self.rnn(x)[0])


class _StackCore(nn.Module):
    def __init__(self, N, d, layers, generator):
        super().__init__()
        self.inp = nn.Linear(N, d)
        # parallel Mamba scan pinned: docs/comparison.md was run with it (the CPU default loop rounds differently)
        self.stack = HybridStack(layers, d, d_state=16, backend="torch", mamba_scan="parallel", generator=generator)
        self.out = nn.Linear(d, N)

    def forward(self, x):
        return self.out(self.stack(self.inp(x)))


class _TWMCore(nn.Module):
    """TWM next-pattern predictor: the inputs are clamped onto the start column of a d × s lattice
    (d = N, the wave carries the last s patterns); the boundary f(H) read after each step is the logit of
    the next pattern."""

    def __init__(self, N, s, hidden, generator):
        super().__init__()
        self.cell = TWMCell(MLPBoundary(N, s, hidden, generator=generator), input_mode="clamp")

    def forward(self, x):
        st = self.cell.init_state(x.shape[0], dtype=x.dtype, device=x.device)
        _, _, subs = self.cell.rollout(st, u=x, record=True)           # (B, T, s, d), oldest column first
        B, T, s, d = subs.shape
        return self.cell.boundary(subs.reshape(B * T, s, d)).reshape(B, T, d)


class _FirstOutput(nn.Module):
    """Wraps a (y, hs)-returning recurrent net as x -> y."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)[0]


class Predictor(Contender):
    """A next-pattern predictor trained by BPTT: logits = core(x_0..x_t) → x_{t+1}; ``kind`` one of
    ``aussm``, ``hybrid``, ``wrnn``, ``elman``, ``lstm``, ``twm``.

    >>> Predictor("elman", N=8, items=3, seed=0, epochs=1).hparams()["hidden"]
    64
    """

    def __init__(self, kind, N, items, seed, epochs, device="cpu", hidden=64, lr=1e-2):
        self.name = kind
        super().__init__(N, items, seed, epochs, device)
        self.kind, self.hidden, self.lr = kind, hidden, lr
        torch.manual_seed(10_007 * seed + 1)        # nn.LSTM / nn.Linear initialisers use the global RNG
        g = self.generator
        if kind == "lstm":
            core = _LSTMCore(N, hidden)
        elif kind == "elman":
            core = _FirstOutput(ElmanRNN(N, hidden, N, activation="tanh", bias=True, generator=g))
        elif kind == "wrnn":
            core = _FirstOutput(WaveRNN(N, hidden // 2, 2, N, u_init="shift", v_init="random", generator=g))
        elif kind == "twm":
            core = _TWMCore(N, 4, hidden, g)
        elif kind in ("aussm", "hybrid"):
            core = _StackCore(N, hidden // 2, "a" if kind == "aussm" else "a|m", g)
        else:
            raise ValueError(f"unknown predictor kind {kind!r}; choose from aussm, hybrid, wrnn, elman, lstm, twm")
        self.core = core.to(self.device)
        self.opt = torch.optim.Adam(self.core.parameters(), lr=lr)

    def hparams(self):
        return {"optimizer": "adam", "lr": self.lr, "hidden": self.hidden, "loss": "bce next pattern",
                "parameters": sum(p.numel() for p in self.core.parameters())}

    def train_epoch(self, X):
        x = X[None, :-1].float()
        target = (X[None, 1:].float() + 1) / 2
        self.core.train()
        loss = nn.functional.binary_cross_entropy_with_logits(self.core(x), target)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()

    @torch.no_grad()
    def recall(self, cues, n):
        self.core.eval()
        seq = cues.to(self.device).float()[:, None, :]
        for _ in range(n):
            logits = self.core(seq)[:, -1]
            seq = torch.cat([seq, torch.where(logits >= 0, 1.0, -1.0)[:, None]], 1)
        return seq[:, 1:].to(torch.float64)


def make(name: str, *, N: int, items: int, seed: int, epochs: int | None = None, device="cpu") -> Contender:
    """Build contender ``name`` (see :data:`CONTENDERS`) with its default budget unless ``epochs`` is given.

    >>> make("gsemm_local", N=16, items=4, seed=0).epochs
    8
    """
    if name not in CONTENDERS:
        raise ValueError(f"unknown model {name!r}; valid choices: {', '.join(CONTENDERS)}")
    epochs = DEFAULT_EPOCHS[name] if epochs is None else epochs
    if name == "gsemm_local":
        return GSEMMLocal(N, items, seed, epochs, device)
    if name == "gsemm_bptt":
        return GSEMMBPTT(N, items, seed, epochs, device)
    return Predictor(name, N, items, seed, epochs, device)
