"""hello: no arguments, prints from native code."""
import sys

from _common import library

lib = library()
sys.stdout.flush()  # Rust writes to the same stdout; keep the order
lib.hello()
