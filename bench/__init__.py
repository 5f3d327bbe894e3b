"""Benchmarks: each `bench/run_*.py` runs with one command and writes docs/benchmarks.md."""
