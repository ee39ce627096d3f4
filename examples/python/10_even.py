"""even: Result<bool, NegativeNumber> becomes a typed exception.

Seed: error.py declared an Error struct and an EvenResult struct, freed the
error string from `__del__`, and raised IOError by hand.
"""
from _common import library

lib = library()

for i in (0, 1, 2, 3, -5):
    try:
        result = lib.even(i)
    except lib.errors.NegativeNumber as err:
        print("Error:", err)
        continue
    print(i, "even:", result)
