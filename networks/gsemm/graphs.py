"""CUDA-graph replay of fixed-size chunks of integration steps.

On a GPU one integration step of a GSEMM is a few dozen small kernels, so an eager loop is bound by
launch latency. :class:`GraphedChunk` captures ``n`` steps once into a ``torch.cuda.CUDAGraph`` over
static state buffers and replays it; the arithmetic is exactly the eager loop's (same kernels, same
order), so results match the eager path bit for bit on the same device.

Example (needs CUDA)::

    chunk = GraphedChunk(kernel, x, y, h, dt=0.01, method="euler", n=10)
    x, y, h = chunk(x, y, h)      # 10 steps
"""
from __future__ import annotations

import torch


class GraphedChunk:
    """``n`` steps of :func:`networks.gsemm.integrate.step` captured as one CUDA graph.

    ``kernel`` is a Dense or Subspace right-hand side; ``inp`` a constant input current or ``None``.
    """

    def __init__(self, kernel, x, y, h, *, dt: float, method: str, n: int, inp=None):
        from .integrate import step
        if not x.is_cuda:
            raise ValueError("GraphedChunk needs CUDA tensors; on the CPU use the eager loop or backend='native'")
        self.n = n
        self.sx, self.sy = x.clone(), y.clone()
        self.sh = None if h is None else h.clone()
        self.inp = inp

        def body():
            a, b, c = self.sx, self.sy, self.sh
            for _ in range(n):
                a, b, c = step(kernel, a, b, c, dt, method, self.inp)
            return a, b, c

        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up on copies (allocator pools, cuBLAS handles)
            body()
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            ox, oy, oh = body()
            self.sx.copy_(ox)
            self.sy.copy_(oy)
            if self.sh is not None:
                self.sh.copy_(oh)

    def __call__(self, x, y, h):
        if x.data_ptr() != self.sx.data_ptr():
            self.sx.copy_(x)
            self.sy.copy_(y)
            if self.sh is not None:
                self.sh.copy_(h)
        self.graph.replay()
        return self.sx, self.sy, self.sh
