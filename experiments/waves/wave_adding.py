"""`wave_adding`: wRNN vs iRNN on the adding problem (Keller et al., ICLR 2024, Table 1).

Adding problem (:func:`.tasks.adding_batch`): length T, values U[0,1] and two markers (one per half);
target the sum, MSE on the readout of the last state. wRNN: n=100, c=27, shift + solo init; iRNN: 100 units.
"Solved" = running-mean train MSE ≤ 0.05.

Reference (paper): wRNN solves T=400 in ~1k iterations (test MSE 4e−5); iRNN needs ~30k (test MSE 1e−4), and
fails at T ≥ 700. Pass band (ours): the wRNN solves within the budget, the iRNN later or not at all.

    python -m experiments run wave_adding --device cuda
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from experiments.config import setting
from experiments.registry import Experiment
from networks.waves import WaveRNN, fft_diag_power, irnn

from ..threads import cpu_threads
from . import wave_figures as figs
from .seq_train import first_below, train_sequence_model
from .tasks import adding_batch


@dataclass(frozen=True)
class AddingConfig:
    T: int = setting(400, "sequence length", minimum=2)
    n: int = setting(100, "wRNN neurons per ring", positive=True)
    c: int = setting(27, "wRNN channels", positive=True)
    irnn_hidden: int = setting(100, "iRNN hidden units", positive=True)
    steps: int = setting(4000, "training iterations per model", positive=True)
    batch: int = setting(128, "batch size", positive=True)
    lr: float = setting(1e-3, "Adam learning rate", positive=True)
    clip: float = setting(1.0, "grad-norm clip (0 = off)", minimum=0.0)
    solved: float = setting(0.05, "train MSE that counts as solved", positive=True)
    backend: str = setting("auto", "recurrence backend", choices=("auto", "torch", "triton"))
    threads: int = setting(1, "CPU intra-op threads during the run (0 = torch default)", minimum=0)


def _mse(out, y):
    return ((out - y) ** 2).mean()


def _run(cfg: AddingConfig, ctx) -> dict:
    device = str(ctx.device)
    models = {
        f"wRNN (n={cfg.n}, c={cfg.c})": WaveRNN(2, cfg.n, cfg.c, 1, readout_mode="last", generator=ctx.generator(1),
                                                 backend=cfg.backend),
        f"iRNN (n={cfg.irnn_hidden})": irnn(2, cfg.irnn_hidden, 1, generator=ctx.generator(2), backend=cfg.backend),
    }
    curves, results, panels = {}, {}, {}
    for i, (name, model) in enumerate(models.items()):
        ctx.log(f"wave_adding: {name}, T={cfg.T}, {cfg.steps} steps on {device}")
        # iRNN's readout reads the last state only: wrap the per-step ElmanRNN output
        fwd = model if name.startswith("wRNN") else _LastStep(model)
        res = train_sequence_model(fwd, lambda g: adding_batch(cfg.batch, cfg.T, generator=g), _mse, cfg.steps,
                                   cfg.lr, cfg.clip, generator=ctx.generator(10 + i), device=device,
                                   progress=lambda it: ctx.progress(it, total=cfg.steps, desc=name))
        with torch.no_grad():
            x, y = adding_batch(1000, cfg.T, generator=ctx.generator(20))
            out, hs = fwd(x.to(device))
            test = float(_mse(out.cpu(), y))
        n_ring = cfg.n if name.startswith("wRNN") else cfg.irnn_hidden
        h = hs[0, :, :n_ring].cpu()
        power = fft_diag_power(h, generator=ctx.generator(30))["power"]
        curves[name] = res["loss"]
        panels[name] = (h, power)
        results[name] = {"test_mse": test, "solved_iteration": first_below(res["loss"], cfg.solved),
                         "fft_diag_power_channel0": power, "train_seconds": round(res["seconds"], 2),
                         "params": sum(p.numel() for p in model.parameters())}
    ctx.save_figure(figs.loss_figure(curves, "train MSE", cfg.solved), "adding_loss")
    ctx.save_figure(figs.activity_figure(panels, f"adding T={cfg.T}: hidden activity of one test sequence"),
                    "adding_activity")
    (wn, w), (iname, ir) = list(results.items())
    return {"models": results,
            "summary": f"T={cfg.T}: wRNN test MSE {w['test_mse']:.2e} (solved at {w['solved_iteration']}) vs "
                       f"iRNN {ir['test_mse']:.2e} (solved at {ir['solved_iteration']})"}


class _LastStep(torch.nn.Module):
    """Adapter: an :class:`~networks.waves.ElmanRNN` whose output is read from the last step only."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        y, hs = self.net(x)
        return y[:, -1], hs


def run(cfg, ctx) -> dict:
    """Run with ``cfg.threads`` intra-op threads (restored afterwards)."""
    with cpu_threads(cfg.threads):
        return _run(cfg, ctx)


EXPERIMENT = Experiment(
    "wave_adding", AddingConfig, run, "wRNN vs iRNN on the adding problem (iterations to solve, test MSE, waves)",
    quick=("T=30", "n=16", "c=4", "irnn_hidden=16", "steps=600", "batch=32"),
)
