"""apply: a Python callback borrowed by Rust; its exception comes back as is.

(No seed program: the seeds' only callback was sqrts' allocator.)
"""
from array import array

from _common import expected, library

lib = library()

values = array("d", [1, 2, 3])
lib.apply(values, lambda x: x * 10 + 1)
print("x * 10 + 1 applied in place:", values.tolist())


def picky(x):
    if x > 2:
        raise KeyError(f"{x} is too big")
    return x


# The callback's own exception propagates through Rust, unchanged.
with expected(KeyError):
    lib.apply(array("d", [1, 2, 3]), picky)
