"""return_int, return_string: the Go-from-Python pair, with a local lookup.

ReturnString's DNS lookup is replaced by a local, fallible table: no network.

Seed: the ctypes version declared a GoString struct with a `from_param`
converter; the cffi version kept each `char[]` alive in a weakref
dictionary; neither freed the returned C string.
"""
from _common import library

lib = library()

print(lib.return_int(42))  # 45
print(lib.return_int(10))  # 13
print(lib.return_string("golang.org"))  # golang.org.

# An unknown host is an exception, where the seed returned "" and leaked.
try:
    lib.return_string("nonexistent.invalid")
except lib.errors.NoSuchHost as error:
    print("NoSuchHost:", error)
# The seed's Go int wrapped; here the overflow is an exception too.
try:
    lib.return_int(2**63 - 1)
except lib.errors.Overflow as error:
    print("Overflow:", error)
