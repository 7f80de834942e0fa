"""Runnable benchmarks: `python -m benchmarks` (see README, Performance)."""
