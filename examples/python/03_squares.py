"""squares: &[f64] in, &mut [f64] out, zero-copy from array.array and numpy.

Seed: arrays.py wrapped each array in `(c_double * n).from_buffer(...)`,
declared three argtypes and passed one length for both pointers.
"""
from array import array

import numpy

from _common import expected, library

lib = library()

nums = array("d", [1, 2, 3])
out = array("d", [0, 0, 0])
lib.squares(nums, out)  # Rust writes straight into `out`'s memory
print("nums:", list(nums), "out:", list(out))

values = numpy.arange(4, dtype=numpy.float64)
squared = numpy.empty_like(values)
lib.squares(values, squared)
print("numpy:", values.tolist(), "squared:", squared.tolist())

# The element type is checked on every call: int64 is not f64.
with expected(TypeError):
    lib.squares(numpy.arange(3), squared[:3])

# Each slice carries its own length: a short output is an error, not an overflow.
with expected(lib.errors.LengthMismatch):
    lib.squares(nums, array("d", [0, 0]))
