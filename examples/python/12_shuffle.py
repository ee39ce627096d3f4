"""shuffle: a seeded random permutation in place, checked against pure Python.

Timing it is the benchmarks' job, not the gallery's.

Seed: bench.py wrapped an array in `(c_double * n).from_buffer(arr)` and
passed its length separately.
"""
from array import array

import numpy

from _common import library

lib = library()

MASK64 = (1 << 64) - 1


class Rng:
    """The examples' xorshift64* generator (examples/src/records.rs)."""

    def __init__(self, seed: int) -> None:
        self.state = (seed * 0x9E3779B97F4A7C15 & MASK64) | 1

    def next(self) -> int:
        x = self.state
        x ^= x >> 12
        x ^= (x << 25) & MASK64
        x ^= x >> 27
        self.state = x
        return x * 0x2545F4914F6CDD1D & MASK64

    def below(self, n: int) -> int:
        return self.next() % n


def shuffle_python(nums, seed: int) -> None:
    """Fisher-Yates, as the Rust `shuffle` does it."""
    rng = Rng(seed)
    for i in range(len(nums) - 1, 0, -1):
        j = rng.below(i + 1)
        nums[i], nums[j] = nums[j], nums[i]


nums = array("d", range(10))
lib.shuffle(nums, 42)  # in place, zero-copy
print("Rust:  ", [int(x) for x in nums])

reference = list(range(10))
shuffle_python(reference, 42)
print("Python:", reference)
print("the same permutation:", list(nums) == reference)

# A numpy array works the same way; the same seed gives the same order.
values = numpy.arange(10, dtype=numpy.float64)
lib.shuffle(values, 42)
print("numpy: ", values.astype(int).tolist())

big = array("d", range(100_000))
lib.shuffle(big, 7)
print("100000 numbers, still a permutation:", sorted(big) == list(range(100_000)))
