"""Wave-RNN (wRNN, Keller, Muller, Sejnowski & Welling, ICLR 2024).

``c`` channels of ``n``-neuron rings (``H = c·n``, channel-major), a circular 3-tap convolution ``u``:

    h_{t+1} = ReLU(u ⋆ h_t + V x_t + b),    (u ⋆ h)[o, i] = Σ_{c'} Σ_k u[o,c',k] h[c', (i+k−1) mod n]

* ``u_init="shift"``: each channel an exact shift ``out[i] = h[i+1]`` (Dirac at tap 2, i.e. the identity
  Dirac rolled by +1 along the kernel axis under cross-correlation); ``"random"``: ``U(−1/√(3c), 1/√(3c))``.
* ``v_init="solo"``: ``V`` zero except weight 1 from every input dimension to neuron 0 of each channel;
  ``"random"``: ``U(−1/√n_in, 1/√n_in)``.
* ``b``: one bias per channel, ``U(−1/√(3c), 1/√(3c))`` (PyTorch's conv default); ``bias=False`` drops it.
* readout: ``"linear"`` (``W_hy h``) or ``"mlp"`` (``W_2 relu(W_1 h + b_1) + b_2``), applied to every
  step (``readout_mode="all"``) or to the last state (``"last"``).

Batch axis first: ``x (B, L, n_in)``; one set of weights for all streams.

Example
-------
>>> import torch
>>> net = WaveRNN(n_in=1, n=8, c=1, n_out=1, bias=False, generator=torch.Generator().manual_seed(0))
>>> x = torch.zeros(1, 4, 1); x[0, 0, 0] = 1.0
>>> y, hs = net(x)
>>> hs[0, :, :].argmax(-1).tolist()          # the pulse travels one neuron per step (0 → 7 → 6 → 5)
[0, 7, 6, 5]
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .scan_op import recurrent_scan


class WaveRNN(nn.Module):
    """wRNN: ``h_{t+1} = ReLU(u ⋆ h_t + V x_t + b)`` on ``c`` rings of ``n`` neurons, readout ``y_t = W h_t``
    (the convolution and the inits are in the module docstring).

    >>> net = WaveRNN(n_in=2, n=16, c=3, n_out=1, readout_mode="last", generator=torch.Generator().manual_seed(0))
    >>> y, hs = net(torch.rand(4, 50, 2, generator=torch.Generator().manual_seed(1)))
    >>> y.shape, hs.shape                      # last-state readout, hidden states (B, L, c·n)
    (torch.Size([4, 1]), torch.Size([4, 50, 48]))
    """

    def __init__(self, n_in: int, n: int, c: int, n_out: int, u_init: str = "shift", v_init: str = "solo",
                 bias: bool = True, readout: str = "linear", readout_mode: str = "all", mlp_hidden: int = 100,
                 generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32,
                 backend: str = "auto"):
        super().__init__()
        for name, v in (("n_in", n_in), ("n", n), ("c", c), ("n_out", n_out)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}={v!r} must be a positive integer")
        if n < 3:
            raise ValueError(f"n={n} must be >= 3 for a 3-tap ring convolution")
        if u_init not in ("shift", "random"):
            raise ValueError(f"u_init={u_init!r} must be 'shift' or 'random'")
        if v_init not in ("solo", "random"):
            raise ValueError(f"v_init={v_init!r} must be 'solo' or 'random'")
        if readout not in ("linear", "mlp"):
            raise ValueError(f"readout={readout!r} must be 'linear' or 'mlp'")
        if readout_mode not in ("all", "last"):
            raise ValueError(f"readout_mode={readout_mode!r} must be 'all' or 'last'")
        self.n, self.c, self.readout_mode, self.backend = n, c, readout_mode, backend
        H = n * c

        def unif(k, *shape):
            return (torch.rand(*shape, generator=generator, dtype=dtype) * 2 - 1) * k

        if u_init == "shift":
            u = torch.zeros(c, c, 3, dtype=dtype)
            u[torch.arange(c), torch.arange(c), 2] = 1.0
        else:
            u = unif(1 / math.sqrt(3 * c), c, c, 3)
        self.u = nn.Parameter(u)
        if v_init == "solo":
            V = torch.zeros(c, n, n_in, dtype=dtype)
            V[:, 0, :] = 1.0
            V = V.reshape(H, n_in)
        else:
            V = unif(1 / math.sqrt(n_in), H, n_in)
        self.V = nn.Parameter(V)
        self.b = nn.Parameter(unif(1 / math.sqrt(3 * c), c)) if bias else None
        if readout == "linear":
            self.head = nn.Linear(H, n_out, dtype=dtype)
        else:
            self.head = nn.Sequential(nn.Linear(H, mlp_hidden, dtype=dtype), nn.ReLU(),
                                      nn.Linear(mlp_hidden, n_out, dtype=dtype))
        with torch.no_grad():  # seeded re-initialisation of the readout
            for m in self.head.modules():
                if isinstance(m, nn.Linear):
                    k = 1 / math.sqrt(m.in_features)
                    m.weight.copy_(unif(k, *m.weight.shape))
                    m.bias.copy_(unif(k, *m.bias.shape))

    def drive(self, x: Tensor) -> Tensor:
        """Input drive ``z_t = V x_t + b`` of shape ``(B, L, c·n)``."""
        z = x @ self.V.T
        if self.b is not None:
            z = z + self.b.repeat_interleave(self.n)
        return z

    def forward(self, x: Tensor, h0: Tensor | None = None, backend: str | None = None) -> tuple[Tensor, Tensor]:
        """Return ``(y, hs)``: ``y (B, L, n_out)`` (``readout_mode='all'``) or ``(B, n_out)`` (``'last'``);
        ``hs (B, L, c·n)``."""
        if x.dim() != 3 or x.shape[-1] != self.V.shape[1]:
            raise ValueError(f"x must have shape (B, L, {self.V.shape[1]}); got {tuple(x.shape)}")
        if h0 is None:
            h0 = x.new_zeros(x.shape[0], self.n * self.c)
        hs = recurrent_scan(self.drive(x), h0, self.u, "ring", "relu", backend or self.backend)
        y = self.head(hs if self.readout_mode == "all" else hs[:, -1])
        return y, hs
