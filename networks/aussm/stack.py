r"""Pre-norm residual stacks of AUSSM (``a``) and Mamba (``m``) blocks from layer strings like ``"a|m"``.

Each layer: :math:`x \leftarrow x + \mathrm{mixer}(\mathrm{RMSNorm}(x))`, with
:math:`\mathrm{RMSNorm}(x) = x / \sqrt{\overline{x^2} + \epsilon}\odot w`; the stack ends with a final RMSNorm
(as in the released AUSSM code). :class:`TokenModel` adds an embedding and a linear readout for token tasks
(per-position logits). Both have a decode API with explicit state: ``init_state(batch)`` and ``step(x_t, state)``.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .block import AUSSMBlock, _check_input, linear
from .mamba import MambaBlock

LAYER_KINDS = {"a": "AUSSM block", "m": "Mamba block"}


def parse_layers(layers: str) -> list[str]:
    """Split a layer string (``"a"``, ``"a|m"``, ``"m|a|m"``) into letters; unknown/empty → ValueError.

    Example
    -------
    >>> parse_layers("a|m")
    ['a', 'm']
    """
    if not isinstance(layers, str) or not layers.strip():
        raise ValueError(f"layers must be a non-empty string like 'a|m', got {layers!r}")
    out = [p.strip() for p in layers.split("|")]
    bad = [p for p in out if p not in LAYER_KINDS]
    if bad:
        raise ValueError(f"layers={layers!r}: unknown layer {bad[0]!r}; use 'a' (AUSSM) or 'm' (Mamba) "
                         "separated by '|', e.g. 'a|m'")
    return out


class RMSNorm(nn.Module):
    r"""RMSNorm :math:`y = x\,/\sqrt{\mathrm{mean}(x^2) + \epsilon}\odot w` over the last axis (w starts at 1).

    Example
    -------
    >>> y = RMSNorm(2, eps=0.0)(torch.tensor([[3.0, 4.0]]))
    >>> round(y.pow(2).mean().item(), 6)
    1.0
    """

    def __init__(self, d: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class HybridStack(nn.Module):
    r"""Pre-norm residual stack ``x ← x + block(norm(x))`` per letter of ``layers``, then a final RMSNorm.

    ``layers``: e.g. ``"a|m"`` (see :func:`parse_layers`); ``d_state`` is shared by both block types (as in the
    released code); ``backend``/``precision``/``phase_scale`` go to every AUSSM block (``phase_scale``: init scale
    of its phase projection, 1 = released init); ``mamba_scan`` to every Mamba block (``"auto"``,
    ``"parallel"`` or ``"sequential"``; see :func:`networks.aussm.mamba.resolve_scan`); ``generator`` initialises
    everything.
    Maps (B, L, d) → (B, L, d). The decode state is a tuple with one block state per layer.

    Example
    -------
    >>> st = HybridStack("a|m", 8, d_state=4, backend="torch", generator=torch.Generator().manual_seed(0))
    >>> x = torch.randn(2, 6, 8, generator=torch.Generator().manual_seed(1))
    >>> y = st(x); y.shape
    torch.Size([2, 6, 8])
    >>> y1, s = st(x[:, :4], return_state=True); y2 = st(x[:, 4:], s)
    >>> bool(torch.allclose(torch.cat([y1, y2], 1), y, atol=1e-5))
    True
    """

    def __init__(self, layers: str, d_model: int, d_state: int = 16, *, d_conv: int = 4, expand: int = 2,
                 backend: str = "auto", precision: str = "fast", phase_scale: float = 1.0,
                 mamba_scan: str = "auto", generator: torch.Generator | None = None):
        super().__init__()
        self.kinds = parse_layers(layers)
        self.layers = "|".join(self.kinds)
        self.d_model = d_model
        blocks = []
        for k in self.kinds:
            if k == "a":
                blocks.append(AUSSMBlock(d_model, d_state, d_conv, backend=backend, precision=precision,
                                         phase_scale=phase_scale, generator=generator))
            else:
                blocks.append(MambaBlock(d_model, d_state, d_conv, expand, scan=mamba_scan, generator=generator))
        self.blocks = nn.ModuleList(blocks)
        self.norms = nn.ModuleList(RMSNorm(d_model) for _ in self.kinds)
        self.norm_f = RMSNorm(d_model)

    def init_state(self, batch: int, **kw) -> tuple:
        """Zero decode state: one block state per layer (``dtype``/``device`` keywords passed on)."""
        return tuple(b.init_state(batch, **kw) for b in self.blocks)

    def forward(self, x: Tensor, state: tuple | None = None, *, return_state: bool = False):
        """(B, L, d) → (B, L, d); continues from ``state``; ``(y, new_state)`` with ``return_state=True``."""
        _check_input("x", x, self.d_model, 3)
        if state is not None and len(state) != len(self.blocks):
            raise ValueError(f"state has {len(state)} layer states, the stack has {len(self.blocks)} layers")
        new = []
        for k, (blk, nrm) in enumerate(zip(self.blocks, self.norms)):
            y, s = blk(nrm(x), None if state is None else state[k], return_state=True)
            x = x + y
            new.append(s)
        x = self.norm_f(x)
        return (x, tuple(new)) if return_state else x

    def step(self, x_t: Tensor, state: tuple) -> tuple[Tensor, tuple]:
        """One token: ``x_t`` (B, d) → ``(y_t, new_state)``; equals ``forward`` position by position."""
        _check_input("x_t", x_t, self.d_model, 2)
        if len(state) != len(self.blocks):
            raise ValueError(f"state has {len(state)} layer states, the stack has {len(self.blocks)} layers")
        new = []
        for blk, nrm, s in zip(self.blocks, self.norms, state):
            y, s = blk.step(nrm(x_t), s)
            x_t = x_t + y
            new.append(s)
        return self.norm_f(x_t), tuple(new)


class TokenModel(nn.Module):
    r"""Token model: embedding → :class:`HybridStack` → linear readout; ``logits[b, t] = W_o\,y_t + b_o``.

    ``tokens`` are int64 (B, L) in ``[0, vocab_size)``; returns per-position logits (B, L, n_classes).
    Keywords after ``layers`` go to :class:`HybridStack` (``phase_scale``, ``mamba_scan``, ``backend``, ...).

    Example
    -------
    >>> m = TokenModel(3, 2, "a|m", d_model=8, d_state=4, backend="torch", generator=torch.Generator().manual_seed(0))
    >>> tok = torch.tensor([[0, 1, 2, 1]])
    >>> logits = m(tok); logits.shape
    torch.Size([1, 4, 2])
    >>> s = m.init_state(1); outs = []
    >>> for t in range(4):
    ...     o, s = m.step(tok[:, t], s); outs.append(o)
    >>> bool(torch.allclose(torch.stack(outs, 1), logits, atol=1e-5))
    True
    """

    def __init__(self, vocab_size: int, n_classes: int, layers: str, *, d_model: int = 32, d_state: int = 16,
                 d_conv: int = 4, expand: int = 2, backend: str = "auto", precision: str = "fast",
                 phase_scale: float = 1.0, mamba_scan: str = "auto", generator: torch.Generator | None = None):
        super().__init__()
        for name, v in (("vocab_size", vocab_size), ("n_classes", n_classes)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.vocab_size, self.n_classes = vocab_size, n_classes
        self.embed = nn.Embedding(vocab_size, d_model)
        with torch.no_grad():
            self.embed.weight.copy_(torch.randn(vocab_size, d_model, generator=generator))
        self.stack = HybridStack(layers, d_model, d_state, d_conv=d_conv, expand=expand, backend=backend,
                                 precision=precision, phase_scale=phase_scale, mamba_scan=mamba_scan,
                                 generator=generator)
        self.head = linear(d_model, n_classes, True, generator)

    def _check_tokens(self, name: str, tok: Tensor, dims: int) -> None:
        if not isinstance(tok, Tensor) or tok.dim() != dims or tok.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"{name} must be an integer tensor of {dims} dims, got "
                             f"{getattr(tok, 'dtype', type(tok))} {tuple(getattr(tok, 'shape', ()))}")
        if tok.numel() and (int(tok.min()) < 0 or int(tok.max()) >= self.vocab_size):
            raise ValueError(f"{name} holds ids outside [0, {self.vocab_size})")

    def init_state(self, batch: int, **kw) -> tuple:
        """Zero decode state of the stack (the embedding and head are stateless)."""
        kw.setdefault("dtype", self.head.weight.dtype)
        return self.stack.init_state(batch, **kw)

    def forward(self, tokens: Tensor, state: tuple | None = None, *, return_state: bool = False):
        """(B, L) int tokens → logits (B, L, n_classes) (``(logits, state)`` with ``return_state=True``)."""
        self._check_tokens("tokens", tokens, 2)
        x = self.embed(tokens.long()).to(self.head.weight.dtype)
        y, s = self.stack(x, state, return_state=True)
        logits = self.head(y)
        return (logits, s) if return_state else logits

    def step(self, token_t: Tensor, state: tuple) -> tuple[Tensor, tuple]:
        """One token per stream: ``token_t`` (B,) → ``(logits_t (B, n_classes), new_state)``."""
        self._check_tokens("token_t", token_t, 1)
        x = self.embed(token_t.long()).to(self.head.weight.dtype)
        y, s = self.stack.step(x, state)
        return self.head(y), s


__all__ = ["HybridStack", "TokenModel", "RMSNorm", "parse_layers", "LAYER_KINDS"]
