"""Host side of the fused Triton DSEM kernel (:mod:`networks.gsemm.triton_subspace`).

``simulate(..., backend="triton")`` lands here. It applies to DSEM-type models (identity features,
softmax hidden, ``T_h = 0``), shared weights, no input current, methods ``euler``/``split``, recording
``overlaps`` only, and ``steps`` a multiple of ``record_every``; anything else raises a ValueError
naming the reason (an explicit request never falls back silently). On a CUDA device it compiles the
kernel; on a CPU it runs only under ``TRITON_INTERPRET=1`` (how the tests check it without a GPU).
In the vocabulary of :mod:`networks.backends`: :func:`triton_available` (this machine) and
:func:`why_not_triton` (this call).

>>> triton_available().ok in (True, False)
True
"""
from __future__ import annotations

import importlib

import torch
from torch import Tensor

from ..backends import Availability, BackendError, why_not_device
from .rhs import why_not_subspace
from .lagrangians import LogSumExp
from .model import GSEMM, State


def triton_available() -> Availability:
    """Whether the fused kernel module (:mod:`networks.gsemm.triton_subspace`) imports here:
    ``Availability(ok, reason)`` (it still needs a CUDA device, or the interpreter, per call).

    >>> ok, why = triton_available()
    >>> isinstance(ok, bool) and isinstance(why, str)
    True
    """
    try:
        importlib.import_module("networks.gsemm.triton_subspace")
    except Exception as e:  # ImportError, or Triton failing to initialise
        return Availability(False, f"the fused kernel does not import ({type(e).__name__}: {e}); pip install triton")
    import triton
    return Availability(True, f"triton {triton.__version__}")


def why_not_triton(model: GSEMM, state: State, steps: int, method: str, record_every: int,
                   record, inputs) -> str | None:
    """``None`` when the fused kernel applies to this call, else why not (a sentence, used in the error of
    ``backend="triton"``). Whether Triton imports at all is :func:`triton_available`.

    >>> import torch
    >>> from networks.gsemm import cycle, dsem
    >>> net = dsem(torch.eye(4, 2, dtype=torch.float64), cycle(2, dtype=torch.float64))
    >>> why_not_triton(net, net.init_state(torch.ones(4)), 10, "rk4", 1, ("overlaps",), None)
    "method='rk4': the fused kernel implements euler and split"
    """
    why = why_not_subspace(model, inputs)
    if why:
        return why
    if not isinstance(model.hidden, LogSumExp):
        return "the fused kernel implements the softmax hidden layer (DSEM/EDEN) only"
    if not model.instantaneous:
        return "the fused kernel needs T_h = 0"
    if method not in ("euler", "split"):
        return f"method={method!r}: the fused kernel implements euler and split"
    if steps % record_every:
        return f"steps={steps} must be a multiple of record_every={record_every}"
    if set(record) - {"overlaps"}:
        return "the fused kernel records overlaps only"
    v = state.v
    if v.dtype != torch.float32:
        return "the fused kernel runs float32"
    return why_not_device(v.device, "the fused kernel")


def _per_stream(x, B, like: Tensor) -> Tensor:
    if isinstance(x, Tensor):
        return x.reshape(-1).to(like).expand(B).contiguous()
    return torch.full((B,), float(x), dtype=like.dtype, device=like.device)


def simulate_fused(model: GSEMM, state: State, *, steps: int, dt: float, method: str, record_every: int,
                   record=("overlaps",), inputs=None, precision: str = "tf32x3", block: int = 32):
    """Run the whole simulation in one kernel launch; returns ``(final State, Trajectory)``.

    ``precision`` is the matmul input precision: ``"tf32x3"`` (default: three TF32 tensor-core products,
    float32 accuracy), ``"ieee"`` (plain float32 FMAs; slow at P = 64) or ``"tf32"`` (fastest, ~1e-3
    relative error per product, which a sequence's transition timing amplifies: see docs/benchmarks.md).
    """
    from .integrate import Trajectory
    why = why_not_triton(model, state, steps, method, record_every, record, inputs)
    if why is None:
        ok, detail = triton_available()
        why = None if ok else detail
    if why:
        raise BackendError(f"backend='triton' does not apply: {why}")
    if precision not in ("ieee", "tf32", "tf32x3"):
        raise ValueError(f"precision must be 'tf32x3', 'ieee' or 'tf32', got {precision!r}")
    if not state.v.is_cuda:
        precision = "ieee"  # the interpreter computes plain float32 products
    from .triton_subspace import dsem_subspace_kernel
    v0, s0 = state.v.contiguous(), state.s.contiguous()
    B, N = v0.shape
    P = model.P
    PP = max(16, 1 << (P - 1).bit_length())
    xi = model.xi
    dev, f32 = v0.device, torch.float32
    G = torch.zeros(PP, PP, dtype=f32, device=dev)
    G[:P, :P] = xi.T @ xi
    PHI = torch.zeros(PP, PP, dtype=f32, device=dev)
    PHI[:P, :P] = model.phi
    M = torch.zeros(B, 2, PP, dtype=f32, device=dev)
    M[:, 0, :P] = v0 @ xi
    M[:, 1, :P] = s0 @ xi
    c = torch.zeros(B, PP, dtype=f32, device=dev)
    d = torch.zeros(B, PP, dtype=f32, device=dev)
    a = torch.tensor([1.0, 0.0], dtype=f32, device=dev).repeat(B, 1)
    e = torch.tensor([0.0, 1.0], dtype=f32, device=dev).repeat(B, 1)
    n_rec = steps // record_every + 1
    out = torch.empty(n_rec, B, PP, dtype=f32, device=dev)
    out[0] = M[:, 0] / N
    sas = _per_stream(model.sqrt_alpha_s, B, c)
    ac = _per_stream(model.alpha_c, B, c)
    bd = _per_stream(model.beta_d, B, c)
    ad = dt / model.T_d
    grid = ((B + block - 1) // block,)
    dsem_subspace_kernel[grid](
        c, a, d, e, G, PHI, M, sas, ac, bd, out, B, n_rec, float(model.hidden.beta), dt / model.T_f,
        ad, dt, 1 - ad / 2 + ad * ad / 6 - ad ** 3 / 24, 1.0 / N,
        P=P, PP=PP, BT=block, REC=record_every, SPLIT=(method == "split"), PREC=precision)
    U = torch.stack([v0, s0], dim=-1)
    v = c[:, :P] @ xi.T + torch.einsum("bnk,bk->bn", U, a)
    s = d[:, :P] @ xi.T + torch.einsum("bnk,bk->bn", U, e)
    t = torch.arange(n_rec, dtype=torch.float64) * (record_every * float(dt))
    return State(v, s, None), Trajectory(t=t, signals={"overlaps": out[:, :, :P]}, method=method,
                                         backend="triton", dt=float(dt), record_every=record_every)
