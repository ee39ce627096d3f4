"""even: Result<bool, NegativeNumber> becomes a typed exception."""
from _common import library

lib = library()
for n in (4, 7):
    print(f"even({n}) =", lib.even(n))
try:
    lib.even(-3)
except lib.errors.NegativeNumber as error:
    print("NegativeNumber:", error)
