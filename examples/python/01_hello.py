"""hello: no arguments, prints from native code.

Seed: hello.py loaded the library by path and called `lib.hello()`; the
same program is the second seed's "Hello world print" and the third's
`Greeting`.
"""
import sys

from _common import library

lib = library()
sys.stdout.flush()  # Rust writes to the same stdout; keep the order
lib.hello()
