"""return_int, return_string: the Go-from-Python pair, with a local lookup.

ReturnString's DNS lookup is replaced by a local, fallible table: no network.

Seed: the ctypes version declared a GoString struct with a `from_param`
converter; the cffi version kept each `char[]` alive in a weakref
dictionary; neither freed the returned C string.
"""
from _common import expected, library, show

lib = library()

show(lib.return_int(42))
show(lib.return_int(10))
show(lib.return_string("golang.org"))

# An unknown host is an exception, where the seed returned "" and leaked.
with expected(lib.errors.NoSuchHost):
    lib.return_string("nonexistent.invalid")
# The seed's Go int wrapped; here the overflow is an exception too.
with expected(lib.errors.Overflow):
    lib.return_int(2**63 - 1)
