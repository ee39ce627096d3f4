"""Bad input gets a clear exception and leaves the process healthy."""

from __future__ import annotations

import array
import ctypes

import numpy
import pytest

import ffi_export

INT_LIMITS = {
    "i8": (-(2**7), 2**7 - 1), "i16": (-(2**15), 2**15 - 1), "i32": (-(2**31), 2**31 - 1),
    "i64": (-(2**63), 2**63 - 1), "u8": (0, 2**8 - 1), "u16": (0, 2**16 - 1),
    "u32": (0, 2**32 - 1), "u64": (0, 2**64 - 1), "isize": (-(2**63), 2**63 - 1),
    "usize": (0, 2**64 - 1),
}


@pytest.mark.parametrize("t", list(INT_LIMITS))
def test_ints_out_of_range_raise_overflow_at_both_ends(lib, t: str) -> None:
    low, high = INT_LIMITS[t]
    echo = getattr(lib, f"echo_{t}")
    for bad in (low - 1, high + 1, low - 2**70, high + 2**70):
        with pytest.raises(OverflowError, match=f"argument 'value' \\({t}\\) must be in {low}..={high}"):
            echo(bad)


@pytest.mark.parametrize("t", list(INT_LIMITS))
def test_ints_refuse_other_types(lib, t: str) -> None:
    echo = getattr(lib, f"echo_{t}")
    for bad in (1.0, "1", b"1", None, [1], 1j):
        with pytest.raises(TypeError, match=f"argument 'value' \\({t}\\) must be an int"):
            echo(bad)
    assert echo(numpy.int16(5)) == 5  # __index__ objects are ints
    assert echo(True) == 1  # bool is an int in Python


@pytest.mark.parametrize("t", ["f32", "f64"])
def test_floats_refuse_other_types(lib, t: str) -> None:
    echo = getattr(lib, f"echo_{t}")
    for bad in ("1.5", b"1", None, 1j, [1.0]):
        with pytest.raises(TypeError, match=f"argument 'value' \\({t}\\) must be a float"):
            echo(bad)
    with pytest.raises(OverflowError):
        echo(10**400)


def test_f32_refuses_finite_values_out_of_range(lib) -> None:
    with pytest.raises(OverflowError, match="out of f32 range"):
        lib.echo_f32(1e39)
    with pytest.raises(OverflowError):
        lib.echo_f32(-1e39)
    assert lib.echo_f32(float("-inf")) == float("-inf")


def test_bool_refuses_ints_and_strings(lib) -> None:
    for bad in (1, 0, "True", None, 1.0):
        with pytest.raises(TypeError, match="argument 'value' \\(bool\\) must be a bool"):
            lib.echo_bool(bad)


def test_str_refuses_non_str_and_unencodable(lib) -> None:
    for bad in (b"abc", None, 3, bytearray(b"x")):
        with pytest.raises(TypeError, match="argument 'text' \\(&str\\) must be a str"):
            lib.reverse(bad)
    with pytest.raises(UnicodeEncodeError):
        lib.reverse("lone surrogate \ud800")


def test_cstr_refuses_embedded_nul_and_non_bytes(lib) -> None:
    with pytest.raises(ValueError, match="contains a NUL byte at index 1"):
        lib.shout(b"a\0b")
    with pytest.raises(TypeError, match="must be bytes-like or str"):
        lib.shout(12)


def test_wrong_dtype_names_both_types(lib) -> None:
    with pytest.raises(TypeError, match=r"argument 'values' \(&\[f64\]\) needs a buffer of f64, got f32"):
        lib.sum_f64(numpy.zeros(3, dtype=numpy.float32))
    with pytest.raises(TypeError, match=r"needs a buffer of i64, got u64"):
        lib.sum_i64(array.array("Q", [1]))
    with pytest.raises(TypeError, match=r"needs a buffer of i32, got i64"):
        lib.sum_i32(numpy.arange(3))
    with pytest.raises(TypeError, match=r"needs a buffer of u8, got i8"):
        lib.sum_u8(array.array("b", [1]))
    with pytest.raises(TypeError, match=r"needs a buffer of f64"):
        lib.sum_f64(numpy.array(["a"], dtype=object))
    with pytest.raises(TypeError, match=r"needs a buffer of bool, got u8"):
        lib.count_true(b"\x01")


def test_non_native_byte_order_is_refused(lib) -> None:
    swapped = numpy.arange(3, dtype=numpy.int64).astype(">i8")
    with pytest.raises(TypeError, match="needs a buffer of i64"):
        lib.sum_i64(swapped)


def test_non_buffers_are_refused(lib) -> None:
    for bad in (None, "abc", 3.0, b"\0" * 8):
        with pytest.raises(TypeError, match=r"must be a buffer .* of f64|needs a buffer of f64"):
            lib.sum_f64(bad)


def test_sequences_of_numbers_are_copied_into_read_only_slices(lib) -> None:
    assert lib.sum_f64([1.0, 2.0]) == 3.0
    assert lib.sum_f64((1.0,)) == 1.0
    assert lib.sum_f64(x / 2 for x in range(4)) == 3.0
    assert lib.sum_f64([]) == 0.0
    assert lib.sum_i32([1, 2, -3]) == 0
    # Not for `&mut`: Rust writes in place, so the caller needs the buffer.
    values = [1.0, 2.0]
    with pytest.raises(TypeError, match=r"must be a writable buffer, not list: Rust writes into it in place"):
        lib.fill_f64(values, 2.0)
    assert values == [1.0, 2.0]


def test_non_contiguous_buffers_are_refused(lib) -> None:
    strided = numpy.arange(10, dtype=numpy.float64)[::2]
    with pytest.raises(BufferError, match="C-contiguous"):
        lib.sum_f64(strided)
    with pytest.raises(BufferError, match="C-contiguous"):
        lib.fill_f64(numpy.zeros((3, 3)).T, 1.0)
    with pytest.raises(BufferError):
        lib.sum_u8(memoryview(b"abcdef")[::2])


def test_read_only_buffers_are_refused_for_mut(lib) -> None:
    frozen = numpy.zeros(3)
    frozen.flags.writeable = False
    with pytest.raises(BufferError, match="must be writable"):
        lib.fill_f64(frozen, 1.0)
    with pytest.raises(BufferError, match="must be writable"):
        lib.fill_u8(b"abc", 1)
    with pytest.raises(BufferError, match="must be writable"):
        lib.fill_u8(memoryview(bytearray(3)).toreadonly(), 1)
    assert frozen.tolist() == [0.0, 0.0, 0.0]


def test_overlapping_mutable_buffers_are_refused(lib) -> None:
    data = numpy.arange(6, dtype=numpy.int32)
    with pytest.raises(ffi_export.InvalidArgument, match="overlaps argument"):
        lib.add_into(data[:3], data[2:5], data[1:4])
    with pytest.raises(ffi_export.InvalidArgument, match="overlaps"):
        lib.add_into(data[:3], data[3:], data[:3])
    assert data.tolist() == [0, 1, 2, 3, 4, 5]  # nothing was written
    # Disjoint views of one array are fine.
    lib.add_into(data[:2], data[2:4], data[4:6])
    assert data.tolist() == [0, 1, 2, 3, 2, 4]


def test_misaligned_buffers_are_refused(lib) -> None:
    raw = bytearray(8 * 5)
    misaligned = memoryview(raw)[1:33].cast("d")
    with pytest.raises(ffi_export.InvalidArgument, match="not aligned"):
        lib.sum_f64(misaligned)


def test_bytearray_cannot_be_resized_during_borrow(lib) -> None:
    # The helper holds a buffer export for the duration of the call; after it
    # the bytearray is free again.
    data = bytearray(b"\x01\x02")
    assert lib.sum_u8(data) == 3
    data.extend(b"\x03")
    assert lib.sum_u8(data) == 6


def test_wrong_arity_and_unknown_names(lib) -> None:
    with pytest.raises(TypeError):
        lib.echo_i8()
    with pytest.raises(TypeError):
        lib.echo_i8(1, 2)
    with pytest.raises(TypeError):
        lib.echo_i8(nope=1)
    with pytest.raises(AttributeError, match="exports no function 'nope'"):
        lib.nope


def test_raw_c_calls_with_bad_pointers_are_errors_not_crashes(lib) -> None:
    """Through the raw C ABI: NULL with a length, invalid UTF-8, bool 2."""
    cdll = lib._cdll
    faults = ctypes.c_uint64.in_dll(cdll, "FFI_EXPORT_FAULTS")

    def last_error():
        err = ffi_export._FfiError()
        assert cdll.ffi_export_error_take(ctypes.byref(err))
        message = ctypes.string_at(err.message.ptr, err.message.len).decode()
        code = err.code
        cdll.ffi_export_error_free(ctypes.byref(err))
        cdll.ffi_export_error_free(ctypes.byref(err))  # second free is a no-op
        return code, message

    sum_f64 = cdll.sum_f64
    sum_f64.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    sum_f64.restype = ctypes.c_double
    before = faults.value
    assert sum_f64(None, 3) == 0.0
    assert faults.value == before + 1
    assert last_error() == (3, "argument `values`: NULL pointer with length 3")
    assert sum_f64(None, 0) == 0.0  # NULL + 0 is the empty slice
    assert not cdll.ffi_export_error_take(None)

    char_count = cdll.char_count
    char_count.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    char_count.restype = ctypes.c_size_t
    assert char_count(b"ok\xff", 3) == 0
    code, message = last_error()
    assert code == 3 and "invalid UTF-8" in message
    assert char_count(None, 1) == 0
    assert "NULL pointer" in last_error()[1]

    shout = cdll.shout
    shout.argtypes = [ctypes.c_char_p]
    shout.restype = ffi_export._FfiBuffer
    result = shout(None)
    assert result.ptr is None
    assert last_error() == (3, "argument `text`: NULL pointer")

    echo_bool = cdll.echo_bool
    echo_bool.argtypes = [ctypes.c_uint8]
    echo_bool.restype = ctypes.c_bool
    assert echo_bool(2) is False
    assert last_error() == (3, "argument `value`: 2 is not a bool (0 or 1)")

    count_true = cdll.count_true
    count_true.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    count_true.restype = ctypes.c_size_t
    assert count_true(b"\x01\x07", 2) == 0
    assert "not valid `bool`" in last_error()[1]

    # Paired frees accept NULL and a struct freed twice.
    free = cdll.make_string_free
    free.argtypes = [ctypes.POINTER(ffi_export._FfiBuffer)]
    free.restype = None
    free(None)
    make = cdll.make_string
    make.argtypes = [ctypes.c_size_t]
    make.restype = ffi_export._FfiBuffer
    buf = make(3)
    assert ctypes.string_at(buf.ptr) == b"xxx"  # NUL-terminated for C
    free(buf)
    assert buf.ptr is None
    free(buf)
