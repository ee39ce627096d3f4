"""mask: a websocket XOR mask in place over 64 KiB and 256 KiB buffers.

Checked against pure Python; timing it is the benchmarks' job.

Seed: the Python side passed `(c_ubyte * n).from_buffer(data)` and a
`c_int` length to a Go function that trusted both.
"""
from _common import expected, library

lib = library()

KEY = bytes([0x37, 0xFA, 0x21, 0x3D])  # the masking key, as a frame carries it


def mask_python(data: bytes, key: bytes) -> bytes:
    """The same XOR, done on Python big integers."""
    n = len(data)
    keystream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(keystream, "big")).to_bytes(n, "big")


for kib in (64, 256):
    original = (b"HelloWorld" * (kib * 1024 // 10 + 1))[: kib * 1024]
    data = bytearray(original)
    lib.mask(data, int.from_bytes(KEY, "big"))  # in place, zero-copy
    print(f"{kib} KiB: first bytes {data[:8].hex()}, same as pure Python:", data == mask_python(original, KEY))
    lib.mask(data, int.from_bytes(KEY, "big"))
    print(f"{kib} KiB: masked twice is the original:", data == original)

# Masking the payload of a frame in place, through a memoryview slice.
frame = bytearray(b"\x81\x85" + KEY + b"Hello")
payload = memoryview(frame)[6:]
lib.mask(payload, int.from_bytes(KEY, "big"))
print("masked frame:", frame.hex())
lib.mask(payload, int.from_bytes(frame[2:6], "big"))
print("unmasked payload:", bytes(payload).decode())
payload.release()

# bytes are immutable: refused rather than written through.
with expected(BufferError):
    lib.mask(b"Hello", 1)
