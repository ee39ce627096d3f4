"""The two ways the helper calls an export: the CPython fast path (exact
``int``/``float``/``bool``/``str``/buffer arguments, handled natively) and
the ctypes wrapper (everything else, and all calls with
``FFI_EXPORT_NO_FAST=1``). ``any_lib`` runs a test against both: the test
library loaded normally, and loaded a second time with the fast path off
(``ffi_export.Library`` reads the variable at load time)."""

from __future__ import annotations

import os
import sys

import pytest

import ffi_export
from conftest import library_path


def load_without_fast_path() -> ffi_export.Library:
    saved = os.environ.get("FFI_EXPORT_NO_FAST")
    os.environ["FFI_EXPORT_NO_FAST"] = "1"
    try:
        return ffi_export.Library(library_path("ffi_export_tests"))  # a fresh instance, not load()'s cached one
    finally:
        if saved is None:
            del os.environ["FFI_EXPORT_NO_FAST"]
        else:
            os.environ["FFI_EXPORT_NO_FAST"] = saved


#: Where the native fast path is on: CPython 3.9 and later (regular builds);
#: PyPy has no CPython C API to call, so every call there takes the ctypes
#: path (a tested difference).
FAST_PATH_EXPECTED = sys.implementation.name == "cpython"

_NOFAST: list[ffi_export.Library] = []


@pytest.fixture(scope="session", params=["fast", "ctypes"])
def any_lib(request, lib) -> ffi_export.Library:
    """The test library through the fast path, then through ctypes only."""
    if request.param == "fast":
        return lib
    if not _NOFAST:
        _NOFAST.append(load_without_fast_path())
    return _NOFAST[0]


def uses_fast_path(library: ffi_export.Library) -> bool:
    """Whether the library's exact-type calls take the native fast path."""
    return is_native(library.echo_i64)


def is_native(function: object) -> bool:
    """Whether ``function`` is the fast path's native function object."""
    return type(function).__name__ == "native_function"
