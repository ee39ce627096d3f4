"""factorial: i32-sized; an overflow is an error instead of a wrap.

Seed: testing.py declared `argtypes = [c_int]` and `restype = c_int`; the
Go code multiplied C ints that silently wrapped past 12!.
"""
from _common import expected, library

lib = library()

n = 10
print(f"The factorial of {n} is {lib.factorial(n)} {type(lib.factorial(n))}")
print("12! =", lib.factorial(12))
with expected(lib.errors.Overflow):
    lib.factorial(13)  # 6227020800 does not fit in an i32
with expected(OverflowError):
    lib.factorial(-1)  # the parameter is a u32
