"""greet_string: an owned string returned from Rust and freed by the helper.

Seed: testing.py called `free_string` by hand, then tried an `EvilString`
wrapper whose `__del__` freed the memory while the string was still in use,
so the second greeting crashed the interpreter without a traceback.
"""
from _common import library

lib = library()

result = lib.greet_string("Kieran")
print(f"The result is: {result}")

# The seed's crashing line: the result is a plain str, already freed in
# Rust and owned by Python.
result2: str = str(lib.greet_string("Kieran2"))
print(f"The result is: {result2}")
