"""`#[export(batch)]`: `f.map(...)` gives exactly what per-element calls give."""

from __future__ import annotations

import array

import numpy
import pytest

import ffi_export


def test_map_equals_per_call_results(lib) -> None:
    rng = numpy.random.default_rng(7)
    a = rng.integers(-(2**30), 2**30, size=2000, dtype=numpy.int32)
    b = rng.integers(-(2**30), 2**30, size=2000, dtype=numpy.int32)
    batched = lib.checked_add.map(a, b)
    assert batched.dtype == numpy.int32
    assert batched.tolist() == [lib.checked_add(int(x), int(y)) for x, y in zip(a, b)]
    x = rng.normal(size=500)
    assert lib.scale_by.map(x, 3.5).tolist() == [lib.scale_by(float(v), 3.5) for v in x]
    n = numpy.arange(-50, 50, dtype=numpy.int64)
    n = n[n != 13]
    assert lib.is_even.map(n).tolist() == [lib.is_even(int(v)) for v in n]


def test_map_broadcasts_single_values_and_accepts_array_array(lib) -> None:
    assert lib.checked_add.map(numpy.arange(4, dtype=numpy.int32), 10).tolist() == [10, 11, 12, 13]
    assert lib.checked_add.map(7, numpy.arange(3, dtype=numpy.int32)).tolist() == [7, 8, 9]
    out = lib.checked_add.map(array.array("i", [1, 2]), array.array("i", [3, 4]))
    assert isinstance(out, array.array) and out.tolist() == [4, 6]
    assert lib.checked_add.map(1, 2).tolist() == [3]
    assert len(lib.scale_by.map(numpy.array([], dtype=numpy.float64), 2.0)) == 0


def test_map_errors_name_the_element(lib) -> None:
    a = numpy.array([1, 2, 2**31 - 1, 4], dtype=numpy.int32)
    # The loop with a single value broadcast, and the loop over arrays only.
    with pytest.raises(lib.errors.Error, match=r"^element 2: 2147483647 \+ 1 overflows$"):
        lib.checked_add.map(a, 1)
    with pytest.raises(lib.errors.Error, match=r"^element 2: 1 \+ 2147483647 overflows$"):
        lib.checked_add.map(1, a)
    with pytest.raises(lib.errors.Error, match=r"^element 2: 2147483647 \+ 1 overflows$"):
        lib.checked_add.map(a, numpy.ones(4, dtype=numpy.int32))
    with pytest.raises(ffi_export.RustPanic, match="^element 13: .*unlucky 13"):
        lib.is_even.map(numpy.arange(20))
    with pytest.raises(ffi_export.RustPanic, match="^element 0: .*unlucky 13"):
        lib.is_even.map(13)
    assert lib.is_even.map(numpy.arange(4)).tolist() == [True, False, True, False]


def test_map_checks_its_inputs(lib) -> None:
    with pytest.raises(ValueError, match="has 3 elements, the others 4"):
        lib.checked_add.map(numpy.arange(4, dtype=numpy.int32), numpy.arange(3, dtype=numpy.int32))
    with pytest.raises(TypeError, match=r"needs a buffer of i32, got i64"):
        lib.checked_add.map(numpy.arange(4), 1)
    with pytest.raises(OverflowError, match=r"argument 'b' \(i32\) must be in"):
        lib.checked_add.map(numpy.arange(4, dtype=numpy.int32), 2**40)
    with pytest.raises(TypeError, match="takes 2 arguments"):
        lib.checked_add.map(numpy.arange(4, dtype=numpy.int32))
    assert not hasattr(lib.echo_i32, "map")  # only #[export(batch)] functions have it


def test_raw_batch_export_checks_steps(lib) -> None:
    import ctypes
    raw = lib._cdll["scale_by_batch"]
    raw.argtypes = [ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    raw.restype = ctypes.c_size_t
    values = (ctypes.c_double * 3)(1, 2, 3)
    factor = ctypes.c_double(2)
    out = (ctypes.c_double * 3)()
    assert raw(3, ctypes.addressof(values), 1, ctypes.addressof(factor), 0, ctypes.addressof(out)) == 3
    assert list(out) == [2.0, 4.0, 6.0]
    assert raw(3, ctypes.addressof(values), 2, ctypes.addressof(factor), 0, ctypes.addressof(out)) == 0
    assert raw(3, ctypes.addressof(values), 1, ctypes.addressof(factor), 0, ctypes.addressof(values)) == 0
    assert raw(3, None, 1, ctypes.addressof(factor), 0, ctypes.addressof(out)) == 0
    error = ffi_export._FfiError()
    assert lib._cdll.ffi_export_error_take(ctypes.byref(error))
    lib._cdll.ffi_export_error_free(ctypes.byref(error))
