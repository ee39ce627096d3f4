"""sqrts: outputs Python allocates and owns, through the caller's allocator.

Seed: alloc.py declared a CFUNCTYPE allocator, kept every array alive in a
global list by hand, and decoded the text from a byte array; Go needed a C
trampoline and `unsafe.Slice` casts.
"""
from _common import library

lib = library()

# The outputs come back in allocation order: the text, then the array.
header, roots = lib.sqrts(5)
print(header, roots.tolist())

# The same outputs as numpy arrays, or from any allocation function.
header, roots = lib.sqrts(3, alloc="numpy")
print(header, roots.tolist(), f"(a numpy {type(roots).__name__})")
