"""divide: a panic becomes ffi_export.RustPanic; the process lives on.

(No seed program: a Go panic or a C crash in the seeds took the Python
process down with it.)
"""
from _common import ffi_export, library

lib = library()
print("7 / 2 =", lib.divide(7, 2))
try:
    lib.divide(1, 0)
except ffi_export.RustPanic as error:
    print("RustPanic:", error)
print("still alive: 9 / 3 =", lib.divide(9, 3))
