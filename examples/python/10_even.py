"""even: Result<bool, NegativeNumber> becomes a typed exception.

Seed: error.py declared an Error struct and an EvenResult struct, freed the
error string from `__del__`, and raised IOError by hand.
"""
from _common import expected, library

lib = library()

for i in (0, 1, 2, 3):
    print(i, "even:", lib.even(i))
with expected(lib.errors.NegativeNumber):
    lib.even(-5)
