"""fill: a record with string fields, filled in by Rust.

Seed: structs.py declared the struct twice (C and ctypes), encoded each
string, and gave Go a 1000-byte buffer for `full_name` with no size check.
"""
from _common import library

lib = library()

person = lib.fill(lib.Person(first_name="John", last_name="Galt", full_name=""))
print(person.full_name)
print(person)
# Any length fits: there is no caller buffer to overflow.
long = lib.fill(lib.Person(first_name="Ada" * 1000, last_name="Lovelace", full_name=""))
print(len(long.full_name), "characters:", long.full_name[-12:])
