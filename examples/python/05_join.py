"""join: a list[str] in.

Seed: join.py built a NULL-terminated `char*[]` of encoded strings by hand
(a Stack Overflow snippet), and Go scanned it for the NULL.
"""
from _common import library

lib = library()

print(lib.join(["snake", "gopher", "crab"], " + "))
print(lib.join(["Hello", "world!"], " "))
print(repr(lib.join([], ", ")))
# Any iterable of str works; anything else is refused with the item named.
print(lib.join((word.upper() for word in ["a", "b", "c"]), "-"))
try:
    lib.join(["one", 2], ", ")
except TypeError as error:
    print("TypeError:", error)
