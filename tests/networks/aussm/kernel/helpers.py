"""Shared inputs for the kernel tests: device choice and seeded problem generators."""
import os

import torch

INTERP = os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on", "yes")
DEVICE = torch.device("cpu" if INTERP or not torch.cuda.is_available() else "cuda")
NAMES = ["u", "delta", "W_A", "b_A", "B", "C", "D", "z", "h0"]


def problem(B, L, D, N, *, seed=0, scale=None, dtype=torch.float64, z=True, h0=True):
    """Random AUSSM inputs in float64 (W_A scaled by ``scale``, default 1/sqrt(D) like the model)."""
    g = torch.Generator().manual_seed(seed)
    s = (1.0 / D ** 0.5) if scale is None else scale
    f = dict(generator=g, dtype=torch.float64)
    u = torch.randn(B, L, D, **f)
    dt = torch.rand(B, L, D, **f)
    W = torch.randn(D, N, D, **f) * s
    b = torch.randn(D, N, **f)
    Bc = torch.complex(torch.randn(N, **f), torch.randn(N, **f))
    Cc = torch.complex(torch.randn(N, **f), torch.randn(N, **f))
    Dk = torch.randn(D, **f)
    zz = torch.randn(B, L, D, **f) if z else None
    hh = torch.complex(torch.randn(B, D, N, **f), torch.randn(B, D, N, **f)) if h0 else None
    return [u, dt, W, b, Bc, Cc, Dk, zz, hh]


def to(args, device=DEVICE, act_dtype=torch.float32, grad=False):
    """Cast float64 problem args to the kernel's dtypes on ``device`` (activations to ``act_dtype``)."""
    out = []
    for k, a in enumerate(args):
        if a is None:
            out.append(None)
            continue
        if a.is_complex():
            a = a.to(torch.complex64)
        else:
            a = a.to(act_dtype if k in (0, 1, 7) else torch.float32)
        a = a.to(device)
        out.append(a.requires_grad_(True) if grad else a)
    return out


def call(scan, args, **kw):
    u, dt, W, b, Bc, Cc, Dk, z, h0 = args
    return scan(u, dt, W, b, Bc, Cc, Dk, z=z, h0=h0, **kw)
