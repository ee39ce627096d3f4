"""Tally: an object with methods, behind a checked handle, closed by `with`.

The state is freed at the end of the `with`. (No seed program.)
"""
from _common import library

lib = library()

with lib.Tally() as tally:
    print("mean of nothing:", tally.mean())
    for value in (3, 4, 8):
        print("running total:", tally.add(value))
    print("mean:", tally.mean())
    try:
        tally.add(2**63 - 1)
    except lib.errors.Error as error:
        print("Error:", error)
try:
    tally.add(1)
except ValueError as error:
    print("ValueError:", error)
