"""Lists of strings in and out, freed for you."""
from _common import library

lib = library()
print(lib.greet_string("Kieran"))
print(lib.join(["snake", "gopher", "crab"], " + "))
for line in lib.multiply_string("hello", 3):
    print(line)
