"""`wave_copy`: wRNN vs iRNN on the copy task (Keller et al., ICLR 2024, Table 4).

Copy task as coded by the wRNN authors (:func:`.tasks.copy_batch`): 10 data tokens, a blank gap, the
delimiter at index T−1, the tokens to reproduce in the last 10 steps (length T+10; the paper's T is ours
minus 20). Cross-entropy over all steps. wRNN: n=100, c=6, shift + solo init, ReLU, per-step linear
readout. iRNN: 100 units, identity init.

Reference (paper, 60k iterations): wRNN loss ~1e−10 – 1e−11, iRNN ~1e−3 – 1e−4. Pass band (ours): the wRNN's
final loss is at least 10× below the iRNN's at equal iterations. Measured with the defaults (CPU, 20k
iterations, about 30 min; ``docs/waves.md``): wRNN test CE 1.4e−10, iRNN 0.31.

    python -m experiments run wave_copy --device cuda
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as Fn

from experiments.config import setting
from experiments.registry import Experiment
from networks.waves import WaveRNN, fft_diag_power, irnn

from ..threads import cpu_threads
from . import wave_figures as figs
from .seq_train import train_sequence_model
from .tasks import copy_batch


@dataclass(frozen=True)
class CopyConfig:
    T: int = setting(50, "sequence length minus 10 (delimiter at index T-1)", minimum=11)
    n: int = setting(100, "wRNN neurons per ring", positive=True)
    c: int = setting(6, "wRNN channels", positive=True)
    irnn_hidden: int = setting(100, "iRNN hidden units", positive=True)
    steps: int = setting(20000, "training iterations per model (paper: 60k)", positive=True)
    batch: int = setting(128, "batch size", positive=True)
    lr: float = setting(1e-3, "Adam learning rate", positive=True)
    clip: float = setting(1.0, "grad-norm clip (0 = off)", minimum=0.0)
    backend: str = setting("auto", "recurrence backend", choices=("auto", "torch", "triton"))
    threads: int = setting(1, "CPU intra-op threads during the run (0 = torch default)", minimum=0)


def _ce(out, y):
    return Fn.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


@torch.no_grad()
def _evaluate(model, cfg, g, device):
    x, y = copy_batch(1000, cfg.T, generator=g)
    out, hs = model(x.to(device))
    out = out.cpu()
    acc = float((out[:, cfg.T:].argmax(-1) == y[:, cfg.T:]).float().mean())
    return float(_ce(out, y)), acc, hs[0].cpu()


def _run(cfg: CopyConfig, ctx) -> dict:
    device = str(ctx.device)
    models = {
        f"wRNN (n={cfg.n}, c={cfg.c})": WaveRNN(10, cfg.n, cfg.c, 10, generator=ctx.generator(1), backend=cfg.backend),
        f"iRNN (n={cfg.irnn_hidden})": irnn(10, cfg.irnn_hidden, 10, generator=ctx.generator(2), backend=cfg.backend),
    }
    curves, results, panels = {}, {}, {}
    for i, (name, model) in enumerate(models.items()):
        ctx.log(f"wave_copy: {name}, T={cfg.T}, {cfg.steps} steps on {device}")
        res = train_sequence_model(model, lambda g: copy_batch(cfg.batch, cfg.T, generator=g), _ce, cfg.steps, cfg.lr,
                                   cfg.clip, generator=ctx.generator(10 + i), device=device,
                                   progress=lambda it: ctx.progress(it, total=cfg.steps, desc=name))
        loss, acc, h = _evaluate(model, cfg, ctx.generator(20), device)
        n_ring = cfg.n if name.startswith("wRNN") else cfg.irnn_hidden
        power = fft_diag_power(h[:, :n_ring], generator=ctx.generator(30))["power"]
        curves[name] = res["loss"]
        panels[name] = (h[:, :n_ring], power)
        results[name] = {"test_loss": loss, "test_copy_accuracy": acc, "final_train_loss": sum(res["loss"][-50:]) / len(res["loss"][-50:]),
                         "fft_diag_power_channel0": power, "train_seconds": round(res["seconds"], 2),
                         "params": sum(p.numel() for p in model.parameters())}
    ctx.save_figure(figs.loss_figure(curves, "train cross-entropy"), "copy_loss")
    ctx.save_figure(figs.activity_figure(panels, f"copy task T={cfg.T}: hidden activity of one test sequence"),
                    "copy_activity")
    (wn, w), (iname, ir) = list(results.items())
    ratio = ir["test_loss"] / max(w["test_loss"], 1e-30)
    return {"models": results, "loss_ratio_irnn_over_wrnn": ratio,
            "summary": f"T={cfg.T}: wRNN test CE {w['test_loss']:.2e} (copy acc {w['test_copy_accuracy']:.3f}) vs "
                       f"iRNN {ir['test_loss']:.2e} (acc {ir['test_copy_accuracy']:.3f}); ratio {ratio:.1f}x"}


def run(cfg, ctx) -> dict:
    """Run with ``cfg.threads`` intra-op threads (restored afterwards)."""
    with cpu_threads(cfg.threads):
        return _run(cfg, ctx)


EXPERIMENT = Experiment(
    "wave_copy", CopyConfig, run, "wRNN vs iRNN on the copy task (loss curves, hidden waves, FFT diagonal power)",
    quick=("T=20", "n=16", "c=2", "irnn_hidden=16", "steps=600", "batch=32"),
)
