"""`wave_adding`: wRNN vs iRNN on the adding problem (Keller et al., ICLR 2024, Table 1).

Adding problem (:func:`.tasks.adding_batch`): length T, values U[0,1] and two markers (one per half);
target the sum, MSE on the readout of the last state. wRNN: n=100, c=27, shift + solo init; iRNN: 100 units.
"Solved" = running-mean train MSE ≤ 0.05.

Reference (paper): wRNN solves T=400 in ~1k iterations (test MSE 4e−5); iRNN needs ~30k (test MSE 1e−4), and
fails at T ≥ 700. Pass band (ours): the wRNN solves within the budget, the iRNN later or not at all.

    python -m experiments run wave_adding --device cuda
"""
from __future__ import annotations

import torch

from networks.waves import fft_diag_power

from ..config import setting, with_defaults
from ..registry import Experiment
from ..threads import ThreadSettings
from . import wave_figures as figs
from .common import WaveVsIRNNSettings, wave_vs_irnn
from .seq_train import first_below, train_sequence_model
from .tasks import adding_batch


@with_defaults(c=27, steps=4000)
class AddingConfig(ThreadSettings, WaveVsIRNNSettings):
    T: int = setting(400, "sequence length", minimum=2)
    solved: float = setting(0.05, "train MSE that counts as solved", positive=True)


def _mse(out, y):
    return ((out - y) ** 2).mean()


def run(cfg: AddingConfig, ctx) -> dict:
    device = str(ctx.device)
    curves, results, panels = {}, {}, {}
    for i, (name, model, n_ring) in enumerate(wave_vs_irnn(cfg, ctx, 2, 1, readout_mode="last")):
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


EXPERIMENT = Experiment(
    AddingConfig, run, "wRNN vs iRNN on the adding problem (iterations to solve, test MSE, waves)",
    quick=("T=30", "n=16", "c=4", "irnn_hidden=16", "steps=600", "batch=32"),
)
