"""Experiments: task streams, runnable experiments, reports, benchmarks and the CLI.

Run ``python -m experiments list`` to see what is available.
"""
