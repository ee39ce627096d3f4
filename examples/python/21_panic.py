"""divide: a panic becomes ffi_export.RustPanic; the process lives on.

(No seed program: a Go panic or a C crash in the seeds took the Python
process down with it.)
"""
from _common import expected, ffi_export, library

lib = library()
print("7 / 2 =", lib.divide(7, 2))
with expected(ffi_export.RustPanic):
    lib.divide(1, 0)
print("still alive: 9 / 3 =", lib.divide(9, 3))
