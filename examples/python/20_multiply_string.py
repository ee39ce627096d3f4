"""multiply_string: a Vec<String> returned as a list[str].

Seed: Go malloc'ed a `char**` with pointer arithmetic, and Python copied
each `c_char_p` out and called `free_string_array(ptr, count)`.
"""
from _common import library, show

lib = library()

show(lib.multiply_string("Hello", 5))
show(lib.multiply_string("héllo wörld", 2))
show(lib.multiply_string("nothing", 0))
