"""What differs between the interpreters the one built library runs under
(run by each of them: scripts/interpreters.sh puts this file in the core
suites). Every difference is asserted, so a change in either direction
fails here and the README's "Interpreters" section is updated with it."""

from __future__ import annotations

import ctypes
import gc
import os
import subprocess
import sys

from conftest import library_path
from paths import FAST_PATH_EXPECTED, uses_fast_path
from test_memory import MiB

import ffi_export

PYPY = sys.implementation.name == "pypy"


def test_the_fast_path_is_on_exactly_where_expected(lib) -> None:
    # CPython 3.9+ (through PyObject_VectorcallDict); PyPy: ctypes.
    assert uses_fast_path(lib) == FAST_PATH_EXPECTED
    assert FAST_PATH_EXPECTED == (not PYPY)


def test_a_returned_vec_is_zero_copy_on_cpython_and_a_copy_on_pypy(lib) -> None:
    vec = lib.vec_f64(4)
    assert list(vec) == [0.0, 1.0, 2.0, 3.0]
    # CPython: the array is the Rust buffer, freed with the array's owner.
    # PyPy: a buffer taken from a ctypes array does not keep the array
    # alive there, so the values are copied and the Rust buffer freed at once.
    assert hasattr(vec, "_ffi_export_owner") == (not PYPY)
    # The heap counter is the whole library's: threads earlier tests left
    # running (executors, publishers) allocate meanwhile, so compare within
    # 64 KiB of the 800,000 bytes the Vec holds.
    slack = 64 * 1024
    heap = lib.heap_live_bytes()
    kept = lib.vec_f64(100_000)
    held = lib.heap_live_bytes() - heap
    assert abs(held - (0 if PYPY else 800_000)) < slack, held
    del kept
    gc.collect()
    assert abs(lib.heap_live_bytes() - heap) < slack


def test_a_read_only_buffer_is_lent_on_cpython_and_copied_on_pypy(lib) -> None:
    data = b"\x01\x02\x03"
    view = memoryview(data)
    address, keepalive = ffi_export._readonly_buffer(view)
    assert (keepalive is view) == (not PYPY)
    assert ctypes.string_at(address, 3) == data
    assert lib.sum_u8(data) == 6


def test_the_helper_needs_no_c_api(lib) -> None:
    # The ctypes path works without ctypes.pythonapi (PyPy has none).
    assert (ffi_export._PYTHONAPI is None) == PYPY
    assert ffi_export.load(library_path("ffi_export_tests")).join_strings(["a", "b"], "-") == "a-b"


LDIV_LOOP = """
import ctypes, gc
class LDiv(ctypes.Structure):
    _fields_ = [("quot", ctypes.c_long), ("rem", ctypes.c_long)]
ldiv = ctypes.CDLL(None).ldiv
ldiv.argtypes, ldiv.restype = [ctypes.c_long, ctypes.c_long], LDiv
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * %d
def loop():
    for _ in range(200_000):
        assert ldiv(7, 2).rem == 1
loop()
gc.collect()
before = rss()
for _ in range(3):
    loop()
gc.collect()
print(rss() - before)
"""


def test_pypys_ctypes_leaks_every_struct_returned_by_value() -> None:
    """Why the leak tests measure the Rust heap on PyPy, not RSS: PyPy's
    ctypes (7.3.11, Debian's) keeps 32 bytes per 16-byte struct a foreign
    function returns by value, for good — libc's ``ldiv`` in a fresh
    process, no ffi-export involved (600,000 calls: ~18 MiB on PyPy)."""
    code = LDIV_LOOP % os.sysconf("SC_PAGE_SIZE")
    grown = int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                               text=True, timeout=300).stdout)
    if PYPY:
        assert grown > 12 * MiB, grown
    else:
        assert grown < 1 * MiB, grown
