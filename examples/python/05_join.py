"""join: a list[str] in.

Seed: join.py built a NULL-terminated `char*[]` of encoded strings by hand
(a Stack Overflow snippet), and Go scanned it for the NULL.
"""
from _common import expected, library, show

lib = library()

show(lib.join(["snake", "gopher", "crab"], " + "))
show(lib.join(["Hello", "world!"], " "))
show(lib.join([], ", "))
# Any iterable of str works; anything else is refused with the item named.
show(lib.join((word.upper() for word in "abc"), "-"))
with expected(TypeError):
    lib.join(["one", 2], ", ")
