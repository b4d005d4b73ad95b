"""Shared pieces of the GSEMM experiments: settings blocks and the builders that read them, pattern sets,
Φ graphs by name, the digits sequence, teacher-forced presentation, dtype parsing and plots.

Settings blocks are frozen dataclasses that an experiment's ``Config`` inherits (overriding defaults with
:func:`experiments.config.with_defaults`); their fields stay flat, so ``--set alpha_c=3`` works as before:

* :class:`DSEMSettings` — α_s, α_c, β, β_d, T_f, T_d of a DSEM network; :func:`build_model` builds it (or the
  model named by a ``model`` setting: the other factories of :data:`networks.gsemm.MODELS` take what they need);
* :class:`RatioSettings` — a DSEM network given by its transition ratio r (α_s = β_d = 1, α_c = 1/r),
  integrated by Euler; :func:`dsem_at_ratio` builds it;
* :class:`LearnSettings` — online learning by teacher forcing with a registered rule; :func:`build_rule`
  builds the rule from the settings named like its constructor's fields, :func:`present_sequence` presents;
* :class:`DecodeSettings`, :class:`RecallSettings` — how a replay is recorded and decoded, and free recall.

Example
-------
>>> from experiments.config import setting, with_defaults
>>> @with_defaults(alpha_c=2.0, theta=0.9)
... class Cfg(DSEMSettings, LearnSettings):
...     L: int = setting(3, "sequence length")
>>> cfg = Cfg()
>>> net = build_model(cfg, torch.zeros(8, 6, dtype=torch.float64), torch.zeros(6, 6, dtype=torch.float64))
>>> float(net.transition_ratio()), build_rule(cfg).theta
(0.5, 0.9)
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from networks.gsemm import (MODELS, RULES, chain, cycle, cycles, dsem, from_edges, hadamard_patterns, load_patterns,
                            random_patterns, rule_from_settings)
from networks.gsemm.learning import PRE_CODES
from networks.gsemm.patterns import read_array
from networks.limits import check_steps

from ..config import setting

DTYPES = {"float32": torch.float32, "float64": torch.float64}


# -- settings blocks -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DSEMSettings:
    """Settings block: the parameters of a DSEM network (:func:`networks.gsemm.dsem`), built by :func:`build_model`.

    >>> DSEMSettings().T_d
    20.0
    """

    alpha_s: float = setting(1.0, "self (symmetric) interaction strength α_s", positive=True)
    alpha_c: float = setting(1.0, "cross (sequence) interaction strength α_c (transition ratio √α_s/(α_c β_d))",
                             positive=True)
    beta: float = setting(1.0, "softmax inverse temperature β (dsem)", positive=True)
    beta_d: float = setting(1.0, "delay gain β_d", positive=True)
    T_f: float = setting(1.0, "feature time constant", positive=True)
    T_d: float = setting(20.0, "slow-population time constant", positive=True)


@dataclass(frozen=True)
class RatioSettings:
    """Settings block: a DSEM network given by its transition ratio r (α_s = β_d = 1, α_c = 1/r, T_f = 1), built by
    :func:`dsem_at_ratio` and integrated by explicit Euler at ``dt``.

    >>> RatioSettings().r
    0.5
    """

    r: float = setting(0.5, "transition ratio r = √α_s/(α_c β_d) (DSEM: α_s = β_d = 1, α_c = 1/r)", positive=True)
    beta: float = setting(10.0, "DSEM softmax inverse temperature β", positive=True)
    T_d: float = setting(20.0, "slow-population time constant", positive=True)
    dt: float = setting(0.01, "Euler step", positive=True)


@dataclass(frozen=True)
class LearnSettings:
    """Settings block: online learning of a sequence by teacher forcing (:func:`present_sequence`) with a rule of
    :data:`networks.gsemm.RULES`, built by :func:`build_rule`; ``eta_xi`` … ``pre_code`` are the recruiting
    rule's constructor fields (a rule takes the settings named like its fields and ignores the others).

    >>> LearnSettings().rule
    'recruiting'
    """

    rule: str = setting("recruiting", "learning rule", choices=tuple(RULES))
    eta_xi: float = setting(2.0, "Ξ learning rate (recruiting)", positive=True)
    eta_phi: float = setting(2.0, "Φ learning rate (recruiting)", positive=True)
    theta: float = setting(0.5, "cosine needed to reuse a committed hidden unit (recruiting)")
    tau_y: float = setting(0.1, "lag of the hidden trace (recruiting)", positive=True)
    beta_z: float = setting(1.0, "inverse temperature of the delayed code (recruiting)", positive=True)
    pre_code: str = setting("sharp", "presynaptic code of the Φ rule (recruiting)", choices=PRE_CODES)
    hidden_per_item: int = setting(2, "hidden units per item (N_h = hidden_per_item * L)", minimum=1)
    epochs: int = setting(20, "presentations of the whole sequence", minimum=1)
    item_steps: int = setting(60, "steps per presented item", minimum=1)
    dt: float = setting(0.05, "learning step (v is clamped to the item, so only T_d limits it)", positive=True)


@dataclass(frozen=True)
class DecodeSettings:
    """Settings block: how a replay is recorded and decoded (:func:`networks.gsemm.decode`).

    >>> DecodeSettings().min_dwell
    5
    """

    record_every: int = setting(10, "record every k integration steps", minimum=1)
    min_dwell: int = setting(5, "decoder: merge visits shorter than this many samples", minimum=1)


@dataclass(frozen=True)
class RecallSettings(DecodeSettings):
    """Settings block: free recall after learning (:func:`networks.gsemm.free_recall`), for (L + ``recall_items``)
    predicted dwells.

    >>> RecallSettings().recall_items
    3.0
    """

    recall_dt: float = setting(0.005, "recall integration step", positive=True)
    recall_items: float = setting(3.0, "recall length: (L + this) predicted dwells", positive=True)


# -- builders ----------------------------------------------------------------------------------------------------
def build_model(settings, xi: torch.Tensor, phi: torch.Tensor):
    """The network named by ``settings.model`` (``dsem`` when it has no ``model``) from Ξ, Φ and the settings named
    like the factory's keyword arguments (:data:`networks.gsemm.MODELS`); ``settings`` is a config or a dict. A
    LISEM stores unit-norm memories, Ξ/√N, so that ΞΞᵀ is a projector-like coupling (the built network's ``xi``).

    >>> net = build_model({"model": "lisem", "gain": 2.0}, torch.ones(4, 2), cycle(2))
    >>> net.feature, float(net.xi[0, 0])
    (LogCosh(gain=2.0), 0.5)
    """
    get = settings.get if isinstance(settings, dict) else (lambda k, d=None: getattr(settings, k, d))
    name = get("model", "dsem")
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    factory = MODELS[name]
    missing = object()
    kw = {k: v for k in list(inspect.signature(factory).parameters)[2:] if (v := get(k, missing)) is not missing}
    if name == "lisem":
        xi = xi / xi.shape[-2] ** 0.5
    return factory(xi, phi, **kw)


def dsem_at_ratio(xi: torch.Tensor, phi: torch.Tensor, r, *, beta: float, T_d: float):
    """DSEM with transition ratio ``r`` (a number, or a tensor of one per stream): α_s = β_d = 1, α_c = 1/r, T_f = 1.

    >>> float(dsem_at_ratio(torch.ones(4, 2), cycle(2), 0.25, beta=10.0, T_d=5.0).transition_ratio())
    0.25
    """
    return dsem(xi, phi, alpha_s=1.0, alpha_c=1.0 / r, beta=beta, T_f=1.0, T_d=T_d)


def build_rule(cfg):
    """The learning rule ``cfg.rule`` of :data:`networks.gsemm.RULES`, from the settings named like its fields
    (:func:`networks.gsemm.rule_from_settings`).

    >>> build_rule(LearnSettings(theta=0.7)).theta
    0.7
    """
    return rule_from_settings(cfg.rule, cfg)


# -- data ----------------------------------------------------------------------------------------------------------
def make_patterns(kind: str, N: int, P: int, *, generator: torch.Generator, dtype, device) -> torch.Tensor:
    """``random`` (±1), ``hadamard`` (orthogonal ±1, N a power of two) or a path to a ``.npy`` file
    (one pattern per row; N and P are then taken from the file).

    >>> make_patterns("hadamard", 4, 2, generator=None, dtype=torch.float64, device="cpu").shape
    torch.Size([4, 2])
    """
    if kind == "random":
        return random_patterns(N, P, generator=generator, dtype=dtype, device=device)
    if kind == "hadamard":
        return hadamard_patterns(N, P, dtype=dtype, device=device)
    if kind.endswith(".npy"):
        return load_patterns(kind, dtype=dtype, device=device)
    raise ValueError(f"patterns={kind!r}: use 'random', 'hadamard' or a path to a .npy file")


def make_graph(spec: str, P: int, *, dtype, device) -> torch.Tensor:
    """Φ from a name: ``cycle``, ``chain``, ``notebook`` (0→1→2→0 and 3→4→…→P−1→3, the authors' DSEM
    graph) or an edge list such as ``"0-1,1-2,2-0"``.

    >>> make_graph("0-1,1-2", 3, dtype=torch.float64, device="cpu").nonzero().tolist()
    [[0, 1], [1, 2]]
    """
    kw = dict(dtype=dtype, device=device)
    if spec == "cycle":
        return cycle(P, **kw)
    if spec == "chain":
        return chain(P, **kw)
    if spec == "notebook":
        if P < 6:
            raise ValueError("graph=notebook needs P >= 6 (two cycles 0-1-2 and 3..P-1)")
        return cycles([0, 1, 2], list(range(3, P)), P=P, **kw)
    try:
        edges = [tuple(int(x) for x in e.split("-")) for e in spec.split(",") if e.strip()]
    except ValueError:
        raise ValueError(f"graph={spec!r}: use cycle, chain, notebook or edges like 0-1,1-2") from None
    return from_edges(P, edges, **kw)


def load_sequence(spec: str) -> tuple[torch.Tensor, str]:
    """(L, N) ±1 float64 patterns and a description: ``digits``, the first image of each class 0–9 of
    scikit-learn's ``load_digits`` binarised as x = sign(img − 8), or a .npy file (one pattern per row, binarised at
    the midpoint of its range unless already ±1).

    >>> load_sequence("digits")[0].shape
    torch.Size([10, 64])
    """
    if spec == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError as e:
            raise ModuleNotFoundError("data=digits needs scikit-learn (pip install 'seqplastic[data]'), "
                                      "or pass --set data=path.npy") from e
        d = load_digits()
        idx = [int(np.flatnonzero(d.target == k)[0]) for k in range(10)]
        img = d.images[idx].reshape(10, -1)
        x = np.where(img > 0.5 * 16.0, 1.0, -1.0)
        return torch.tensor(x, dtype=torch.float64), "scikit-learn digits 0-9 (8x8, binarised)"
    if not spec.endswith(".npy"):
        raise ValueError(f"data={spec!r}: use 'digits' or a path to a .npy file (one pattern per row)")
    arr = read_array(spec, min_rows=2, min_cols=2, what=f"data={spec}: ")
    if not np.isin(arr, (-1.0, 1.0)).all():
        mid = 0.5 * (arr.min() + arr.max())
        arr = np.where(arr > mid, 1.0, -1.0)
    return torch.tensor(arr), f"{Path(spec).name} ({arr.shape[0]} patterns of {arr.shape[1]})"


# -- learning ------------------------------------------------------------------------------------------------------
def present_sequence(learner, X: torch.Tensor, epochs: int, item_steps: int, progress=None) -> torch.Tensor | None:
    """Teacher-forced presentation of the sequences ``X`` (B, N, L), one per stream: each item x_k for
    ``item_steps`` steps, the state reset between epochs. Returns the mean energy E(v = x, s) per epoch, (epochs, B),
    when the learner monitors ``energy``, else None.

    >>> from networks.gsemm import Learner, RecruitingRule
    >>> lrn = Learner(dsem(torch.zeros(2, 8, 6, dtype=torch.float64), torch.zeros(2, 6, 6, dtype=torch.float64)),
    ...               RecruitingRule(), dt=0.05, monitors=("energy",))
    >>> X = random_patterns(8, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> present_sequence(lrn, torch.stack([X, X]), epochs=2, item_steps=5).shape
    torch.Size([2, 2])
    """
    B, N, L = X.shape
    check_steps(float(epochs) * L * item_steps, f"presenting {L} items × {item_steps} steps for {epochs} epochs",
                "use fewer epochs or item_steps")
    out = []
    it = range(epochs) if progress is None else progress(range(epochs))
    for _ in it:
        learner.reset_state()
        n0 = learner.monitor("energy").shape[0] if learner.steps and "energy" in learner.monitors else 0
        for k in range(L):
            learner.run(X[:, :, k].unsqueeze(0).expand(item_steps, B, N))
        if "energy" in learner.monitors:
            out.append(learner.monitor("energy")[n0:].mean(0))
    return torch.stack(out) if out else None


# -- figures -------------------------------------------------------------------------------------------------------
def plot_overlaps_energy(t, overlaps, energy, title: str, labels=None):
    """Figure: overlaps of every memory over time (top) and the energy (bottom)."""
    from ..context import pyplot
    plt = pyplot()
    fig, (a0, a1) = plt.subplots(2, 1, figsize=(9, 5), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    P = overlaps.shape[-1]
    cmap = plt.get_cmap("tab20" if P > 10 else "tab10")
    for mu in range(P):
        a0.plot(t, overlaps[:, mu], color=cmap(mu % cmap.N), lw=1.2, label=f"ξ{mu}" if P <= 12 else None)
    a0.set_ylabel("overlap  ξ·v / N")
    a0.set_title(title)
    if P <= 12:
        a0.legend(ncol=min(P, 7), fontsize=7, loc="upper right")
    if energy is not None:
        a1.plot(t, energy, color="k", lw=1)
    a1.set_ylabel("energy E")
    a1.set_xlabel("time (units of T_f)")
    fig.tight_layout()
    return fig
