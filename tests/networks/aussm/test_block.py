"""AUSSM block, Mamba block, hybrid stacks and token model: shapes, decode == forward (float64, 1e-10),
streaming, parameter layout, gradients, backend agreement (Triton via the CPU interpreter in a subprocess,
or natively on CUDA) and bad input."""
import doctest
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import networks.aussm.block as block_mod
import networks.aussm.mamba as mamba_mod
import networks.aussm.stack as stack_mod
from networks.aussm import (AUSSMBlock, HybridStack, MambaBlock, TokenModel, parse_layers, scan_sequential,
                            selective_scan)

ROOT = Path(__file__).resolve().parents[3]
F64 = torch.float64
TOL = 1e-10  # float64 decode vs full forward: same maths, different op order -> ~1e-14 seen


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _x(b, L, d, seed=1, dtype=F64):
    return torch.randn(b, L, d, generator=_gen(seed), dtype=dtype)


def _decode(model, x):
    state = model.init_state(x.shape[0])
    outs = []
    for t in range(x.shape[1]):
        o, state = model.step(x[:, t], state)
        outs.append(o)
    return torch.stack(outs, 1), state


def _rel(a, b):
    return float((a - b).detach().abs().max() / b.detach().abs().max())


def _blocks():
    return {"aussm": AUSSMBlock(6, d_state=5, backend="torch", generator=_gen(0)).double(),
            "aussm_noconv": AUSSMBlock(6, d_state=3, conv=False, backend="torch", generator=_gen(2)).double(),
            "mamba": MambaBlock(6, d_state=5, generator=_gen(0)).double()}


@pytest.mark.parametrize("name", ["aussm", "aussm_noconv", "mamba"])
def test_block_shapes_and_decode_equals_forward_float64(name):
    blk = _blocks()[name]
    x = _x(3, 23, 6)
    y = blk(x)
    assert y.shape == (3, 23, 6) and y.dtype == F64 and torch.isfinite(y).all()
    yd, sd = _decode(blk, x)
    _, sf = blk(x, return_state=True)
    assert _rel(yd, y) < TOL
    assert _rel(sd.h, sf.h) < TOL and float((sd.conv - sf.conv).detach().abs().max()) <= TOL


@pytest.mark.parametrize("layers", ["a", "a|a", "a|m", "m|a", "m|m", "m|a|m"])
def test_stack_decode_equals_forward_and_streaming_split(layers):
    st = HybridStack(layers, 6, d_state=4, backend="torch", generator=_gen(3)).double()
    assert len(st.blocks) == len(parse_layers(layers))
    x = _x(2, 19, 6, seed=4)
    y = st(x)
    assert y.shape == (2, 19, 6)
    yd, _ = _decode(st, x)
    assert _rel(yd, y) < TOL
    y1, s = st(x[:, :7], return_state=True)        # forward(a ++ b) == forward(a), forward(b | state)
    y2 = st(x[:, 7:], s)
    assert _rel(torch.cat([y1, y2], 1), y) < TOL


def test_token_model_decode_equals_forward():
    m = TokenModel(5, 3, "a|m", d_model=8, d_state=4, backend="torch", generator=_gen(5)).double()
    tok = torch.randint(0, 5, (2, 17), generator=_gen(6))
    logits = m(tok)
    assert logits.shape == (2, 17, 3) and logits.dtype == F64
    state = m.init_state(2)
    outs = []
    for t in range(17):
        o, state = m.step(tok[:, t], state)
        outs.append(o)
    assert _rel(torch.stack(outs, 1), logits) < TOL


def test_same_generator_seed_gives_identical_models():
    a = TokenModel(4, 2, "a|m", d_model=8, d_state=4, generator=_gen(11))
    b = TokenModel(4, 2, "a|m", d_model=8, d_state=4, generator=_gen(11))
    c = TokenModel(4, 2, "a|m", d_model=8, d_state=4, generator=_gen(12))
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_aussm_block_equals_hand_built_pipeline_through_the_float64_oracle():
    """The block's wiring (n-major W_A rows, 1/sqrt(d), double dt bias, polar B/C, gate from in_proj)."""
    blk = _blocks()["aussm"]
    d = 6
    W, b, Bt, Ct = blk.scan_params()
    assert torch.equal(W[2, 3], blk.xA_proj.weight[3 * d + 2] / math.sqrt(d))
    assert torch.equal(b[2, 3], blk.xA_proj.bias[3 * d + 2])
    assert abs(Bt[1] - torch.nn.functional.softplus(blk.B[1, 0]) * torch.exp(1j * blk.B[1, 1])) < 1e-15
    x = _x(2, 11, d, seed=7)
    with torch.no_grad():
        xi, z = (x @ blk.in_proj.weight.t()).chunk(2, -1)
        xp = torch.nn.functional.pad(xi.transpose(1, 2), (3, 0))
        u = torch.stack([(xp[:, :, t:t + 4] * blk.conv_weight[:, 0]).sum(-1) for t in range(11)], 1) + blk.conv_bias
        dt = torch.nn.functional.softplus(u @ blk.x_proj.weight.t() @ blk.dt_proj.weight.t() + 2 * blk.dt_proj.bias)
        y, _ = scan_sequential(u, dt, W, b, Bt, Ct, blk.D, z=z)
        ref = y @ blk.out_proj.weight.t() + blk.out_proj.bias
        assert _rel(blk(x), ref) < TOL


def test_selective_scan_closed_form_and_gradcheck():
    # constant Δ, A, B, C, u: h_t = (1 - a^t)/(1 - a) Δ B u with a = e^{ΔA}
    L, dt, A = 12, 0.3, -0.7
    u = torch.ones(1, L, 1, dtype=F64)
    y, h = selective_scan(u, torch.full_like(u, dt), torch.full((1, 1), A, dtype=F64), torch.ones(1, L, 1, dtype=F64),
                          torch.ones(1, L, 1, dtype=F64), torch.zeros(1, dtype=F64))
    a = math.exp(dt * A)
    expect = torch.tensor([(1 - a ** (t + 1)) / (1 - a) * dt for t in range(L)], dtype=F64)
    assert float((y.flatten() - expect).abs().max()) < 1e-14
    g = _gen(8)
    args = [torch.randn(2, 5, 3, generator=g, dtype=F64), torch.rand(2, 5, 3, generator=g, dtype=F64),
            -torch.rand(3, 4, generator=g, dtype=F64), torch.randn(2, 5, 4, generator=g, dtype=F64),
            torch.randn(2, 5, 4, generator=g, dtype=F64), torch.randn(3, generator=g, dtype=F64),
            torch.randn(2, 5, 3, generator=g, dtype=F64), torch.randn(2, 3, 4, generator=g, dtype=F64)]
    args = [a.requires_grad_(True) for a in args]
    assert torch.autograd.gradcheck(lambda *a: selective_scan(*a)[0], args)


@pytest.mark.parametrize("layers", ["a|m", "m|a"])
def test_gradients_reach_every_parameter(layers):
    m = TokenModel(4, 3, layers, d_model=8, d_state=4, backend="torch", generator=_gen(9))
    tok = torch.randint(0, 4, (3, 10), generator=_gen(10))
    loss = torch.nn.functional.cross_entropy(m(tok)[:, -1], torch.tensor([0, 1, 2]))
    loss.backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert float(p.grad.abs().max()) > 0, f"zero gradient for {name}"


def test_block_gradcheck_float64_small():
    blk = AUSSMBlock(3, d_state=2, d_conv=2, backend="torch", generator=_gen(13)).double()
    x = _x(1, 4, 3, seed=14).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda v: blk(v), (x,))


_BACKEND_SCRIPT = textwrap.dedent("""
    import torch
    from networks.aussm import AUSSMBlock, TokenModel
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    g = torch.Generator().manual_seed(0)
    ref = AUSSMBlock(4, d_state=3, backend="torch", generator=g)
    fused = AUSSMBlock(4, d_state=3, backend="triton", generator=torch.Generator().manual_seed(0))
    ref, fused = ref.to(dev), fused.to(dev)
    x = torch.randn(2, 13, 4, generator=torch.Generator().manual_seed(1)).to(dev)
    y1, y2 = ref(x), fused(x)
    fwd = float((y1 - y2).abs().max() / y1.abs().max())
    y1.square().sum().backward(); y2.square().sum().backward()
    grad = max(float((p1.grad - p2.grad).abs().max() / p1.grad.abs().max().clamp_min(1e-30))
               for p1, p2 in zip(ref.parameters(), fused.parameters()))
    print("FWD", fwd, "GRAD", grad)
    assert fwd < 2e-5 and grad < 1e-4, (fwd, grad)
""")


def test_backends_agree_triton_vs_torch():
    """Fused Triton scan inside the block == torch oracle (fp32; fwd 2e-5, every parameter gradient 1e-4
    relative to its max). Runs on CUDA, else the Triton CPU interpreter in a subprocess (the variable
    must be set before Triton is imported)."""
    pytest.importorskip("triton", reason="triton is not installed: the fused backend cannot be compared")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    if not torch.cuda.is_available():
        env["TRITON_INTERPRET"] = "1"
    proc = subprocess.run([sys.executable, "-c", _BACKEND_SCRIPT], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "FWD" in proc.stdout


def test_explicit_triton_backend_on_cpu_raises_instead_of_falling_back():
    if torch.cuda.is_available() or os.environ.get("TRITON_INTERPRET", "0") not in ("0", ""):
        pytest.skip("needs a CPU-only process without the interpreter to see the error")
    blk = AUSSMBlock(4, d_state=2, backend="triton", generator=_gen(0))
    with pytest.raises(RuntimeError, match="triton"):
        blk(torch.zeros(1, 3, 4))


@pytest.mark.parametrize("make,match", [
    (lambda: parse_layers("a|x"), "unknown layer 'x'"),
    (lambda: parse_layers(""), "layers"),
    (lambda: HybridStack("a||m", 4), "unknown layer ''"),
    (lambda: AUSSMBlock(0), "d_model"),
    (lambda: AUSSMBlock(4, backend="cuda"), "backend"),
    (lambda: MambaBlock(4, d_state=0), "d_state"),
    (lambda: TokenModel(0, 2, "a"), "vocab_size"),
    (lambda: AUSSMBlock(4, backend="torch")(torch.zeros(2, 3, 5)), "x must have shape"),
    (lambda: MambaBlock(4)(torch.zeros(2, 4)), "x must have shape"),
    (lambda: AUSSMBlock(4).step(torch.zeros(2, 3, 4), AUSSMBlock(4).init_state(2)), "x_t must have shape"),
    (lambda: HybridStack("a|m", 4, backend="torch")(torch.zeros(1, 2, 4), state=()), "layer states"),
    (lambda: TokenModel(3, 2, "m")(torch.tensor([[0, 3]])), "outside"),
    (lambda: TokenModel(3, 2, "m")(torch.zeros(1, 2)), "tokens must be an integer"),
])
def test_bad_input_raises_value_error_naming_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_nan_input_rejected_by_the_scan():
    with pytest.raises(ValueError, match="contains NaN"):
        AUSSMBlock(4, backend="torch", generator=_gen(0))(torch.full((1, 3, 4), float("nan")))


@pytest.mark.parametrize("mod", [block_mod, mamba_mod, stack_mod], ids=lambda m: m.__name__)
def test_docstring_examples_run(mod):
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0
