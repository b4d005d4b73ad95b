r"""LSTM backprop contenders for the continuous online sequence-prediction benchmark of Cui, Ahmad & Hawkins
(2016): :class:`OnlineLSTM` (the paper's *LSTM-online*, adapted at every element by truncated BPTT) and
:class:`RetrainLSTM` (the paper's *LSTM-1000/3000/9000*, retrained every ``every`` elements on the last
``history`` elements).

Several independent streams (e.g. one per seed) run as one batch: stream ``s`` has its own weights, its own
Adam moments and its own hidden state, nothing is shared; the cell is written out with batched matrix
products. For stream ``s`` (gates in the order i, f, o, g; σ the logistic function; ⊙ elementwise)::

    z_t = W_x[s]ᵀ x_t + W_h[s]ᵀ h_{t-1} + b[s]                    (4H, split as z_i, z_f, z_o, z_g)
    i_t = σ(z_i),  f_t = σ(z_f),  o_t = σ(z_o),  g_t = tanh(z_g)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)
    ŷ_t = W_y[s]ᵀ h_t + b_y[s]                                   (N: the prediction of x_{t+1})

with ``W_x`` (S, N, 4H), ``W_h`` (S, H, 4H), ``b`` (S, 4H), ``W_y`` (S, H, N), ``b_y`` (S, N) — i.e. the
usual ``W[s] = [W_x[s]ᵀ  W_h[s]ᵀ]`` of shape (4H, N+H) stored transposed. The loss is the squared error
``mean_n (ŷ_t − x_{t+1})²`` (regression on the ±1 element vectors), summed over streams so that each
stream's gradient is its own; the caller decodes ``ŷ`` (e.g. by overlap with candidate patterns).

Initialisation (from an explicit ``torch.Generator``; no global RNG): every weight and ``b`` uniform in
``±1/√H`` (PyTorch's ``nn.LSTM`` rule) with +1 added to the forget-gate bias, ``b_y = 0``. A single
generator draws all streams at once; a sequence of ``S`` generators gives stream ``s`` its own generator
(then stream ``s`` does not depend on how many other streams run beside it).

Everything runs on the CPU in float32 (inputs are converted); the forward pass, the BPTT backward pass and
the per-stream gradient clipping are written out by hand (checked against autograd), Adam is torch's fused
Adam on one flat parameter buffer.

Defaults, tuned modestly on the Cui et al. (2016) benchmark (10 streams, N = 100, 20 000 elements, the
sequences' last elements swapped after element 10 000; top-1 of the penultimate element's prediction by
overlap among the 10 symbols and 5 000 noise patterns, moving average over 100 sequences), one CPU thread:

* :class:`OnlineLSTM` ``hidden=100, window=10, lr=1e-3``: accuracy 0.97 at 10k, 0.96 at 20k (mean over
  streams; ``hidden=50`` reached 0.81 at 10k, ``lr=3e-3`` or ``1e-2`` did worse); about 2¼ min.
* :class:`RetrainLSTM` ``hidden=50, every=1000, history=3000, epochs=30, lr=0.01`` (re-initialised at
  every retrain, as in the paper): 1.00 at 10k and 20k; about 2¾ min. ``reinit=False, epochs=10`` (warm
  start) reaches 0.99 in under a minute; re-initialised with 15–25 epochs only 0.78–0.97.

Example
-------
>>> import torch
>>> g = torch.Generator().manual_seed(0)
>>> m = OnlineLSTM(2, 8, hidden=4, window=3, generator=g)
>>> xs = torch.randint(0, 2, (6, 2, 8), generator=g).float() * 2 - 1
>>> [tuple(m.step(x).shape) for x in xs][-1]
(2, 8)
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["OnlineLSTM", "RetrainLSTM"]


# ----------------------------------------------------------------------------------------------- helpers
def _check_int(name: str, v, lo: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo:
        raise ValueError(f"{name} must be an int >= {lo}, got {v!r}")
    return v


def _check_pos(name: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    return float(v)


def _check_gens(generator, streams: int) -> torch.Generator | list[torch.Generator]:
    if isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, Sequence) and not isinstance(generator, (str, bytes)):
        gens = list(generator)
        if len(gens) != streams or not all(isinstance(g, torch.Generator) for g in gens):
            raise ValueError(f"generator must be a torch.Generator or a sequence of {streams} of them")
        return gens
    raise ValueError(f"generator must be a torch.Generator (or one per stream), got {type(generator).__name__}")


def _rand(gens, shape: tuple[int, ...], streams: int) -> Tensor:
    """Uniform [0, 1) float32 of shape (streams, *shape): one joint draw, or one draw per stream's generator."""
    if isinstance(gens, torch.Generator):
        return torch.rand((streams, *shape), generator=gens, dtype=torch.float32)
    return torch.stack([torch.rand(shape, generator=g, dtype=torch.float32) for g in gens])


def _randint(gens, high: int, shape: tuple[int, ...], streams: int) -> Tensor:
    if isinstance(gens, torch.Generator):
        return torch.randint(0, high, (streams, *shape), generator=gens)
    return torch.stack([torch.randint(0, high, shape, generator=g) for g in gens])


def _randperm(gens, n: int, streams: int) -> Tensor:
    if isinstance(gens, torch.Generator):
        return torch.argsort(torch.rand((streams, n), generator=gens), dim=1)
    return torch.stack([torch.randperm(n, generator=g) for g in gens])


class _Net:
    """S independent LSTMs in one flat buffer (S, P): hand-written forward and BPTT backward, fused Adam.

    Views of ``flat`` (and the same of ``grad``): W_x (S,N,4H), W_h (S,H,4H), b (S,4H), W_y (S,H,N),
    b_y (S,N). Sequences are (S, T, B, ·): stream, time, batch.
    """

    def __init__(self, streams: int, N: int, H: int, gens):
        self.S, self.N, self.H = streams, N, H
        self.shapes = [(N, 4 * H), (H, 4 * H), (4 * H,), (H, N), (N,)]
        self.P = sum(math.prod(s) for s in self.shapes)
        self.flat = torch.zeros(streams, self.P, requires_grad=True)   # a leaf, for torch's fused Adam
        self.grad = torch.zeros(streams, self.P)
        self.flat.grad = self.grad
        self.Wx, self.Wh, self.b, self.Wy, self.by = self._views(self.flat)
        self.reset(gens)

    def _views(self, buf: Tensor) -> list[Tensor]:
        out, off = [], 0
        for s in self.shapes:
            n = math.prod(s)
            out.append(buf[:, off:off + n].view(self.S, *s))
            off += n
        return out

    @torch.no_grad()
    def reset(self, gens) -> None:
        """Fresh weights (uniform ±1/√H, forget-gate bias +1, b_y = 0) and a fresh Adam."""
        H, k = self.H, 1.0 / math.sqrt(self.H)
        for p in (self.Wx, self.Wh, self.b, self.Wy):
            p.copy_((_rand(gens, tuple(p.shape[1:]), self.S) * 2 - 1) * k)
        self.b[:, H:2 * H] += 1.0
        self.by.zero_()
        self.reset_adam()

    def reset_adam(self) -> None:
        """A fresh Adam (zero moments, step count 0)."""
        self.opt = torch.optim.Adam([self.flat], lr=1e-3, fused=True)

    @torch.no_grad()
    def forward(self, X: Tensor, h: Tensor, c: Tensor, keep: bool = False):
        """Run X (S, T, B, N) from (h, c) (S, B, H). Returns (h_T, c_T, cache); cache (for :meth:`backward`,
        only with ``keep``) = (X, activations A (T,S,B,4H), h_0..h_T (S,T+1,B,H), c_0..c_T, tanh(c_1..c_T))."""
        S, T, B, N = X.shape
        H = self.H
        A = torch.baddbmm(self.b.unsqueeze(1), X.reshape(S, T * B, N), self.Wx)
        A = A.view(S, T, B, 4 * H).transpose(0, 1).contiguous()    # time-major: A[t] contiguous for baddbmm_
        if keep:
            Hs, Cs = h.new_empty(S, T + 1, B, H), h.new_empty(S, T + 1, B, H)
            TC = h.new_empty(S, T, B, H)
            Hs[:, 0], Cs[:, 0] = h, c
        for t in range(T):
            a = A[t].baddbmm_(h, self.Wh)
            a[..., :3 * H].sigmoid_()
            a[..., 3 * H:].tanh_()
            i, f, o, g = a[..., :H], a[..., H:2 * H], a[..., 2 * H:3 * H], a[..., 3 * H:]
            if keep:                                       # write straight into the cache
                c = torch.mul(f, c, out=Cs[:, t + 1]).addcmul_(i, g)
                h = torch.mul(o, torch.tanh(c, out=TC[:, t]), out=Hs[:, t + 1])
            else:
                c = torch.addcmul(f * c, i, g)
                h = o * torch.tanh(c)
        return h, c, ((X, A, Hs, Cs, TC) if keep else None)

    @torch.no_grad()
    def readout(self, h: Tensor) -> Tensor:
        """ŷ = W_yᵀ h + b_y for h (S, M, H) -> (S, M, N)."""
        return torch.baddbmm(self.by.unsqueeze(1), h, self.Wy)

    @torch.no_grad()
    def outputs(self, cache) -> Tensor:
        """The predictions ŷ_1..ŷ_T of a kept forward, (S, T*B, N) in (t, b) order."""
        Hs = cache[2]
        S, T1, B, H = Hs.shape
        return self.readout(Hs[:, 1:].reshape(S, (T1 - 1) * B, H))

    @torch.no_grad()
    def backward(self, cache, dY: Tensor) -> None:
        """BPTT: ``grad`` <- d loss / d params, given dY = d loss / d ŷ (S, T*B, N) in (t, b) order (rows of
        zeros for predictions outside the loss); the state entering the block is a constant."""
        X, A, Hs, Cs, TC = cache
        S, T, B, N = X.shape
        H = self.H
        gWx, gWh, gb, gWy, gby = self._views(self.grad)
        gWy.copy_(torch.bmm(Hs[:, 1:].reshape(S, T * B, H).transpose(1, 2), dY))
        gby.copy_(dY.sum(1))
        dHo = torch.bmm(dY, self.Wy.transpose(1, 2)).view(S, T, B, H)
        D = torch.empty_like(A)                                                   # activation derivatives
        torch.mul(A[..., :3 * H], 1 - A[..., :3 * H], out=D[..., :3 * H])
        torch.mul(A[..., 3 * H:], A[..., 3 * H:], out=D[..., 3 * H:]).neg_().add_(1)
        dZ = torch.empty_like(A)
        WhT = self.Wh.transpose(1, 2)
        dh = torch.zeros(S, B, H)
        dc = torch.zeros(S, B, H)
        for t in range(T - 1, -1, -1):
            a, tc, dz = A[t], TC[:, t], dZ[t]
            dh = dh + dHo[:, t]
            dc = torch.addcmul(dc, dh * a[..., 2 * H:3 * H], 1 - tc * tc)
            torch.mul(dc, a[..., 3 * H:], out=dz[..., :H])                       # d i
            torch.mul(dc, Cs[:, t], out=dz[..., H:2 * H])                         # d f
            torch.mul(dh, tc, out=dz[..., 2 * H:3 * H])                           # d o
            torch.mul(dc, a[..., :H], out=dz[..., 3 * H:])                        # d g
            dz.mul_(D[t])
            dc = dc * a[..., H:2 * H]
            dh = torch.bmm(dz, WhT)
        dZs = dZ.transpose(0, 1).reshape(S, T * B, 4 * H)
        gWh.copy_(torch.bmm(Hs[:, :-1].reshape(S, T * B, H).transpose(1, 2), dZs))
        gWx.copy_(torch.bmm(X.reshape(S, T * B, N).transpose(1, 2), dZs))
        gb.copy_(dZs.sum(1))

    @torch.no_grad()
    def adam(self, lr: float, clip: float | None) -> None:
        """Clip each stream's gradient to norm ``clip``, then one Adam step (torch's fused Adam, defaults
        β = (0.9, 0.999), ε = 1e-8; elementwise, so the streams stay independent)."""
        if clip is not None:
            self.grad.mul_((clip / (self.grad.norm(dim=1, keepdim=True) + 1e-6)).clamp_(max=1.0))
        self.opt.param_groups[0]["lr"] = lr
        self.opt.step()

    @torch.no_grad()
    def mse_grad(self, cache, target: Tensor, first: int = 0) -> Tensor:
        """Loss = Σ_s mean over the counted predictions (t >= first) and n of (ŷ − target)²; fills ``grad``
        by BPTT; returns the per-stream losses (S,). target (S, T, B, N): the element after each input."""
        S, T, B, N = target.shape
        Y = self.outputs(cache).view(S, T, B, N)
        err = Y - target
        err[:, :first] = 0
        count = (T - first) * B * N
        self.backward(cache, (err * (2.0 / count)).view(S, T * B, N))
        return err.pow(2).sum(dim=(1, 2, 3)) / count


def _check_x(x, S: int, N: int) -> Tensor:
    if not isinstance(x, Tensor):
        raise ValueError(f"x must be a torch.Tensor of shape ({S}, {N}), got {type(x).__name__}")
    if tuple(x.shape) != (S, N):
        raise ValueError(f"x must have shape (streams, N) = ({S}, {N}), got {tuple(x.shape)}")
    if x.is_complex() or x.dtype == torch.bool:
        raise ValueError(f"x must be real-valued, got dtype {x.dtype}")
    x = x.detach().to(dtype=torch.float32, device="cpu")
    if not torch.isfinite(x).all():
        raise ValueError("x must be finite (found NaN or inf)")
    return x


# ------------------------------------------------------------------------------------------------- online
class OnlineLSTM:
    r"""LSTM adapted online by truncated BPTT (Cui et al. 2016's *LSTM-online*), one model per stream.

    Cell, for each stream ``s`` (gates i, f, o, g)::

        z_t = W_x[s]ᵀ x_t + W_h[s]ᵀ h_{t-1} + b[s]
        i, f, o = σ(z_i), σ(z_f), σ(z_o);  g = tanh(z_g)
        c_t = f ⊙ c_{t-1} + i ⊙ g;   h_t = o ⊙ tanh(c_t);   ŷ_t = W_y[s]ᵀ h_t + b_y[s] ≈ x_{t+1}

    :meth:`step` with the new element ``x_t``: (1) one Adam step (learning rate ``lr``, each stream's gradient
    clipped to norm ``clip``) on the squared error of the predictions made inside the last ``window`` inputs
    ``x_{t-w} … x_{t-1}``, unrolled from the detached state carried from just before ``x_{t-w}`` (truncated
    BPTT); with ``full_window_loss=False`` only the last of them (``ŷ`` of ``x_t``) counts, otherwise all
    ``w`` next-element predictions of the window (targets ``x_{t-w+1} … x_t``) — the same unroll, so no
    extra cost; (2) one cell step on ``x_t`` (no grad, new weights) from the unrolled state after
    ``x_{t-1}``; returns ``ŷ_t``, the prediction of ``x_{t+1}``. The carried start state then moves one
    element forward (the unrolled state after ``x_{t-w}``).

    Parameters: ``streams`` S, element width ``N``, ``hidden`` H, ``window`` w (BPTT truncation),
    ``lr``, ``clip`` (``None``: no clipping), ``full_window_loss``, and ``generator`` (one
    ``torch.Generator``, or one per stream) for the initial weights. The same seeds give identical outputs.
    Cost per element: one unroll of ``window`` steps forward and back plus one Adam step (about 6.5 ms for
    S = 10, N = 100, H = 100 on one CPU thread).

    Example
    -------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> xs = torch.randint(0, 2, (20, 3, 16), generator=g).float() * 2 - 1      # 20 elements, 3 streams
    >>> run = lambda: torch.stack([m.step(x) for m in [OnlineLSTM(3, 16, hidden=8, window=4,
    ...     generator=torch.Generator().manual_seed(1))] for x in xs])
    >>> y = run()
    >>> y.shape, torch.equal(y, run())                                          # deterministic
    (torch.Size([20, 3, 16]), True)
    >>> OnlineLSTM(3, 16, generator=g).step(torch.ones(2, 16))
    Traceback (most recent call last):
        ...
    ValueError: x must have shape (streams, N) = (3, 16), got (2, 16)
    """

    def __init__(self, streams: int, N: int, *, hidden: int = 100, window: int = 10, lr: float = 1e-3,
                 clip: float | None = 1.0, full_window_loss: bool = True,
                 generator: torch.Generator | Sequence[torch.Generator]):
        self.streams, self.N = _check_int("streams", streams), _check_int("N", N)
        self.hidden, self.window = _check_int("hidden", hidden), _check_int("window", window)
        self.lr = _check_pos("lr", lr)
        self.clip = None if clip is None else _check_pos("clip", clip)
        self.full_window_loss = bool(full_window_loss)
        self.net = _Net(streams, N, hidden, _check_gens(generator, streams))
        self._buf = torch.zeros(streams, window, 1, N)     # last `window` inputs, oldest first
        self._n = 0                                        # how many of them are filled
        zero = torch.zeros(streams, 1, hidden)
        self._h0, self._c0 = zero, zero                    # detached state before _buf[:, 0]
        self.t = 0                                         # elements seen
        self.last_loss: Tensor | None = None               # per-stream loss of the last update (S,)

    def step(self, x: Tensor) -> Tensor:
        """Feed element ``x`` (S, N); learn from it; return the prediction (S, N) of the next element.

        >>> import torch
        >>> m = OnlineLSTM(1, 4, hidden=3, window=2, generator=torch.Generator().manual_seed(0))
        >>> m.step(torch.tensor([[1., -1, 1, -1]])).shape
        torch.Size([1, 4])
        """
        x = _check_x(x, self.streams, self.N)
        net, n = self.net, self._n
        with torch.no_grad():
            if n > 0:                                      # one Adam step on the window x_{t-n} .. x_{t-1}
                X = self._buf[:, :n]
                h, c, cache = net.forward(X, self._h0, self._c0, keep=True)
                target = torch.cat([X[:, 1:], x[:, None, None]], dim=1)
                self.last_loss = net.mse_grad(cache, target, first=0 if self.full_window_loss else n - 1)
                net.adam(self.lr, self.clip)
                if n == self.window:                       # the window slides: carry the state one element on
                    self._h0, self._c0 = cache[2][:, 1].clone(), cache[3][:, 1].clone()
            else:
                h, c = self._h0, self._c0
            if n == self.window:
                self._buf = torch.cat([self._buf[:, 1:], x[:, None, None]], dim=1)
            else:
                self._buf[:, n, 0] = x
                self._n += 1
            h, _, _ = net.forward(x[:, None, None], h, c)  # the new weights, one step on x_t
            self.t += 1
            return net.readout(h)[:, 0]


# ------------------------------------------------------------------------------------------------ retrain
class RetrainLSTM:
    r"""LSTM retrained every ``every`` elements on the last ``history`` elements, one model per stream
    (Cui et al. 2016's *LSTM-1000/3000/9000*; ``every=1000, history=3000`` is *LSTM-3000*).

    Cell, for each stream ``s`` (gates i, f, o, g)::

        z_t = W_x[s]ᵀ x_t + W_h[s]ᵀ h_{t-1} + b[s]
        i, f, o = σ(z_i), σ(z_f), σ(z_o);  g = tanh(z_g)
        c_t = f ⊙ c_{t-1} + i ⊙ g;   h_t = o ⊙ tanh(c_t);   ŷ_t = W_y[s]ᵀ h_t + b_y[s] ≈ x_{t+1}

    Before the first retrain :meth:`step` predicts zeros. When the element count reaches a multiple of
    ``every`` the weights are re-initialised from the generator (``reinit=True``, as in the paper; with
    ``reinit=False`` training continues from the current weights) and trained for ``epochs`` epochs on the
    last ``min(t, history)`` elements: next-element regression on windows of ``seq_len`` inputs unrolled from
    a zero state, the first ``burn_in`` predictions of each window left out of the loss; an epoch tiles the
    history with windows at stride ``seq_len - burn_in`` (random offset, shuffled, per stream) so that
    every element is a counted target about once; minibatches of ``batch`` windows, Adam (``lr``), each
    stream's gradient clipped to norm ``clip``. Then the state is rebuilt by running the new weights over
    the last ``seq_len`` elements from zero, and the model predicts online (one cell step per element, state
    carried, no updates) until the next retrain. Parameters are validated (``ValueError``); the generator
    (one, or one per stream) draws the initial weights and the windows; the same seeds give identical
    outputs. Cost: ``epochs`` passes over ``min(t, history)`` elements per retrain (about 0.25 s per epoch
    for S = 10, N = 100, H = 50, history 3000 on one CPU thread).

    Example
    -------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> xs = torch.randint(0, 2, (12, 2, 8), generator=g).float() * 2 - 1
    >>> m = RetrainLSTM(2, 8, hidden=4, every=5, history=8, epochs=2, seq_len=3, burn_in=0, batch=2,
    ...                 generator=torch.Generator().manual_seed(1))
    >>> ys = torch.stack([m.step(x) for x in xs])
    >>> bool((ys[:4] == 0).all()), bool((ys[4:] != 0).any()), m.retrains     # trained at elements 5 and 10
    (True, True, 2)
    """

    def __init__(self, streams: int, N: int, *, hidden: int = 50, every: int = 1000, history: int = 3000,
                 epochs: int = 30, lr: float = 0.01, seq_len: int = 20, burn_in: int = 5, batch: int = 32,
                 clip: float | None = 1.0, reinit: bool = True,
                 generator: torch.Generator | Sequence[torch.Generator]):
        self.streams, self.N = _check_int("streams", streams), _check_int("N", N)
        self.hidden = _check_int("hidden", hidden)
        self.every, self.history = _check_int("every", every, 2), _check_int("history", history, 2)
        self.epochs, self.seq_len = _check_int("epochs", epochs), _check_int("seq_len", seq_len)
        self.burn_in = _check_int("burn_in", burn_in, 0)
        if burn_in >= seq_len:
            raise ValueError(f"burn_in ({burn_in}) must be < seq_len ({seq_len})")
        self.batch = _check_int("batch", batch)
        self.lr = _check_pos("lr", lr)
        self.clip = None if clip is None else _check_pos("clip", clip)
        self.reinit = bool(reinit)
        self._gens = _check_gens(generator, streams)
        self.net = _Net(streams, N, hidden, self._gens)
        self._hist = torch.zeros(streams, history, N)      # ring buffer of the last `history` elements
        self._h = self._c = None                           # online state (None until the first retrain)
        self.t = 0                                         # elements seen
        self.retrains = 0
        self.last_loss: Tensor | None = None               # per-stream loss of the last retrain's last epoch

    def _recent(self, T: int) -> Tensor:
        """The last T elements, oldest first: (S, T, N)."""
        idx = torch.arange(self.t - T, self.t) % self.history
        return self._hist[:, idx]

    def _retrain(self) -> None:
        S, H, net = self.streams, self.hidden, self.net
        T = min(self.t, self.history)
        D = self._recent(T)
        if self.reinit:
            net.reset(self._gens)
        else:                                              # keep the weights, fresh Adam moments
            net.reset_adam()
        L = min(self.seq_len, T - 1)
        b0 = min(self.burn_in, L - 1)
        stride = L - b0
        M = (T - 1 - L) // stride + 1                      # windows per epoch: starts off + k*stride <= T-1-L
        max_off = T - 1 - L - (M - 1) * stride
        ar = torch.arange(L + 1)
        srange = torch.arange(S)[:, None, None]
        for _ in range(self.epochs):
            off = _randint(self._gens, max_off + 1, (1,), S)                      # (S, 1)
            starts = off + stride * _randperm(self._gens, M, S)                   # (S, M), shuffled
            ep_loss = torch.zeros(S)
            for k in range(0, M, self.batch):
                st = starts[:, k:k + self.batch]                                  # (S, B)
                W = D[srange, st[..., None] + ar].transpose(1, 2)                # (S, L+1, B, N)
                zero = torch.zeros(S, W.shape[2], H)
                _, _, cache = net.forward(W[:, :L], zero, zero, keep=True)
                ep_loss += net.mse_grad(cache, W[:, 1:], first=b0) * W.shape[2]
                net.adam(self.lr, self.clip)
            self.last_loss = ep_loss / M
        # rebuild the online state with the new weights from the last seq_len elements
        zero = torch.zeros(S, 1, H)
        self._h, self._c, _ = net.forward(self._recent(min(self.seq_len, T))[:, :, None], zero, zero)
        self.retrains += 1

    def step(self, x: Tensor) -> Tensor:
        """Feed element ``x`` (S, N); retrain if due; return the prediction (S, N) of the next element.

        >>> import torch
        >>> m = RetrainLSTM(1, 4, hidden=3, every=2, history=4, epochs=1, seq_len=2, burn_in=0,
        ...                 generator=torch.Generator().manual_seed(0))
        >>> m.step(torch.ones(1, 4)).abs().sum().item(), m.step(-torch.ones(1, 4)).shape
        (0.0, torch.Size([1, 4]))
        """
        x = _check_x(x, self.streams, self.N)
        with torch.no_grad():
            self._hist[:, self.t % self.history] = x
            self.t += 1
            if self.t % self.every == 0:
                self._retrain()
            elif self._h is not None:
                self._h, self._c, _ = self.net.forward(x[:, None, None], self._h, self._c)
            else:
                return torch.zeros(self.streams, self.N)
            return self.net.readout(self._h)[:, 0]
