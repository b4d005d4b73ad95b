"""Traveling-wave RNNs (TWM, wRNN), the bias-free Elman RNN of Episodic Memory Theory, and analysis tools.

Models
    :class:`TWMCell` (ring-buffer traveling-wave model with linear / attention / MLP boundary),
    :class:`WaveRNN` (Keller et al. wRNN), :class:`ElmanRNN` and :func:`irnn`.
Recurrence
    :func:`recurrent_scan` (``backend="torch" | "triton" | "auto"``; fused Triton kernels for CUDA).
Linear HDS / EMT tasks
    :func:`decode_task_id`, :func:`phi_from_operator`, :func:`hds_rollout`, :data:`EMT_TASKS`.
Analysis
    :func:`spectral_error`, :func:`eig_count`, :func:`rank_reduce`, :func:`krylov_basis`,
    :func:`f_aware_basis`, :func:`dual_basis`, :func:`project`, :func:`in_basis`, :func:`fft_diag_power`,
    :func:`lag_decodability`, :func:`jacobian_product_norms`; local learning: :func:`nlms_delta`.

Example
-------
>>> from networks.waves import decode_task_id, phi_from_operator, eig_count, EMT_TASKS
>>> eig_count(phi_from_operator(decode_task_id(*EMT_TASKS["compose_a"])))
36
"""
from .bases import dual_basis, f_aware_basis, grounding, in_basis, krylov_basis, project
from .boundaries import AttentionBoundary, LinearBoundary, MLPBoundary
from .boundary_learning import learn_boundary_nlms, nlms_delta
from .detectors import fft_diag_power, jacobian_product_norms, lag_decodability
from .elman import ElmanRNN, irnn
from .linear_hds import (EMT_TASKS, decode_task_id, fibonacci_operator, hds_rollout, phi_from_operator,
                         task_assignment)
from .scan_op import BACKENDS, recurrent_scan, resolve_backend
from .scan_reference import scan_reference
from .spectra import eig_count, rank_reduce, spectral_error, unit_eigs
from .twm import TWMCell, TWMState
from .wrnn import WaveRNN

__all__ = [
    "TWMCell", "TWMState", "LinearBoundary", "AttentionBoundary", "MLPBoundary", "WaveRNN", "ElmanRNN", "irnn",
    "recurrent_scan", "resolve_backend", "scan_reference", "BACKENDS",
    "EMT_TASKS", "decode_task_id", "task_assignment", "fibonacci_operator", "hds_rollout", "phi_from_operator",
    "spectral_error", "eig_count", "unit_eigs", "rank_reduce",
    "krylov_basis", "f_aware_basis", "dual_basis", "grounding", "project", "in_basis",
    "fft_diag_power", "lag_decodability", "jacobian_product_norms", "nlms_delta", "learn_boundary_nlms",
]
