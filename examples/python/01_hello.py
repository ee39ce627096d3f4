"""hello: no arguments, prints from native code.

Seed: hello.py loaded the library by path and called `lib.hello()`; the
same program is the second seed's "Hello world print" and the third's
`Greeting`.
"""
from _common import library

lib = library()
# Rust writes to the same stdout, after this line's start: flush it first.
print("lib.hello() prints, from Rust:", end=" ", flush=True)
lib.hello()
