"""add: i64 in and out; out-of-range ints raise instead of wrapping.

Seed: primitive.py declared `argtypes = [c_int64, c_int64]` and
`restype = c_int64` by hand.
"""
from _common import expected, library

lib = library()
print("10 + 15 =", lib.add(10, 15))
with expected(OverflowError):
    lib.add(2**63, 1)
