"""apply: a Python callback borrowed by Rust; its exception comes back as is.

(No seed program: the seeds' only callback was sqrts' allocator.)
"""
from array import array

from _common import library

lib = library()

values = array("d", [1, 2, 3])
lib.apply(values, lambda x: x * 10 + 1)
print("applied:", values.tolist())


def picky(x):
    if x > 2:
        raise KeyError(f"{x} is too big")
    return x


try:
    lib.apply(array("d", [1, 2, 3]), picky)
except KeyError as error:
    print("KeyError from the callback:", error)
