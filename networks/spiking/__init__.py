"""Spiking (Brian2) mirrors of the GSEMM networks, built from the same torch ``GSEMM`` objects.

Brian2 is imported lazily (``pip install -e .[spiking]``): importing this package works without it, and
building a model raises an ``ImportError`` naming the extra.

* :class:`RateMirror` — the exact DSEM ODEs as Brian2 equations (matches ``networks.gsemm.simulate``);
* :class:`ContextRateMirror` — the context GSEMM (one cell per stored event, trace-fed Φ) as Brian2 equations:
  a network learned by the one-pass ``StreamLearner`` replays in the same order as in torch;
* :class:`SpikingGSEMM` — Poisson feature and hidden neurons, soft winner-take-all hidden layer, slow
  population as synaptic traces (time constant T_d); replays stored sequences with spikes;
* :class:`SpikingLearner` — the energy-derived rules as STDP-like synaptic updates;
* targets ``runtime`` (numpy), ``cpp_standalone``, ``cuda_standalone`` (:mod:`networks.spiking.targets`).

>>> from networks.spiking import TARGETS
>>> TARGETS
('runtime', 'cpp_standalone', 'cuda_standalone')
"""
from ._brian import brian2_available, require_brian2
from .targets import TARGETS, activate, brian2cuda_available, check_target, configure_brian2cuda, reset_device

_LAZY = {"RateMirror": ".rate", "RateResult": ".rate", "DSEMParams": ".params", "dsem_params": ".params",
         "SpikingGSEMM": ".spiking", "SpikeResult": ".spiking", "SpikeConfig": ".spiking",
         "block_diagonal": ".spiking", "SpikingLearner": ".learning", "transition_check": ".learning",
         "order_agreement": ".decode", "population_overlaps": ".decode", "ContextRateMirror": ".context_rate",
         "ContextRateResult": ".context_rate"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'networks.spiking' has no attribute {name!r}")


__all__ = ["TARGETS", "activate", "brian2_available", "brian2cuda_available", "check_target",
           "configure_brian2cuda", "require_brian2", "reset_device", *_LAZY]
