"""pi: a number-crunching loop in Rust, checked against pure Python.

Timing it is the benchmarks' job, not the gallery's.

Seed: bench.py declared argtypes/restype for a Go `pi(n int) float64`.
"""
import math

from _common import library

lib = library()


def pi_python(n: int) -> float:
    """The same Leibniz series, summed in the same order as the Rust code."""
    result, sign, denom = 0.0, 1.0, 1.0
    for _ in range(n):
        result += sign * 4 / denom
        sign = -sign
        denom += 2
    return result


n = 100_000
rust, python = lib.pi(n), pi_python(n)
print(f"Rust   pi({n}) = {rust!r}")
print(f"Python pi({n}) = {python!r}")
print("the same float:", rust == python)

n = 10_000_000
rust = lib.pi(n)
print(f"Rust   pi({n}) = {rust!r}, off by {abs(rust - math.pi):.1e}")
