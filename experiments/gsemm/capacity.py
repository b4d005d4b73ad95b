"""``capacity``: the largest number of memories P a network of N neurons replays correctly.

Protocol of the EDEN authors' C++ code: for a given N, binary-search the largest P
such that, over ``draws`` random pattern sets (≥ 30), the decoded sequence starting from ξ⁽⁰⁾ goes
0 → 1 → 2 in at least 96 % of the draws. All draws run as one batch with per-stream weights. DSEM
(exponential capacity expected) and LISEM (linear) are compared on a log scale with Chaudhry et al.'s
transition capacities: SeqNet N/(2 ln N) and ExpDenseNet b^{N−1}/(2 ln N), b = e²/cosh 2 ≈ 1.964.
These are yardsticks for the trend, not the same model: the paper's own capacity numbers are only in
figures (NOT IN SOURCES).

Measured caveat (seed 0, 60 draws): below N ≈ 16 the success probability of DSEM plateaus at
0.8–0.95 already at P = 3 (near-duplicate random patterns; an earlier probe of this project saw the same
plateau), so the 0.96 criterion says little there; LISEM at r = 0.5 plateaus at 0.9–0.98 for every P, hence r = 0.3.
"""
from __future__ import annotations

import math
import torch

from networks.gsemm import cycle, decode, escape_time, random_patterns, simulate

from ..config import setting, with_defaults
from ..context import pyplot
from ..registry import Experiment
from .common import RatioSettings, build_model, dsem_at_ratio


@with_defaults(r=0.3, beta=3.0, T_d=10.0, dt=0.1)
class Config(RatioSettings):
    """``r`` is the transition ratio of both models: DSEM at α_s = β_d = 1, α_c = 1/r; LISEM at α_s = 4,
    α_c = 2/r; ``beta`` is DSEM's."""

    models: list[str] = setting(["dsem", "lisem"], "models to measure (dsem, lisem)")
    N_dsem: list[int] = setting([16, 20, 24], "network sizes for DSEM")
    N_lisem: list[int] = setting([50, 100, 200], "network sizes for LISEM")
    draws: int = setting(100, "pattern draws per P (success = fraction of draws replaying 0→1→2)", minimum=1)
    threshold: float = setting(0.96, "required success probability", positive=True)
    P_max: int = setting(512, "upper end of the binary search", minimum=3)


def _success(model: str, N: int, P: int, cfg: Config, bank: torch.Tensor) -> float:
    """Fraction of draws replaying 0 → 1 → 2; ``bank`` (draws, N, P_max) holds the draws' patterns,
    and P memories are its first P columns (common random numbers: the same draws for every P)."""
    dtype = bank.dtype
    xi = bank[:, :, :P].contiguous()
    phi = cycle(P, dtype=dtype).expand(cfg.draws, P, P).contiguous()
    if model == "dsem":
        net = dsem_at_ratio(xi, phi, cfg.r, beta=cfg.beta, T_d=cfg.T_d)
        cue = xi[:, :, 0]
    else:
        a_s = 4.0
        lisem = {"model": "lisem", "alpha_s": a_s, "alpha_c": math.sqrt(a_s) / cfg.r, "T_d": cfg.T_d}
        net = build_model(lisem, xi, phi)                 # unit-norm memories Ξ/√N
        cue = math.sqrt(a_s) * xi[:, :, 0]
    horizon = 3.5 * escape_time(cfg.r, cfg.T_d) + 10.0
    _, tr = simulate(net, net.init_state(cue), steps=int(horizon / cfg.dt), dt=cfg.dt, method="euler",
                     record_every=10, record=("overlaps",))
    ok = 0
    for b in range(cfg.draws):
        order = decode(tr.overlaps[:, b].float().cpu(), 10 * cfg.dt, min_dwell=3).order
        ok += order[:3] == [0, 1, 2]
    return ok / cfg.draws


def _capacity(model, N, cfg, gen, log):
    dtype = torch.float32 if model == "dsem" else torch.float64
    bank = torch.stack([random_patterns(N, cfg.P_max, generator=gen, dtype=dtype) for _ in range(cfg.draws)])
    """Largest P in [1, P_max] with success ≥ threshold (binary search, success assumed monotone in P)."""
    cache = {}

    def good(P):
        if P not in cache:
            cache[P] = _success(model, N, P, cfg, bank)
            log.append({"model": model, "N": N, "P": P, "success": cache[P]})
        return cache[P] >= cfg.threshold

    if not good(3):
        return 2, cache
    lo, hi = 3, None
    P = 6
    while P <= cfg.P_max and good(P):  # exponential search for an upper bound
        lo, P = P, 2 * P
    hi = min(P, cfg.P_max + 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if good(mid):
            lo = mid
        else:
            hi = mid
    return lo, cache


def seqnet(N):
    return N / (2 * math.log(N))


def expdense(N):
    b = math.e ** 2 / math.cosh(2.0)
    return b ** (N - 1) / (2 * math.log(N))


def run(cfg: Config, ctx) -> dict:
    bad = [m for m in cfg.models if m not in ("dsem", "lisem")]
    if bad:
        raise ValueError(f"models={bad}: choose from dsem, lisem")
    gen = ctx.generator()
    results, log = [], []
    jobs = [(m, N) for m in cfg.models for N in (cfg.N_dsem if m == "dsem" else cfg.N_lisem)]
    for m, N in ctx.progress(jobs, desc="capacity"):
        cap, _ = _capacity(m, N, cfg, gen, log)
        results.append({"model": m, "N": N, "capacity": cap, "saturated": cap >= cfg.P_max,
                        "seqnet": seqnet(N), "expdense": expdense(N)})
    _figure(ctx, results)
    text = "; ".join(f"{r['model']} N={r['N']}: {r['capacity']}" for r in results)
    return {"capacity": results, "evaluations": log, "summary": text}


def _figure(ctx, results):
    plt = pyplot()
    import numpy as np
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m, mk in (("dsem", "o"), ("lisem", "s")):
        pts = [r for r in results if r["model"] == m]
        if pts:
            ax.plot([r["N"] for r in pts], [r["capacity"] for r in pts], mk + "-", label=f"{m} (measured)")
    Ns = sorted({r["N"] for r in results})
    if Ns:
        n = np.linspace(max(3, min(Ns)), max(Ns), 100)
        ax.plot(n, [seqnet(x) for x in n], "k--", lw=1, label="SeqNet N/(2 ln N)")
        n2 = np.linspace(max(3, min(Ns)), min(max(Ns), 30), 100)
        ax.plot(n2, [expdense(x) for x in n2], "k:", lw=1, label="ExpDenseNet 1.964^(N−1)/(2 ln N)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (neurons)")
    ax.set_ylabel("capacity P (0→1→2 in ≥ 96 % of draws)")
    ax.legend(fontsize=8)
    ax.set_title("sequence capacity")
    fig.tight_layout()
    ctx.save_figure(fig, "capacity")


EXPERIMENT = Experiment(Config, run,
                        "largest P replayed 0→1→2 in ≥ 96 % of draws vs N, DSEM and LISEM, beside Chaudhry et al.",
                        quick=("N_dsem=16,24", "N_lisem=50,200", "P_max=256"))
