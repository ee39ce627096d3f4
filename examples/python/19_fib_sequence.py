"""fib_sequence: a Vec<i32> returned zero-copy, freed when Python drops it.

Seed: testing.py declared `restype = POINTER(c_int)`, copied n items out by
index (trusting n) and called `free_int_array` in a `finally`.
"""
import numpy

from _common import expected, library

lib = library()

fib = lib.fib_sequence(10)
print("the first 10 Fibonacci numbers:", list(fib))
# The vector is i32 and numpy can view it without a copy.
view = numpy.asarray(fib)
print("seen from numpy: dtype", view.dtype, "sum", view.sum())
print("46 numbers fit in an i32, the last is", lib.fib_sequence(46)[-1])
with expected(lib.errors.Overflow):
    lib.fib_sequence(47)
