"""Benchmarks and GPU-session scripts, kept apart from the experiments (which are listed by ``python -m experiments
list``). Each script is a module with its own ``--help``, run from the repository root; its figures are recorded
in ``docs/benchmarks.md``. The file name starts with the family it measures.

GSEMM
    ``gsemm_integrate``: throughput of the ``simulate`` backends on the CPU (dense, subspace, native C) against
    the quoted numpy figures. ``python -m experiments.bench.gsemm_integrate [--quick]``

    ``gsemm_gpu``: network-steps per second on CUDA (dense, CUDA graphs, subspace, fused Triton kernel) and
    their error against a float64 run. ``python -m experiments.bench.gsemm_gpu [--B 4096] [--N 784] [--P 64]``

    ``gsemm_learning``: the ≥ 20-seed learning reliability run and the cost of ``Learner.run`` next to the
    bare integration loop. ``python -m experiments.bench.gsemm_learning [--quick] [--skip-authors]``

Spiking
    ``spiking_targets``: the spiking GSEMM across Brian2 targets (replay, synapse-count scaling, batched replays).
    ``python -m experiments.bench.spiking_targets --quick`` or ``--targets cpp_standalone cuda_standalone``

Continuous
    ``continuous_stream``: elements per second of one-pass streaming (``StreamLearner``, per stream and
    batched) and of the epoch-based learner. ``python -m experiments.bench.continuous_stream [--elements N]``

AUSSM
    ``aussm_scan``: the fused AUSSM scan's time, extra memory, roofline fraction and error against the float64
    oracle, optionally beside the official op. ``python -m experiments.bench.aussm_scan [--tiny] [--official DIR]``

    ``aussm_memory``: the fused op's extra forward and forward+backward memory, read on a CPU with the kernels
    stubbed. ``python -m experiments.bench.aussm_memory [--shape b,d,n,L] [--dtheta-mib 16 32 64]``

    ``aussm_mamba_scan``: the Mamba block's loop and parallel scans side by side (the evidence behind
    ``scan="auto"``). ``python -m experiments.bench.aussm_mamba_scan [--device cuda] [--lengths 30 256 1024]``

    ``aussm_kernel_resources``: registers, spills and shared memory of the fused AUSSM kernels compiled for an
    NVIDIA target without a GPU. ``python -m experiments.bench.aussm_kernel_resources [--warps 4 8]``

    ``aussm_official_op``: builds the official AUSSM CUDA op from a local copy and maps our inputs onto it
    (a library for ``aussm_scan --official``; no command line).

Waves
    ``waves_rnn``: the fused wave-RNN recurrence against eager loops and cuDNN (time, memory, error, HBM
    fraction). ``python -m experiments.bench.waves_rnn --out bench.json`` (needs CUDA)

GPU session and shared helpers
    ``gpu_session``: every GPU-only check in groups that fit one device command each, with per-step limits.
    ``python -m experiments.bench.gpu_session --list`` or ``--group aussm|tune|waves --out "$OUT"``

    ``timing``: CUDA-event / ``perf_counter`` timing and peak extra memory, shared by the scripts above.

    ``kernel_compile``: compiles a Triton kernel for an NVIDIA target on a CPU-only machine and reads its
    resources (used by ``aussm_kernel_resources`` and the sm_90 compile tests).

Example
-------
>>> from experiments.bench import gpu_session
>>> sorted({s.group for s in gpu_session.STEPS})
['aussm', 'tune', 'waves']
"""
