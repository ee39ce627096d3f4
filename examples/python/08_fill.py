"""fill: a record with string fields, filled in by Rust.

Seed: structs.py declared the struct twice (C and ctypes), encoded each
string, and gave Go a 1000-byte buffer for `full_name` with no size check.
"""
from _common import library, show

lib = library()

person = lib.fill(lib.Person(first_name="John", last_name="Galt", full_name=""))
show(person.full_name)
print("the whole record:", person)
# Any length fits: there is no caller buffer to overflow.
long = lib.fill(lib.Person(first_name="Ada" * 1000, last_name="Lovelace", full_name=""))
print(f"a first name of 3000 letters: full_name has {len(long.full_name)}, ends {long.full_name[-12:]!r}")
