"""Helpers the benchmark modules run in other processes (not benchmarks themselves)."""
