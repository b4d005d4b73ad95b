"""Traveling-wave model (TWM) cell: a d × s delay lattice with a computed start boundary.

State ``H(t) = [h_1(t) … h_s(t)] ∈ ℝ^{d×s}`` (``h_1`` oldest, ``h_s`` newest). One step:

    h_i(t+1) = h_{i+1}(t)               i = 1 … s−1   (one-way wave, one column per step)
    h_s(t+1) = f(H(t))   [+ input]                      (start boundary)
    h_1(t) leaves through the open end boundary

Input modes (all three are needed: only ``clamp`` and ``init`` reproduce the EMT history-dependent system
exactly; ``additive`` is the RNN semantics, exact only for repeat-copy — see ``docs/waves.md``):

* ``clamp``    — ``h_s(t+1) = u(t)`` while an input is present (``present[b, t]``), else ``f(H(t))``;
* ``additive`` — ``h_s(t+1) = f(H(t)) + B u(t)`` (RNN semantics; ``B = I`` unless ``input_matrix`` given);
* ``init``     — no inputs during the rollout: the substrate is set with :meth:`TWMCell.load`
  (Theorem-3.1 semantics: the s initial states, oldest in column 1).

The substrate is stored as a **ring buffer** ``(B, s, d)`` with a head index (physical slot of the
oldest column): the shift costs one column write, O(d) per stream, and no ``sd × sd`` matrix is built.
:meth:`TWMCell.as_matrix` returns ``Φ = S⊗I_d + e_s⊗F`` for a linear boundary, so
``vec(H(t+1)) = Φ vec(H(t))`` in the autonomous phase. Batch axis first: many independent streams
through one boundary.

Example
-------
>>> import torch
>>> from networks.waves.linear_hds import decode_task_id
>>> cell = TWMCell(LinearBoundary(decode_task_id(255, 0, 0)), input_mode="init")
>>> x0 = torch.randint(0, 2, (2, 8, 8), dtype=torch.float64) * 2 - 1
>>> state, ys = cell.rollout(cell.load(x0), steps=16)
>>> torch.equal(ys[:, 8:], ys[:, :8])            # repeat copy has period 8 ...
True
>>> torch.equal(ys[:, :8], x0)                   # ... and replays the loaded inputs
True
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from .boundaries import LinearBoundary
from .linear_hds import phi_from_operator

INPUT_MODES = ("clamp", "additive", "init")


class TWMState(NamedTuple):
    """Ring-buffer substrate: ``buffer (B, s, d)`` and ``head`` = physical slot of the oldest column.

    >>> st = TWMState(torch.tensor([[[2.0], [0.0], [1.0]]]), head=1)      # slot 1 holds the oldest column
    >>> st.ordered()[0, :, 0].tolist(), st.vector().shape
    ([0.0, 1.0, 2.0], torch.Size([1, 3]))
    """

    buffer: Tensor
    head: int

    def ordered(self) -> Tensor:
        """The substrate ``(B, s, d)`` in logical order (column 0 oldest)."""
        s = self.buffer.shape[1]
        if self.head == 0:
            return self.buffer
        idx = (torch.arange(s, device=self.buffer.device) + self.head) % s
        return self.buffer.index_select(1, idx)

    def vector(self) -> Tensor:
        """``vec(H) = [h_1; …; h_s]`` of shape ``(B, s·d)``."""
        H = self.ordered()
        return H.reshape(H.shape[0], -1)


class TWMCell(nn.Module):
    """TWM cell over a boundary module ``f`` (linear, attention or MLP; see :mod:`.boundaries`).

    ``readout_col`` is the column whose content is returned as the output of each step (default
    ``-1``, the start column, i.e. the value ``f`` just wrote). Each step shifts the lattice by one column
    and writes ``f(H)`` (plus the input, per ``input_mode``) into the start column: ``Φ = S⊗I + e_s⊗F``.

    >>> cell = TWMCell(LinearBoundary(torch.eye(2, 6, dtype=torch.float64)))   # f copies the oldest column
    >>> state, ys = cell.rollout(cell.load(torch.arange(6.0, dtype=torch.float64).reshape(1, 3, 2)), steps=6)
    >>> ys[0].tolist()                          # period s = 3: the loaded columns replay
    [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    >>> cell.as_matrix().shape
    torch.Size([6, 6])
    """

    def __init__(self, boundary: nn.Module, input_mode: str = "clamp", input_matrix: Tensor | None = None,
                 readout_col: int = -1):
        super().__init__()
        if input_mode not in INPUT_MODES:
            raise ValueError(f"input_mode={input_mode!r} must be one of {INPUT_MODES}")
        if not hasattr(boundary, "d") or not hasattr(boundary, "s"):
            raise ValueError("boundary must expose its substrate size as attributes d and s")
        self.boundary, self.input_mode = boundary, input_mode
        self.d, self.s = boundary.d, boundary.s
        if not -self.s <= readout_col < self.s:
            raise ValueError(f"readout_col={readout_col} must index one of the s={self.s} columns")
        self.readout_col = readout_col % self.s
        if input_matrix is not None:
            if input_mode != "additive":
                raise ValueError("input_matrix is only used with input_mode='additive'")
            if input_matrix.dim() != 2 or input_matrix.shape[0] != self.d:
                raise ValueError(f"input_matrix must have shape (d={self.d}, d_in); got {tuple(input_matrix.shape)}")
            self.input_matrix = nn.Parameter(input_matrix.clone())
        else:
            self.input_matrix = None

    # -- state ---------------------------------------------------------------------------------
    def init_state(self, batch: int, dtype: torch.dtype = torch.float32, device=None) -> TWMState:
        """All-zero substrate for ``batch`` streams."""
        if batch < 1:
            raise ValueError(f"batch={batch} must be >= 1")
        return TWMState(torch.zeros(batch, self.s, self.d, dtype=dtype, device=device), 0)

    def load(self, x_hist: Tensor) -> TWMState:
        """Substrate holding ``x_hist (B, s, d)``, oldest in column 1 (Theorem 3.1 initialisation)."""
        if x_hist.dim() != 3 or x_hist.shape[1:] != (self.s, self.d):
            raise ValueError(f"x_hist must have shape (B, s={self.s}, d={self.d}); got {tuple(x_hist.shape)}")
        return TWMState(x_hist.clone(), 0)

    # -- dynamics ------------------------------------------------------------------------------
    def _boundary_value(self, H: Tensor, u: Tensor | None, present: Tensor | None) -> Tensor:
        f = self.boundary(H)
        if u is None:
            return f
        if self.input_mode == "additive":
            return f + (u @ self.input_matrix.T if self.input_matrix is not None else u)
        # clamp
        if present is None:
            return u.to(f.dtype)
        return torch.where(present.unsqueeze(-1), u.to(f.dtype), f)

    def _check_input(self, u: Tensor | None, present: Tensor | None, B: int) -> None:
        if u is None:
            return
        if self.input_mode == "init":
            raise ValueError("input_mode='init' takes no inputs during the rollout; load the history with "
                             "cell.load(x_hist) or choose input_mode='clamp' or 'additive'")
        d_in = self.input_matrix.shape[1] if self.input_matrix is not None else self.d
        if u.shape[0] != B or u.shape[-1] != d_in:
            raise ValueError(f"u must have batch {B} and last dimension {d_in}; got {tuple(u.shape)}")
        if not torch.isfinite(u).all():
            raise ValueError("u contains NaN or inf")
        if present is not None and self.input_mode != "clamp":
            raise ValueError("present is only meaningful for input_mode='clamp'")

    def step(self, state: TWMState, u: Tensor | None = None, present: Tensor | None = None
             ) -> tuple[TWMState, Tensor]:
        """Pure single step: returns the new state (a fresh buffer) and the readout ``(B, d)``."""
        B = state.buffer.shape[0]
        self._check_input(u, present, B)
        new = self._boundary_value(state.ordered(), u, present)
        buf = state.buffer.clone()
        buf[:, state.head] = new
        nxt = TWMState(buf, (state.head + 1) % self.s)
        return nxt, self._readout(nxt)

    def _readout(self, state: TWMState) -> Tensor:
        return state.buffer[:, (state.head + self.readout_col) % self.s]

    def rollout(self, state: TWMState, u: Tensor | None = None, steps: int | None = None,
                present: Tensor | None = None, record: bool = False):
        """Run ``L`` steps. ``u`` is ``(B, L, d_in)`` or ``None`` (autonomous for ``steps`` steps).

        Returns ``(state, ys)`` with ``ys (B, L, d)``, plus the ordered substrates ``(B, L, s, d)`` after
        each step when ``record=True``. The caller's state is not modified (one buffer copy, then O(d)
        writes per step).
        """
        B = state.buffer.shape[0]
        if u is not None:
            if u.dim() != 3:
                raise ValueError(f"u must have shape (B, L, d_in); got {tuple(u.shape)}")
            L = u.shape[1]
            if steps is not None and steps != L:
                raise ValueError(f"steps={steps} disagrees with u.shape[1]={L}")
            if present is not None and present.shape != (B, L):
                raise ValueError(f"present must have shape (B, L) = ({B}, {L}); got {tuple(present.shape)}")
            self._check_input(u, present, B)
        else:
            if steps is None or steps < 0:
                raise ValueError("pass u (B, L, d) or a non-negative number of autonomous steps")
            L = steps
        buf, head = state.buffer.clone(), state.head
        ys, subs = [], []
        # unbind, not u[:, t]: each select's backward would write a zero tensor of u's size (O(L²) BPTT)
        u_t = [None] * L if u is None else u.unbind(1)
        present_t = [None] * L if present is None else present.unbind(1)
        for t in range(L):
            idx = (torch.arange(self.s, device=buf.device) + head) % self.s
            new = self._boundary_value(buf.index_select(1, idx), u_t[t], present_t[t])
            buf[:, head] = new
            head = (head + 1) % self.s
            st = TWMState(buf, head)
            ys.append(self._readout(st).clone())
            if record:
                subs.append(st.ordered().clone())
        ys_t = torch.stack(ys, 1) if ys else buf.new_zeros(B, 0, self.d)
        out = (TWMState(buf, head), ys_t)
        if record:
            out = out + (torch.stack(subs, 1) if subs else buf.new_zeros(B, 0, self.s, self.d),)
        return out

    # -- matrix view ---------------------------------------------------------------------------
    def as_matrix(self) -> Tensor:
        """``Φ = S⊗I_d + e_s⊗F`` (``(sd, sd)``) such that ``vec(H(t+1)) = Φ vec(H(t))`` without input.

        Only defined for a :class:`LinearBoundary`.
        """
        if not isinstance(self.boundary, LinearBoundary):
            raise ValueError("as_matrix() needs a LinearBoundary; nonlinear boundaries have no matrix form")
        return phi_from_operator(self.boundary.F.detach())

    def input_embedding(self) -> Tensor:
        """``E_s B`` (``(sd, d_in)``): where an additive input enters ``vec(H)``."""
        dtype = self.boundary.F.dtype if isinstance(self.boundary, LinearBoundary) else torch.float32
        E = torch.zeros(self.s * self.d, self.d, dtype=dtype)
        E[(self.s - 1) * self.d:] = torch.eye(self.d, dtype=dtype)
        return E @ self.input_matrix.detach().to(dtype) if self.input_matrix is not None else E


__all__ = ["TWMCell", "TWMState", "INPUT_MODES"]
