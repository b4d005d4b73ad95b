"""AUSSM: adaptive unitary state-space model (oracles, fused Triton scan, blocks and hybrid stacks).

See ``docs/aussm.md``. Submodules: :mod:`.reference` (float64/polar oracles), :mod:`.ops`
(:func:`aussm_scan` with explicit backends), :mod:`.triton_scan` (fused kernel, needs Triton),
:mod:`.block`, :mod:`.mamba`, :mod:`.stack`.
"""
from .block import AUSSMBlock, AUSSMState
from .mamba import MambaBlock, MambaState, selective_scan
from .ops import aussm_scan, resolve_backend, triton_available
from .reference import polar, scan_polar, scan_sequential
from .stack import HybridStack, RMSNorm, TokenModel, parse_layers

__all__ = ["aussm_scan", "resolve_backend", "triton_available", "polar", "scan_polar", "scan_sequential",
           "AUSSMBlock", "AUSSMState", "MambaBlock", "MambaState", "selective_scan", "HybridStack", "RMSNorm",
           "TokenModel", "parse_layers"]
