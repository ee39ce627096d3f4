"""Tally: an object with methods, behind a checked handle, closed by `with`.

The state is freed at the end of the `with`. (No seed program.)
"""
from _common import expected, library

lib = library()

with lib.Tally() as tally:
    print("mean of nothing:", tally.mean())
    for value in (3, 4, 8):
        print("running total:", tally.add(value))
    print("mean:", tally.mean())
    with expected(lib.errors.Error):
        tally.add(2**63 - 1)
# Closed at the end of the `with`: a call is refused, nothing freed is read.
with expected(ValueError):
    tally.add(1)
