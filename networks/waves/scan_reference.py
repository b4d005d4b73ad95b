"""Plain-torch reference (oracle) for the nonlinear recurrences of the wRNN, iRNN and Elman RNN.

All three share one sequential core: given precomputed input drives ``z_t`` (``V x_t + b``),

    h_t = σ(R h_{t−1} + z_t),   t = 1 … L,     σ ∈ {relu, tanh}

where ``R`` is either a **dense** ``(H, H)`` matrix (Elman, iRNN) or a **ring** convolution: ``c``
channels of ``n``-neuron rings, ``H = c·n`` laid out channel-major, and a ``(c, c, 3)`` kernel ``u``
applied as a circular cross-correlation

    (R h)[o, i] = Σ_{c'} Σ_{k=0}^{2} u[o, c', k] · h[c', (i + k − 1) mod n].

The backward pass (BPTT) needs only the post-activations (σ′ from h: relu ``[h>0]``, tanh ``1−h²``):

    δ_L = g_L ⊙ σ′(h_L),   δ_t = (g_t + Rᵀ δ_{t+1}) ⊙ σ′(h_t),
    ∂/∂z_t = δ_t,   ∂/∂h_0 = Rᵀ δ_1,   ∂/∂R = Σ_t δ_t ⊗ h_{t−1}

(for the ring, ``∂/∂u[o,c',k] = Σ_{b,t,i} δ_t[o,i] h_{t−1}[c',(i+k−1) mod n]``).
Shapes: ``z (B, L, H)``, ``h0 (B, H)`` → ``hs (B, L, H)``; batch axis first, one weight for all streams.

Example
-------
>>> import torch
>>> z = torch.zeros(1, 3, 4, dtype=torch.float64)
>>> u = torch.zeros(1, 1, 3, dtype=torch.float64); u[0, 0, 2] = 1.0     # exact shift: h[i] ← h[i+1]
>>> h0 = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
>>> scan_reference(z, h0, u, "ring", "relu")[0, 0].tolist()
[0.0, 0.0, 0.0, 1.0]
"""
from __future__ import annotations

import torch
from torch import Tensor

STRUCTURES = ("dense", "ring")
ACTIVATIONS = ("relu", "tanh")


def check_scan_args(z: Tensor, h0: Tensor, weight: Tensor, structure: str, activation: str) -> None:
    """Validate shapes, dtypes and the structure/activation names (raises ValueError naming the argument)."""
    if structure not in STRUCTURES:
        raise ValueError(f"structure={structure!r} must be one of {STRUCTURES}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r} must be one of {ACTIVATIONS}")
    if z.dim() != 3:
        raise ValueError(f"z must have shape (B, L, H); got {tuple(z.shape)}")
    B, L, H = z.shape
    if h0.shape != (B, H):
        raise ValueError(f"h0 must have shape (B, H) = ({B}, {H}); got {tuple(h0.shape)}")
    if structure == "dense" and weight.shape != (H, H):
        raise ValueError(f"weight must be (H, H) = ({H}, {H}) for structure='dense'; got {tuple(weight.shape)}")
    if structure == "ring":
        if weight.dim() != 3 or weight.shape[0] != weight.shape[1] or weight.shape[2] != 3:
            raise ValueError(f"weight must be (c, c, 3) for structure='ring'; got {tuple(weight.shape)}")
        if H % weight.shape[0]:
            raise ValueError(f"H={H} must be a multiple of the channel count c={weight.shape[0]}")
    if not (z.dtype == h0.dtype == weight.dtype):
        raise ValueError(f"z, h0 and weight must share a dtype; got {z.dtype}, {h0.dtype}, {weight.dtype}")
    if not (z.device == h0.device == weight.device):
        raise ValueError("z, h0 and weight must be on the same device")


def recurrent_mix(weight: Tensor, h: Tensor, structure: str) -> Tensor:
    """``R h`` for ``h (B, H)``: dense ``h Wᵀ`` or the circular 3-tap channel convolution.

    >>> u = torch.zeros(1, 1, 3); u[0, 0, 0] = 1.0           # tap 0 reads h[i-1]: content moves up
    >>> recurrent_mix(u, torch.tensor([[1.0, 2.0, 3.0]]), "ring").tolist()
    [[3.0, 1.0, 2.0]]

    The ring uses three rolled copies and one contraction (equal to ``conv1d`` with circular padding, and
    several times faster than it on small CPU tensors).
    """
    if structure == "dense":
        return h @ weight.T
    B, c = h.shape[0], weight.shape[0]
    hr = h.reshape(B, c, -1)
    taps = torch.stack([torch.roll(hr, 1, -1), hr, torch.roll(hr, -1, -1)], dim=2)   # h[i-1], h[i], h[i+1]
    return torch.einsum("ock,bckn->bon", weight, taps).reshape(B, -1)


def recurrent_mix_transpose(weight: Tensor, d: Tensor, structure: str) -> Tensor:
    """``Rᵀ d`` for ``d (B, H)``: ``(Rᵀd)[c', j] = Σ_o Σ_k u[o,c',k] d[o, (j−k+1) mod n]`` for the ring.

    >>> u = torch.zeros(1, 1, 3); u[0, 0, 0] = 1.0
    >>> recurrent_mix_transpose(u, torch.tensor([[3.0, 1.0, 2.0]]), "ring").tolist()   # undoes the shift
    [[1.0, 2.0, 3.0]]
    """
    if structure == "dense":
        return d @ weight
    B, c = d.shape[0], weight.shape[0]
    dr = d.reshape(B, c, -1)
    out = 0
    for k in range(3):
        out = out + torch.einsum("oc,bon->bcn", weight[:, :, k], torch.roll(dr, shifts=k - 1, dims=-1))
    return out.reshape(B, -1)


def activation_fn(activation: str):
    return torch.relu if activation == "relu" else torch.tanh


def activation_grad(h: Tensor, activation: str) -> Tensor:
    """σ′ expressed through the post-activation ``h``."""
    return (h > 0).to(h.dtype) if activation == "relu" else 1 - h * h


def scan_reference(z: Tensor, h0: Tensor, weight: Tensor, structure: str, activation: str) -> Tensor:
    """Eager step loop ``h_t = σ(R h_{t−1} + z_t)``; differentiable by autograd (the oracle).

    >>> u = torch.zeros(1, 1, 3); u[0, 0, 2] = 1.0              # ring shift: h[i] ← h[i+1]
    >>> z = torch.zeros(1, 3, 4); z[0, 0, 3] = 1.0
    >>> scan_reference(z, torch.zeros(1, 4), u, "ring", "relu")[0].argmax(-1).tolist()
    [3, 2, 1]
    """
    check_scan_args(z, h0, weight, structure, activation)
    act = activation_fn(activation)
    h, hs = h0, []
    for z_t in z.unbind(1):   # not z[:, t]: each select's backward would write a zero tensor of z's size (O(L²))
        h = act(recurrent_mix(weight, h, structure) + z_t)
        hs.append(h)
    if not hs:
        return z.new_zeros(z.shape)
    return torch.stack(hs, 1)


def scan_backward_reference(grad_hs: Tensor, hs: Tensor, h0: Tensor, weight: Tensor, structure: str,
                            activation: str) -> tuple[Tensor, Tensor]:
    """Closed-form BPTT of the module docstring: returns ``(grad_z, grad_h0)``.

    >>> hs = torch.tensor([[[0.5]]]); W = torch.tensor([[2.0]])
    >>> gz, gh0 = scan_backward_reference(torch.ones(1, 1, 1), hs, torch.zeros(1, 1), W, "dense", "tanh")
    >>> gz.item(), gh0.item()        # δ = 1 · (1 − 0.5²) = 0.75, ∂/∂h0 = Wᵀ δ = 1.5
    (0.75, 1.5)
    """
    B, L, H = hs.shape
    grad_z = torch.empty_like(hs)
    carry = torch.zeros_like(h0)
    for t in range(L - 1, -1, -1):
        d = (grad_hs[:, t] + carry) * activation_grad(hs[:, t], activation)
        grad_z[:, t] = d
        carry = recurrent_mix_transpose(weight, d, structure)
    return grad_z, carry


def weight_grad(grad_z: Tensor, hs: Tensor, h0: Tensor, weight: Tensor, structure: str) -> Tensor:
    """``∂/∂R = Σ_{b,t} δ_t ⊗ h_{t−1}`` (dense) or the 3-tap ring kernel gradient — one parallel reduction.

    >>> gz = torch.ones(1, 1, 2); hs = torch.zeros(1, 1, 2); h0 = torch.tensor([[1.0, 2.0]])
    >>> weight_grad(gz, hs, h0, torch.zeros(2, 2), "dense").tolist()
    [[1.0, 2.0], [1.0, 2.0]]
    """
    prev = torch.cat([h0.unsqueeze(1), hs[:, :-1]], dim=1)
    if structure == "dense":
        return torch.einsum("bti,btj->ij", grad_z, prev)
    B, L, H = hs.shape
    c = weight.shape[0]
    dr = grad_z.reshape(B * L, c, -1)
    pr = prev.reshape(B * L, c, -1)
    taps = [torch.einsum("xon,xcn->oc", dr, torch.roll(pr, shifts=-(k - 1), dims=-1)) for k in range(3)]
    return torch.stack(taps, dim=-1)


def example_weight(structure: str, H: int, c: int, generator: torch.Generator) -> Tensor:
    """A float64 test/benchmark weight: for ``"ring"`` a ``(c, c, 3)`` shift kernel (``u[i, i, 2] = 1``, so
    h[i] ← h[i + 1] within each channel) plus N(0, 0.02²) noise; else a dense ``(H, H)`` matrix with entries
    N(0, 0.81/H), spectral radius about 0.9.

    >>> example_weight("ring", 32, 4, torch.Generator().manual_seed(0)).shape
    torch.Size([4, 4, 3])
    """
    if structure == "ring":
        w = torch.zeros(c, c, 3, dtype=torch.float64)
        w[torch.arange(c), torch.arange(c), 2] = 1.0
        return w + torch.randn(c, c, 3, generator=generator, dtype=torch.float64) * 0.02
    return torch.randn(H, H, generator=generator, dtype=torch.float64) * 0.9 / H ** 0.5
