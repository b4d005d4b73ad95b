r"""The AUSSM scan as one function with explicit backends, registered as ``torch.library`` custom ops.

:func:`aussm_scan` computes (see :mod:`networks.aussm.reference` for the full equations)

.. math::

    h_t = e^{i(W_A u_t + b_A)} \odot h_{t-1} + \Delta_t\,\tilde B\,\mathrm{silu}(u_t),\qquad
    y_t = \big(\mathrm{Re}\textstyle\sum_j \tilde C_j h_t + D\,\mathrm{silu}(u_t)\big)\,\mathrm{silu}(z_t)

Backends (``backend=``):

* ``"torch"`` -- the vectorised polar oracle (any device, any float dtype, autograd; memory
  O(B·L·D·N));
* ``"triton"`` -- the fused kernel (:mod:`networks.aussm.triton_scan`) on CUDA tensors, or on CPU
  tensors when ``TRITON_INTERPRET=1`` was set before Triton was imported (slow; for tests);
* ``"auto"`` -- ``"triton"`` for CUDA tensors when the kernel imports, ``"torch"`` otherwise (the
  choice and the reason are recorded, see :func:`resolve_backend`; no warning).

An explicitly requested backend that cannot run raises :class:`~networks.backends.BackendError` (a
``RuntimeError``) carrying the original cause; nothing falls back silently. Availability and per-call
eligibility are :func:`triton_available` and :func:`why_not_triton`, in the vocabulary of
:mod:`networks.backends`. The Triton path is registered as ``seqplastic::aussm_scan_fwd``
and ``seqplastic::aussm_scan_bwd`` custom ops with fake (meta) implementations, so it traces under
``torch.compile``. ``precision="fast"`` uses a 3×TF32 phase projection and hardware sin/cos after range
reduction; ``"precise"`` uses an IEEE fp32 projection and libdevice sin/cos; ``"tf32"`` (single TF32
pass) is only for benchmarking -- its phase error grows linearly with L.

Example
-------
>>> import torch
>>> from networks.aussm.ops import aussm_scan
>>> g = torch.Generator().manual_seed(0)
>>> B_, L, D, N = 2, 9, 3, 4
>>> u = torch.randn(B_, L, D, generator=g); dt = torch.rand(B_, L, D, generator=g)
>>> W = torch.randn(D, N, D, generator=g) / D; b = torch.randn(D, N, generator=g)
>>> Bt = torch.randn(N, dtype=torch.complex64, generator=g); Ct = torch.randn(N, dtype=torch.complex64, generator=g)
>>> y, h = aussm_scan(u, dt, W, b, Bt, Ct, torch.ones(D), backend="torch")
>>> y.shape, h.shape, h.dtype
(torch.Size([2, 9, 3]), torch.Size([2, 3, 4]), torch.complex64)
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor

from ..backends import Availability, Choice, Family, why_not_device
from . import reference

BACKENDS = ("auto", "torch", "triton")
_TRITON_IMPORT_ERROR: BaseException | None = None


def _triton_module():
    """Import the fused kernel module, or raise a RuntimeError carrying the original cause."""
    global _TRITON_IMPORT_ERROR
    try:
        from . import triton_scan
        return triton_scan
    except Exception as e:  # ImportError, or a Triton/driver failure at import
        _TRITON_IMPORT_ERROR = e
        raise RuntimeError(f"backend='triton' was requested but the Triton kernel is unavailable "
                           f"({type(e).__name__}: {e}); install triton (`pip install triton`) or pass "
                           f"backend='torch'") from e


def triton_available() -> Availability:
    """Whether the fused Triton kernel module imports here: ``Availability(ok, reason)``, true exactly when
    it does (it may still need a CUDA device: :func:`why_not_triton`).

    >>> ok, why = triton_available()     # ok is False without triton; backend="auto" then uses torch
    >>> isinstance(ok, bool) and isinstance(why, str)
    True
    """
    try:
        ts = _triton_module()
    except RuntimeError:
        e = _TRITON_IMPORT_ERROR
        return Availability(False, f"the Triton kernel is unavailable ({type(e).__name__}: {e}); install triton "
                                   "(`pip install triton`) or pass backend='torch'")
    return Availability(True, f"triton {ts.triton.__version__}")


def why_not_triton(device: torch.device) -> str | None:
    """``None`` when the fused kernel can run on tensors on ``device`` (CUDA, or the CPU under
    ``TRITON_INTERPRET=1`` set before Triton was imported), else the reason.

    >>> why_not_triton(torch.device("cuda")) is None
    True
    """
    why = why_not_device(device, "the fused AUSSM kernel")
    return None if why is None else why + "; or use backend='torch'"


#: the aussm backends for :mod:`networks.backends`: ``"auto"`` tries triton (CUDA only), then torch
FAMILY = Family("aussm", BACKENDS, order=("triton", "torch"), available={"triton": triton_available},
                hints={"cuda": " (there is no CUDA C++ backend; the fused GPU kernel is backend='triton')"})


# ---------------------------------------------------------------------------------------------
# custom ops (fused path)
# ---------------------------------------------------------------------------------------------
@torch.library.custom_op("seqplastic::aussm_scan_fwd", mutates_args=())
def _scan_fwd(u: Tensor, delta: Tensor, z: Optional[Tensor], W: Tensor, bA: Tensor, Bc: Tensor, Cc: Tensor,
              Dk: Tensor, h0: Optional[Tensor], starts: Tensor, max_len: int, precision: str,
              chunk: int) -> tuple[Tensor, Tensor, Tensor]:
    ts = _triton_module()
    return ts.forward(u, delta, z, W, bA, Bc, Cc, Dk, h0, starts, max_len, precision, chunk)


@_scan_fwd.register_fake
def _scan_fwd_fake(u, delta, z, W, bA, Bc, Cc, Dk, h0, starts, max_len, precision, chunk):
    D, N = W.shape[0], W.shape[1]
    nseq = starts.shape[0] - 1
    _triton_module().config(D, N, chunk or None)          # same validation of `chunk` as the real op
    return (torch.empty_like(u), u.new_empty(nseq, D, N, 2, dtype=torch.float32),
            u.new_empty(nseq, D, 4, N, dtype=torch.float32))


@torch.library.custom_op("seqplastic::aussm_scan_bwd", mutates_args=())
def _scan_bwd(dy: Tensor, dht: Tensor, u: Tensor, delta: Tensor, z: Optional[Tensor], W: Tensor, bA: Tensor,
              Bc: Tensor, Cc: Tensor, Dk: Tensor, starts: Tensor, carry: Tensor, max_len: int, precision: str,
              chunk: int) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    ts = _triton_module()
    return ts.backward(dy.contiguous(), dht.contiguous(), u, delta, z, W, bA, Bc, Cc, Dk, starts, carry,
                       max_len, precision, chunk)


@_scan_bwd.register_fake
def _scan_bwd_fake(dy, dht, u, delta, z, W, bA, Bc, Cc, Dk, starts, carry, max_len, precision, chunk):
    f = dict(dtype=torch.float32)
    nseq = starts.shape[0] - 1
    D, N = W.shape[0], W.shape[1]
    dz = u.new_empty(u.shape, **f) if z is not None else u.new_empty(0, **f)
    return (u.new_empty(u.shape, **f), u.new_empty(u.shape, **f), dz, W.new_empty(W.shape, **f),
            bA.new_empty(bA.shape, **f), Bc.new_empty(Bc.shape, **f), Cc.new_empty(Cc.shape, **f),
            Dk.new_empty(Dk.shape, **f), u.new_empty(nseq, D, N, 2, **f))


def _setup_context(ctx, inputs, output):
    u, delta, z, W, bA, Bc, Cc, Dk, h0, starts, max_len, precision, chunk = inputs
    ctx.save_for_backward(u, delta, z, W, bA, Bc, Cc, Dk, starts, output[2])
    ctx.meta = (max_len, precision, chunk, h0 is not None, u.dtype, delta.dtype,
                None if z is None else z.dtype)


def _backward_with(bwd, ctx, dy, dht):
    u, delta, z, W, bA, Bc, Cc, Dk, starts, carry = ctx.saved_tensors
    max_len, precision, chunk, has_h0, u_dt, d_dt, z_dt = ctx.meta
    if dy is None:
        dy = torch.zeros_like(u)
    if dht is None:
        dht = u.new_zeros(starts.shape[0] - 1, W.shape[0], W.shape[1], 2, dtype=torch.float32)
    du, ddt, dz, dW, dbA, dBc, dCc, dDk, dh0 = bwd(dy, dht, u, delta, z, W, bA, Bc, Cc, Dk, starts,
                                                  carry, max_len, precision, chunk)
    return (du.to(u_dt), ddt.to(d_dt), None if z is None else dz.to(z_dt), dW, dbA, dBc, dCc, dDk,
            dh0 if has_h0 else None, None, None, None, None)


def _backward(ctx, dy, dht, _dcarry):
    return _backward_with(_scan_bwd, ctx, dy, dht)


_scan_fwd.register_autograd(_backward, setup_context=_setup_context)


def _direct_bwd(dy, dht, u, delta, z, W, bA, Bc, Cc, Dk, starts, carry, max_len, precision, chunk):
    return _triton_module().backward(dy.contiguous(), dht.contiguous(), u, delta, z, W, bA, Bc, Cc, Dk, starts,
                                     carry, max_len, precision, chunk)


class _EagerScan(torch.autograd.Function):
    """Eager twin of the custom op: same kernels and backward, without the custom-op dispatch (~0.1 ms of
    Python per call, which dominates at small L). :func:`aussm_scan` uses it unless ``torch.compile`` is
    tracing, where the registered custom op (with its fake implementation) is needed."""

    @staticmethod
    def forward(ctx, u, delta, z, W, bA, Bc, Cc, Dk, h0, starts, max_len, precision, chunk):
        out = _triton_module().forward(u, delta, z, W, bA, Bc, Cc, Dk, h0, starts, max_len, precision, chunk)
        _setup_context(ctx, (u, delta, z, W, bA, Bc, Cc, Dk, h0, starts, max_len, precision, chunk), out)
        ctx.mark_non_differentiable(out[2])
        return out

    @staticmethod
    def backward(ctx, dy, dht, _dcarry):
        return _backward_with(_direct_bwd, ctx, dy, dht)


_STARTS: dict = {}


def _dense_starts(bt: int, L: int, device: torch.device) -> Tensor:
    """``arange(bt + 1) * L`` as int32 on ``device``, cached (read-only for the kernels; saves 2 launches)."""
    key = (bt, L, device)
    t = _STARTS.get(key)
    if t is None:
        if len(_STARTS) > 64:
            _STARTS.clear()
        t = _STARTS[key] = torch.arange(bt + 1, device=device, dtype=torch.int32) * L
    return t


# ---------------------------------------------------------------------------------------------
# public function
# ---------------------------------------------------------------------------------------------
def _check(name: str, t: Tensor, shape: tuple, *, complex_: bool = False, finite: bool = True) -> None:
    if not isinstance(t, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if tuple(t.shape) != tuple(shape):
        raise ValueError(f"{name} has shape {tuple(t.shape)}, expected {tuple(shape)}")
    if complex_ != torch.is_complex(t):
        raise ValueError(f"{name} must be {'complex' if complex_ else 'real floating'}, got {t.dtype}")
    if not complex_ and not t.is_floating_point():
        raise ValueError(f"{name} must be a floating tensor, got {t.dtype}")
    if finite and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or inf")


def resolve_backend(backend: str, device: torch.device) -> Choice:
    """Map ``backend`` to ``"torch"`` or ``"triton"`` for tensors on ``device``
    (:meth:`networks.backends.Family.resolve`: an unknown name raises ValueError, an explicit backend that
    cannot run raises :class:`~networks.backends.BackendError` with the cause, ``"auto"`` picks triton on
    CUDA when it imports, else torch, and records why in the returned :class:`~networks.backends.Choice`).

    Example
    -------
    >>> resolve_backend("auto", torch.device("cpu"))
    'torch'
    >>> resolve_backend("auto", torch.device("cpu")).skipped[0][0]
    'triton'
    """
    return FAMILY.resolve(backend, {"triton": lambda: why_not_triton(device)},
                          auto_only={"triton": None if device.type == "cuda" else "'auto' runs the fused kernel on "
                                     "CUDA tensors only (the interpreter is for tests)"})


def aussm_scan(u: Tensor, delta: Tensor, W_A: Tensor, b_A: Tensor, B: Tensor, C: Tensor, D: Tensor,
               z: Tensor | None = None, h0: Tensor | None = None, cu_seqlens: Tensor | None = None, *,
               backend: str = "auto", precision: str = "fast", chunk: int = 0,
               check_finite: bool | None = None, eager_fast_path: bool = True) -> tuple[Tensor, Tensor]:
    r"""AUSSM scan; returns ``(y, h_last)`` (``y`` like ``u``; ``h_last`` complex64/128 ``(S, D, N)``).

    Shapes: ``u, delta, z``: ``(Bt, L, D)``; ``W_A``: ``(D, N, D)``; ``b_A``: ``(D, N)``; ``B, C``: complex
    ``(N,)`` (the *effective* B̃, C̃, e.g. from :func:`networks.aussm.reference.polar`); ``D``: ``(D,)``;
    ``h0``: complex ``(S, D, N)``. Batch axis first, one set of weights shared by all streams. With
    ``cu_seqlens`` (int, ``(S+1,)``, starting at 0) ``u`` is a packed ``(1, total, D)`` batch of ``S``
    sequences; the phase and the state restart at each boundary (equal to ``S`` separate calls).
    ``check_finite`` (default: on for CPU tensors, off for CUDA to avoid a device sync) rejects NaN/inf.
    The fused path runs through the registered custom op under ``torch.compile``; in eager mode it calls
    the same kernels through a plain ``autograd.Function`` (identical results, less Python per call);
    ``eager_fast_path=False`` forces the custom op (for tests and ``opcheck``).

    Example
    -------
    >>> import math
    >>> import torch
    >>> u = torch.zeros(1, 4, 1); dt = torch.ones(1, 4, 1)
    >>> W = torch.zeros(1, 1, 1); b = torch.full((1, 1), math.pi)        # rotate by pi every step
    >>> one = torch.ones(1, dtype=torch.complex64)
    >>> y, h = aussm_scan(u, dt, W, b, one, one, torch.zeros(1), backend="torch")
    >>> y.flatten().tolist()                       # silu(0) = 0: no drive, no state, y = 0
    [0.0, 0.0, 0.0, 0.0]
    """
    if not isinstance(backend, str):
        raise ValueError(f"backend must be a string, got {type(backend).__name__}")
    if precision not in ("fast", "precise", "tf32"):
        raise ValueError(f"precision={precision!r} is not one of ['fast', 'precise', 'tf32']")
    if not isinstance(u, Tensor) or u.dim() != 3:
        raise ValueError(f"u must be a (batch, length, channels) tensor, got {getattr(u, 'shape', type(u))}")
    bt, L, d = u.shape
    if W_A.dim() != 3:
        raise ValueError(f"W_A must be (D, N, D), got shape {tuple(W_A.shape)}")
    n = W_A.shape[1]
    fin = (u.device.type != "cuda") if check_finite is None else bool(check_finite)
    _check("u", u, (bt, L, d), finite=fin)
    _check("delta", delta, (bt, L, d), finite=fin)
    if z is not None:
        _check("z", z, (bt, L, d), finite=fin)
    _check("W_A", W_A, (d, n, d), finite=fin)
    _check("b_A", b_A, (d, n), finite=fin)
    _check("B", B, (n,), complex_=True, finite=fin)
    _check("C", C, (n,), complex_=True, finite=fin)
    _check("D", D, (d,), finite=fin)
    if cu_seqlens is not None:
        if bt != 1:
            raise ValueError(f"with cu_seqlens, u must be packed as (1, total, D); got batch {bt}")
        if cu_seqlens.dim() != 1 or cu_seqlens.numel() < 2 or cu_seqlens.is_floating_point():
            raise ValueError("cu_seqlens must be a 1-D integer tensor [0, l1, l1+l2, ..., total]")
        cl = cu_seqlens.tolist()
        if cl[0] != 0 or cl[-1] != L or any(b < a for a, b in zip(cl, cl[1:])):
            raise ValueError(f"cu_seqlens must start at 0, be non-decreasing and end at {L}; got {cl}")
        nseq = len(cl) - 1
        max_len = max(b - a for a, b in zip(cl, cl[1:]))
    else:
        nseq, max_len = bt, L
    if h0 is not None:
        _check("h0", h0, (nseq, d, n), complex_=True, finite=fin)
    which = resolve_backend(backend, u.device)
    if which == "torch":
        return _torch_path(u, delta, W_A, b_A, B, C, D, z, h0, cu_seqlens)
    f32 = torch.float32
    eager = eager_fast_path and not torch.compiler.is_compiling()
    if cu_seqlens is not None:
        starts = cu_seqlens.to(device=u.device, dtype=torch.int32)
    elif eager:
        starts = _dense_starts(bt, L, u.device)
    else:
        starts = torch.arange(bt + 1, device=u.device, dtype=torch.int32) * L
    op = _EagerScan.apply if eager else _scan_fwd
    y, ht, _ = op(
        u.reshape(bt * L, d).contiguous(), delta.reshape(bt * L, d).contiguous(),
        None if z is None else z.reshape(bt * L, d).contiguous(), W_A.to(f32).contiguous(),
        b_A.to(f32).contiguous(), torch.view_as_real(B.to(torch.complex64)).contiguous(),
        torch.view_as_real(C.to(torch.complex64)).contiguous(), D.to(f32).contiguous(),
        None if h0 is None else torch.view_as_real(h0.to(torch.complex64)).contiguous(),
        starts, int(max_len), precision, int(chunk))
    return y.view(bt, L, d), torch.view_as_complex(ht)


def _torch_path(u, delta, W_A, b_A, B, C, D, z, h0, cu_seqlens):
    if cu_seqlens is None:
        return reference.scan_polar(u, delta, W_A, b_A, B, C, D, z=z, h0=h0)
    cl = cu_seqlens.tolist()
    ys, hs = [], []
    for s, (a, b) in enumerate(zip(cl, cl[1:])):
        y, h = reference.scan_polar(u[:, a:b], delta[:, a:b], W_A, b_A, B, C, D,
                                    z=None if z is None else z[:, a:b], h0=None if h0 is None else h0[s:s + 1])
        ys.append(y)
        hs.append(h)
    return torch.cat(ys, 1), torch.cat(hs, 0)


__all__ = ["aussm_scan", "resolve_backend", "triton_available", "why_not_triton", "BACKENDS"]
