"""factorial: i32-sized; an overflow is an error instead of a wrap.

Seed: testing.py declared `argtypes = [c_int]` and `restype = c_int`; the
Go code multiplied C ints that silently wrapped past 12!.
"""
from _common import library

lib = library()

n = 10
print(f"The factorial of {n} is {lib.factorial(n)} {type(lib.factorial(n))}")
print("12! =", lib.factorial(12))
try:
    lib.factorial(13)  # 6227020800 does not fit in an i32
except lib.errors.Overflow as error:
    print("Overflow:", error)
try:
    lib.factorial(-1)  # the parameter is a u32
except OverflowError as error:
    print("OverflowError:", error)
