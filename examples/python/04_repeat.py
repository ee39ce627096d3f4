"""repeat: a str in, an owned String out, freed by the helper."""
from _common import library

lib = library()
print("Badger * 4 =", lib.repeat("Badger", 4))
print("Snake * 5 =", lib.repeat("Snake", 5))
