r"""Formal-language tasks for the AUSSM experiments: one answer per sequence, read at the last position.

Every task fixes its modulus (or group) explicitly -- the official config's shared ``vocab_size = 12``
silently changed the moduli in the released code; here nothing depends on the vocabulary size.

========================  =====================================================  ========  =======
task                      answer for tokens :math:`x_1..x_L`                      vocab     classes
========================  =====================================================  ========  =======
``parity``                :math:`\sum_t x_t \bmod 2`, :math:`x_t\in\{0,1\}`      2         2
``cycle_nav``             :math:`\sum_t m(x_t) \bmod 5`, moves +1, −1, stay        3         5
``mod_arith``             digit op digit … evaluated left to right mod 5,          8         5
                          ops + − × (odd lengths only)
``mod_arith_brackets``    random bracketed expression (binary + − ×, unary −)     10        5
                          of exactly L tokens, evaluated mod 5
``a5``                    product :math:`g_1 g_2 \cdots g_L` in the alternating   60        60
                          group :math:`A_5` (negative control: not solvable)
========================  =====================================================  ========  =======

``sample(batch, length, generator)`` returns int64 tokens ``(batch, L)`` and labels ``(batch,)``, drawn
only from the explicit ``torch.Generator`` (the bracketed task seeds a ``random.Random`` from it).
``fit_length(L)`` maps a requested length to the nearest valid one not above it.

Example
-------
>>> g = torch.Generator().manual_seed(0)
>>> tok, lab = TASKS["parity"].sample(4, 7, g)
>>> tok.shape, bool((lab == tok.sum(1) % 2).all())
(torch.Size([4, 7]), True)
"""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

MOD = 5  # the modulus of cycle_nav and both modular-arithmetic tasks (fixed explicitly)


@dataclass(frozen=True)
class Task:
    """A formal-language task: name, vocabulary size, number of classes and its sampler.

    ``sampler(batch, length, generator) -> (tokens, labels)``; ``min_length`` and ``odd_only`` describe valid
    lengths. Example: ``TASKS["cycle_nav"].sample(2, 5, torch.Generator().manual_seed(0))``.
    """

    name: str
    vocab_size: int
    n_classes: int
    sampler: Callable[[int, int, torch.Generator], tuple[Tensor, Tensor]]
    description: str
    odd_only: bool = False
    min_length: int = 1

    def fit_length(self, length: int) -> int:
        """The largest valid length ≤ ``length`` (odd lengths for ``mod_arith``)."""
        if length < self.min_length:
            raise ValueError(f"length={length} is below the minimum {self.min_length} of task {self.name!r}")
        return length - 1 if (self.odd_only and length % 2 == 0) else length

    def sample(self, batch: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """``batch`` sequences of ``fit_length(length)`` tokens and their answers (int64)."""
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        return self.sampler(batch, self.fit_length(length), generator)


def _parity(b, L, g):
    tok = torch.randint(0, 2, (b, L), generator=g)
    return tok, tok.sum(1) % 2


_MOVES = torch.tensor([1, -1, 0])


def _cycle_nav(b, L, g):
    tok = torch.randint(0, 3, (b, L), generator=g)
    return tok, _MOVES[tok].sum(1) % MOD


def _apply(op: Tensor, a: Tensor, c: Tensor) -> Tensor:
    return torch.where(op == 0, a + c, torch.where(op == 1, a - c, a * c)) % MOD


def _mod_arith(b, L, g):
    n = (L + 1) // 2
    digits = torch.randint(0, MOD, (b, n), generator=g)
    ops = torch.randint(0, 3, (b, n - 1), generator=g)
    tok = torch.empty(b, L, dtype=torch.long)
    tok[:, 0::2] = digits
    tok[:, 1::2] = ops + MOD
    acc = digits[:, 0]
    for k in range(n - 1):
        acc = _apply(ops[:, k], acc, digits[:, k + 1])
    return tok, acc


# bracketed expressions: digits 0..4, '+' 5, '-' 6 (binary and unary), '*' 7, '(' 8, ')' 9
_PLUS, _MINUS, _TIMES, _OPEN, _CLOSE = 5, 6, 7, 8, 9


def _expr(L: int, rng: random.Random, out: list) -> int:
    """Append an expression of exactly ``L`` tokens to ``out``; return its value mod 5."""
    if L == 1:
        d = rng.randrange(MOD)
        out.append(d)
        return d
    if L < 5 or rng.random() < 0.15:                   # unary minus: '-' E
        out.append(_MINUS)
        return (-_expr(L - 1, rng, out)) % MOD
    l1 = rng.randint(1, L - 4)                          # '(' E1 op E2 ')'
    out.append(_OPEN)
    a = _expr(l1, rng, out)
    op = rng.randrange(3)
    out.append((_PLUS, _MINUS, _TIMES)[op])
    c = _expr(L - 3 - l1, rng, out)
    out.append(_CLOSE)
    return (a + c if op == 0 else a - c if op == 1 else a * c) % MOD


def _mod_arith_brackets(b, L, g):
    rng = random.Random(int(torch.randint(0, 2**62, (1,), generator=g)))
    toks, labs = [], []
    for _ in range(b):
        out: list[int] = []
        labs.append(_expr(L, rng, out))
        toks.append(out)
    return torch.tensor(toks, dtype=torch.long), torch.tensor(labs, dtype=torch.long)


def _a5_table() -> Tensor:
    perms = [p for p in itertools.permutations(range(5))
             if sum(p[i] > p[j] for i in range(5) for j in range(i + 1, 5)) % 2 == 0]
    index = {p: k for k, p in enumerate(perms)}
    # (a·b)(x) = a(b(x)): the running product left to right
    return torch.tensor([[index[tuple(a[b[x]] for x in range(5))] for b in perms] for a in perms])


A5_TABLE = _a5_table()
A5_IDENTITY = 0  # (0, 1, 2, 3, 4) is the first even permutation in lexicographic order


def _a5(b, L, g):
    tok = torch.randint(0, 60, (b, L), generator=g)
    acc = tok[:, 0]
    for t in range(1, L):
        acc = A5_TABLE[acc, tok[:, t]]
    return tok, acc


TASKS: dict[str, Task] = {
    "parity": Task("parity", 2, 2, _parity, "number of ones mod 2"),
    "cycle_nav": Task("cycle_nav", 3, MOD, _cycle_nav, "position on a 5-cycle after moves +1/-1/stay"),
    "mod_arith": Task("mod_arith", MOD + 3, MOD, _mod_arith, "left-to-right + - x mod 5, no brackets",
                      odd_only=True),
    "mod_arith_brackets": Task("mod_arith_brackets", MOD + 5, MOD, _mod_arith_brackets,
                               "bracketed + - x (and unary -) mod 5"),
    "a5": Task("a5", 60, 60, _a5, "word problem in A5 (negative control)"),
}


def get_task(name: str) -> Task:
    """Look up a task by name (ValueError naming the valid ones).

    Example
    -------
    >>> get_task("a5").n_classes
    60
    """
    if name not in TASKS:
        raise ValueError(f"task={name!r} is not one of {sorted(TASKS)}")
    return TASKS[name]


__all__ = ["Task", "TASKS", "get_task", "MOD", "A5_TABLE", "A5_IDENTITY"]
