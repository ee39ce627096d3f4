"""squares: &[f64] in, &mut [f64] out, zero-copy from array.array and numpy."""
from array import array

from _common import library

lib = library()
nums = array("d", [1, 2, 3])
out = array("d", [0, 0, 0])
lib.squares(nums, out)
print("nums:", list(nums), "out:", list(out))

try:
    import numpy
except ImportError:
    numpy = None
if numpy is not None:
    values = numpy.arange(4, dtype=numpy.float64)
    squared = numpy.empty_like(values)
    lib.squares(values, squared)
    print("numpy:", squared.tolist())
    try:
        lib.squares(numpy.arange(3), squared[:3])  # int64, not f64
    except TypeError as error:
        print("TypeError:", error)

try:
    lib.squares(nums, array("d", [0, 0]))
except lib.errors.LengthMismatch as error:
    print("LengthMismatch:", error)

fib = lib.fib_sequence(10)
print("fib:", list(fib))
