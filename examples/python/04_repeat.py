"""repeat: an owned String out; repeat_into: a caller's buffer, size checked.

Seed: string.py encoded to bytes, made a 1000-byte buffer, and trusted Go to
stay inside it and write a NUL.
"""
from _common import expected, library

lib = library()

print("Badger * 4 =", lib.repeat("Badger", 4))
print("Snake * 5 =", lib.repeat("Snake", 5))

# The seed's way, made safe: a reusable buffer Python owns. Rust returns how
# many bytes it wrote, so no NUL terminator is needed.
buf = bytearray(1000)
n = lib.repeat_into("Badger", 4, buf)
print("into the buffer: Badger * 4 =", buf[:n].decode(), f"({n} bytes)")
n = lib.repeat_into("Snake", 5, buf)
print("into the buffer: Snake * 5 =", buf[:n].decode(), f"({n} bytes)")

# Too big for the buffer: refused before anything is written.
with expected(lib.errors.BufferTooSmall):
    lib.repeat_into("Badger", 1000, buf)
print("buffer unchanged:", buf[:n].decode())
