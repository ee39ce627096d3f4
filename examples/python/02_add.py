"""add: i64 in and out; out-of-range ints raise instead of wrapping.

Seed: primitive.py declared `argtypes = [c_int64, c_int64]` and
`restype = c_int64` by hand.
"""
from _common import library

lib = library()
print("10 + 15 =", lib.add(10, 15))
try:
    lib.add(2**63, 1)
except OverflowError as error:
    print("OverflowError:", error)
