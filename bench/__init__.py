"""Benchmarks, run with `make bench` (`python -m bench [name …]`); never part of `make test`."""
