"""``recurrent_scan``: the wRNN / iRNN / Elman recurrence with an explicit backend choice.

    h_t = σ(R h_{t−1} + z_t),  t = 1 … L      (see :mod:`.scan_reference` for R and the BPTT formulas)

Backends:

* ``"torch"``  — the eager step loop of :func:`.scan_reference.scan_reference` (autograd BPTT); any
  dtype and device.
* ``"triton"`` — the fused kernels of :mod:`.scan_triton` through the custom ops
  ``seqplastic_waves::scan_fwd`` / ``scan_bwd`` (registered with ``torch.library.custom_op`` and
  ``register_fake``; autograd via ``register_autograd``). Needs float32 tensors on a CUDA device, or
  CPU tensors with ``TRITON_INTERPRET=1`` set before triton is first imported. If anything is missing it
  raises :class:`~networks.backends.BackendError` (a ``RuntimeError``) carrying the cause — it never falls
  back.
* ``"auto"``   — ``"triton"`` exactly when the tensors are float32 on CUDA, triton imports and the state
  fits the kernel tile; otherwise ``"torch"``. The choice is deterministic and recorded by
  :func:`resolve_backend` (it is a policy, not an error fallback).

Availability and per-call eligibility are :func:`triton_available` and :func:`why_not_triton`, in the
vocabulary of :mod:`networks.backends`.

Example
-------
>>> import torch
>>> z = torch.randn(2, 5, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
>>> W = 0.1 * torch.eye(8, dtype=torch.float64)
>>> hs = recurrent_scan(z, torch.zeros(2, 8, dtype=torch.float64), W, "dense", "tanh", backend="torch")
>>> hs.shape
torch.Size([2, 5, 8])
"""
from __future__ import annotations

import torch
from torch import Tensor

from ..backends import Availability, Choice, Family, why_not_device
from .scan_reference import check_scan_args, scan_reference

BACKENDS = ("auto", "torch", "triton")
_TRITON = None
_TRITON_ERR: BaseException | None = None


def _triton_module():
    """Import :mod:`.scan_triton` once; return it or None (the import error is kept for messages)."""
    global _TRITON, _TRITON_ERR
    if _TRITON is None and _TRITON_ERR is None:
        try:
            from . import scan_triton
            _TRITON = scan_triton
        except Exception as e:  # ImportError, or triton failing to initialise its backend
            _TRITON_ERR = e
    return _TRITON


def triton_available() -> Availability:
    """Whether the fused kernels (:mod:`.scan_triton`) import here: ``Availability(ok, reason)`` (they may
    still refuse a call: :func:`why_not_triton`).

    >>> ok, why = triton_available()
    >>> isinstance(ok, bool) and isinstance(why, str)
    True
    """
    mod = _triton_module()
    if mod is None:
        return Availability(False, f"triton could not be imported ({type(_TRITON_ERR).__name__}: {_TRITON_ERR}); "
                                   "pip install triton, or use backend='torch'")
    return Availability(True, f"triton {mod.triton.__version__}")


def why_not_triton(z: Tensor, weight: Tensor, structure: str) -> str | None:
    """None if the Triton kernels can run these tensors (device, dtype, tile size), else the reason.
    Whether triton imports at all is :func:`triton_available`.

    >>> "CUDA tensors only" in why_not_triton(torch.zeros(1, 2, 4, device="meta"), torch.zeros(4, 4), "dense")
    True
    """
    why = why_not_device(z.device, "the recurrence kernels")
    if why is not None:
        return why + "; use backend='torch'"
    if z.dtype != torch.float32:
        return f"the Triton kernels support float32 only (got {z.dtype}); use backend='torch'"
    mod = _triton_module()
    if mod is None:
        return None  # triton_available() says why
    ok, why = mod.tile_limits_ok(z.shape[-1], weight, structure)
    return None if ok else why + "; use backend='torch'"


#: the waves backends for :mod:`networks.backends`: ``"auto"`` tries triton (CUDA only), then torch
FAMILY = Family("waves", BACKENDS, order=("triton", "torch"), available={"triton": triton_available})


def resolve_backend(backend: str, z: Tensor, weight: Tensor, structure: str) -> Choice:
    """Map ``backend`` to ``"torch"`` or ``"triton"`` (:meth:`networks.backends.Family.resolve`): an explicit
    ``"triton"`` that cannot run raises :class:`~networks.backends.BackendError` with the cause; ``"auto"``
    records why it passed triton over in the returned :class:`~networks.backends.Choice`.

    >>> resolve_backend("auto", torch.zeros(1, 2, 4), torch.zeros(4, 4), "dense")   # CPU tensors
    'torch'
    """
    return FAMILY.resolve(backend, {"triton": lambda: why_not_triton(z, weight, structure)},
                          auto_only={"triton": None if z.is_cuda else "'auto' runs the Triton kernels on CUDA "
                                     "tensors only (the interpreter is for tests)"})


@torch.library.custom_op("seqplastic_waves::scan_fwd", mutates_args=())
def scan_fwd(z: Tensor, h0: Tensor, weight: Tensor, structure: str, activation: str) -> Tensor:
    """Fused forward (custom op): ``hs (B, L, H)``."""
    mod = _triton_module()
    if mod is None:
        raise RuntimeError(f"seqplastic_waves::scan_fwd needs triton: {_TRITON_ERR}") from _TRITON_ERR
    return mod.forward(z.contiguous(), h0.contiguous(), weight.contiguous(), structure, activation)


@scan_fwd.register_fake
def _(z, h0, weight, structure, activation):
    return torch.empty_like(z)


@torch.library.custom_op("seqplastic_waves::scan_bwd", mutates_args=())
def scan_bwd(grad_hs: Tensor, hs: Tensor, h0: Tensor, weight: Tensor, structure: str,
             activation: str) -> tuple[Tensor, Tensor, Tensor]:
    """Fused BPTT (custom op): ``(grad_z (B, L, H), grad_h0 (B, H), grad_weight)``."""
    mod = _triton_module()
    if mod is None:
        raise RuntimeError(f"seqplastic_waves::scan_bwd needs triton: {_TRITON_ERR}") from _TRITON_ERR
    return mod.backward(grad_hs.contiguous(), hs.contiguous(), h0.contiguous(), weight.contiguous(), structure,
                        activation)


@scan_bwd.register_fake
def _(grad_hs, hs, h0, weight, structure, activation):
    return torch.empty_like(hs), torch.empty_like(h0), torch.empty_like(weight)


def _setup_context(ctx, inputs, output):
    z, h0, weight, structure, activation = inputs
    ctx.save_for_backward(h0, weight, output)
    ctx.structure, ctx.activation = structure, activation


def _backward(ctx, grad_hs):
    h0, weight, hs = ctx.saved_tensors
    grad_z, grad_h0, grad_w = scan_bwd(grad_hs, hs, h0, weight, ctx.structure, ctx.activation)
    return grad_z, grad_h0, grad_w if ctx.needs_input_grad[2] else None, None, None


scan_fwd.register_autograd(_backward, setup_context=_setup_context)


def recurrent_scan(z: Tensor, h0: Tensor, weight: Tensor, structure: str = "dense", activation: str = "tanh",
                   backend: str = "auto") -> Tensor:
    """``hs`` with ``h_t = σ(R h_{t−1} + z_t)``; ``z (B, L, H)``, ``h0 (B, H)``; weight ``(H, H)`` (dense) or
    ``(c, c, 3)`` (ring). Differentiable in ``z``, ``h0`` and ``weight`` on every backend.

    >>> W = torch.tensor([[0.0, 0.0], [1.0, 0.0]])            # unit 0 feeds unit 1
    >>> z = torch.zeros(1, 3, 2); z[0, 0, 0] = 1.0
    >>> recurrent_scan(z, torch.zeros(1, 2), W, "dense", "relu", backend="torch")[0].tolist()
    [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    """
    check_scan_args(z, h0, weight, structure, activation)
    if resolve_backend(backend, z, weight, structure) == "torch":
        return scan_reference(z, h0, weight, structure, activation)
    return scan_fwd(z, h0, weight, structure, activation)
