"""Run in a subprocess with TRITON_INTERPRET=1 (kept out of the test process so the interpreter setting
cannot leak into other tests): fused Triton scan vs the float64 oracle at small shapes, incl. gradients,
and torch.library.opcheck on the custom op. Prints one JSON object."""
import json
import os
import sys
import warnings

assert os.environ.get("TRITON_INTERPRET") == "1", "run with TRITON_INTERPRET=1"
warnings.filterwarnings("ignore")
import torch  # noqa: E402

from networks.waves.scan_op import recurrent_scan, scan_fwd  # noqa: E402
from networks.waves.scan_reference import scan_reference  # noqa: E402

# structure, activation, B, L, H, c  (padded tiles: c=6 -> 16 lanes, n=12 -> 16, H=20 -> 32, B=17 -> 2 blocks)
CASES = [
    ("ring", "relu", 2, 5, 16 * 16, 16),
    ("ring", "tanh", 3, 4, 6 * 12, 6),
    ("dense", "tanh", 3, 5, 20, None),
    ("dense", "relu", 17, 3, 16, None),
]


def rel(a, b):
    return float((a.double() - b).abs().max() / b.abs().max().clamp_min(1.0))


def main():
    out = {}
    g = torch.Generator().manual_seed(0)
    for structure, act, B, L, H, c in CASES:
        if structure == "ring":
            w = torch.randn(c, c, 3, generator=g, dtype=torch.float64) * 0.3
        else:
            w = torch.randn(H, H, generator=g, dtype=torch.float64) / H ** 0.5
        z = torch.randn(B, L, H, generator=g, dtype=torch.float64)
        h0 = torch.randn(B, H, generator=g, dtype=torch.float64)
        gh = torch.randn(B, L, H, generator=g, dtype=torch.float64)
        ref_in = [t.clone().requires_grad_() for t in (z, h0, w)]
        ref = scan_reference(*ref_in, structure, act)
        ref.backward(gh)
        k_in = [t.float().requires_grad_() for t in (z, h0, w)]
        hs = recurrent_scan(*k_in, structure, act, backend="triton")
        hs.backward(gh.float())
        key = f"{structure}-{act}-B{B}-L{L}-H{H}"
        out[key] = {"fwd": rel(hs.detach(), ref.detach()),
                    "grad_z": rel(k_in[0].grad, ref_in[0].grad),
                    "grad_h0": rel(k_in[1].grad, ref_in[1].grad),
                    "grad_w": rel(k_in[2].grad, ref_in[2].grad)}
    # opcheck: schema, fake tensor, autograd registration (small ring case)
    z = torch.randn(2, 3, 32, generator=g)
    h0 = torch.randn(2, 32, generator=g)
    u = torch.randn(2, 2, 3, generator=g) * 0.3
    try:
        torch.library.opcheck(scan_fwd, (z.requires_grad_(), h0, u, "ring", "tanh"),
                              test_utils=("test_schema", "test_faketensor", "test_autograd_registration"))
        out["opcheck"] = "ok"
    except Exception as e:  # report, the test asserts on it
        out["opcheck"] = f"{type(e).__name__}: {e}"
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
