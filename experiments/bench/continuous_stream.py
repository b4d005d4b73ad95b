"""Throughput of one-pass streaming, side by side in one process.

``python -m experiments.bench.continuous_stream`` prints elements per second for

* the :class:`~networks.gsemm.streaming.StreamLearner` on the Cui et al. (2016) stream, per stream and
  batched, for several batch sizes B and pools K (one torch thread);
* the epoch-based :class:`~networks.gsemm.learner.Learner` (DSEM + recruiting rule, the former ``stream``
  protocol: ``item_steps`` integration steps per element), on the same elements, for reference.

Each figure is the median of ``--repeats`` timed runs after a warm-up. Options: ``--elements``,
``--repeats``, ``--device``.

>>> r = bench_streaming(B=2, K=32, elements=60, repeats=1)
>>> r["elements_per_s_batched"] > 0
True
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from networks.gsemm.streaming import StreamLearner

from experiments.continuous.task import cui_stream


def _stream(B: int, elements: int, device: str = "cpu") -> torch.Tensor:
    sts = [cui_stream(s, elements=elements, switch=elements // 2) for s in range(B)]
    return torch.stack([torch.tensor(st.patterns[st.ids], dtype=torch.float32) for st in sts], 1).to(device)


def bench_streaming(*, B: int, K: int, elements: int, repeats: int = 3, device: str = "cpu") -> dict:
    """Median seconds of one pass of ``elements`` elements through a fresh StreamLearner (B streams, K cells)."""
    X = _stream(B, elements, device)
    times = []
    for r in range(repeats + 1):
        lrn = StreamLearner(X.shape[-1], capacity=K, batch=B, device=device)
        if device != "cpu":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        lrn.run(X)
        if device != "cpu":
            torch.cuda.synchronize()
        if r:                                        # the first run is a warm-up
            times.append(time.perf_counter() - t0)
    s = statistics.median(times)
    return {"B": B, "K": K, "elements": elements, "seconds": s, "elements_per_s_per_stream": elements / s,
            "elements_per_s_batched": B * elements / s}


def bench_epoch_learner(*, elements: int, item_steps: int = 60, repeats: int = 3) -> dict:
    """The former protocol: a DSEM Learner with the recruiting rule, ``item_steps`` steps per element, 1 stream."""
    from networks.gsemm import dsem
    from networks.gsemm.learner import Learner
    from networks.gsemm.learning import RecruitingRule
    X = _stream(1, elements)[:, 0].double()
    N, P = X.shape[1], 64
    times = []
    for r in range(repeats + 1):
        net = dsem(torch.randn(N, P, generator=torch.Generator().manual_seed(0), dtype=torch.float64) / N,
                   torch.zeros(P, P, dtype=torch.float64), alpha_c=2.0)
        lrn = Learner(net, RecruitingRule(eta_xi=2.0, eta_phi=2.0), dt=0.05)
        t0 = time.perf_counter()
        lrn.run(X.repeat_interleave(item_steps, 0)[:, None])
        if r:
            times.append(time.perf_counter() - t0)
    s = statistics.median(times)
    return {"elements": elements, "item_steps": item_steps, "seconds": s, "elements_per_s_per_stream": elements / s,
            "steps_per_s": elements * item_steps / s}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--elements", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    print(f"StreamLearner, one pass of {a.elements} elements of the Cui stream (N=100), {a.device}, 1 thread")
    print(f"{'B':>4} {'K':>6} {'s':>8} {'el/s per stream':>16} {'el/s batched':>14}")
    for B, K in ((1, 512), (10, 512), (10, 1024), (64, 512)):
        r = bench_streaming(B=B, K=K, elements=a.elements, repeats=a.repeats, device=a.device)
        print(f"{B:>4} {K:>6} {r['seconds']:>8.3f} {r['elements_per_s_per_stream']:>16.0f} "
              f"{r['elements_per_s_batched']:>14.0f}")
    n = max(50, a.elements // 20)
    r = bench_epoch_learner(elements=n, repeats=a.repeats)
    print(f"epoch-based Learner (DSEM, recruiting rule, 60 steps per element, 1 stream, {n} elements): "
          f"{r['steps_per_s']:.0f} steps/s = {r['elements_per_s_per_stream']:.1f} elements/s per pass")


if __name__ == "__main__":
    main()
