"""Every supported parameter and return type crosses the boundary for real."""

from __future__ import annotations

import array
import ctypes
import gc
import inspect
import math
import sys

import numpy
import pytest

import ffi_export

INTS = {
    "i8": (-(2**7), 2**7 - 1, "b", numpy.int8),
    "i16": (-(2**15), 2**15 - 1, "h", numpy.int16),
    "i32": (-(2**31), 2**31 - 1, "i", numpy.int32),
    "i64": (-(2**63), 2**63 - 1, "q", numpy.int64),
    "u8": (0, 2**8 - 1, "B", numpy.uint8),
    "u16": (0, 2**16 - 1, "H", numpy.uint16),
    "u32": (0, 2**32 - 1, "I", numpy.uint32),
    "u64": (0, 2**64 - 1, "Q", numpy.uint64),
    "isize": (-(2**63), 2**63 - 1, "q", numpy.intp),
    "usize": (0, 2**64 - 1, "Q", numpy.uintp),
}
FLOATS = {"f32": ("f", numpy.float32), "f64": ("d", numpy.float64)}
ALL = list(INTS) + list(FLOATS)


def code_and_dtype(t: str):
    return INTS[t][2:] if t in INTS else FLOATS[t]


@pytest.mark.parametrize("t", list(INTS))
def test_int_extremes_round_trip(lib, t: str) -> None:
    low, high = INTS[t][:2]
    echo = getattr(lib, f"echo_{t}")
    for value in (low, high, 0, 1, high // 3):
        result = echo(value)
        assert result == value and type(result) is int


@pytest.mark.parametrize("t", list(FLOATS))
def test_float_round_trip(lib, t: str) -> None:
    echo = getattr(lib, f"echo_{t}")
    assert echo(1.5) == 1.5 and type(echo(1.5)) is float
    assert echo(2) == 2.0
    assert echo(float("inf")) == float("inf")
    assert math.isnan(echo(float("nan")))
    assert echo(numpy.float32(0.25)) == 0.25


def test_bool_round_trip(lib) -> None:
    assert lib.echo_bool(True) is True
    assert lib.echo_bool(False) is False
    assert lib.echo_bool(numpy.bool_(True)) is True


@pytest.mark.parametrize("t", ALL)
def test_slice_in_from_array_numpy_bytes(lib, t: str) -> None:
    code, dtype = code_and_dtype(t)
    values = [1, 2, 3, 4]
    total = getattr(lib, f"sum_{t}")
    assert total(array.array(code, values)) == 10
    assert total(numpy.array(values, dtype=dtype)) == 10
    assert total(memoryview(array.array(code, values))) == 10
    raw = bytes(array.array(code, values))
    if t == "u8":
        assert total(raw) == 10
    else:  # bytes are u8 items: refused for any other element type
        with pytest.raises(TypeError, match=f"needs a buffer of {t}"):
            total(raw)
    # Read-only buffers are fine for shared slices.
    readonly = numpy.array(values, dtype=dtype)
    readonly.flags.writeable = False
    assert total(readonly) == 10
    # Empty buffers are empty slices (an empty ctypes array too, whose
    # memoryview reports item size 0 on CPython 3.9).
    assert total(array.array(code)) == 0
    assert total(numpy.array([], dtype=dtype)) == 0
    assert total((ffi_export._PRIMS[t].ctype * 0)()) == 0


def test_u8_slice_from_bytes_like(lib) -> None:
    assert lib.sum_u8(b"\x01\x02\x03") == 6
    assert lib.sum_u8(bytearray(b"\x01\x02")) == 3
    assert lib.sum_u8(memoryview(b"\x00\x05\x05")[1:]) == 10
    assert lib.sum_u8(b"") == 0


@pytest.mark.parametrize("t", ALL)
def test_mut_slice_is_written_in_place(lib, t: str) -> None:
    code, dtype = code_and_dtype(t)
    fill = getattr(lib, f"fill_{t}")
    buf = array.array(code, [0, 0, 0])
    assert fill(buf, 7) == 3
    assert list(buf) == [7, 7, 7]
    arr = numpy.zeros(5, dtype=dtype)
    assert fill(arr[1:4], 9) == 3  # a contiguous view writes through
    assert arr.tolist() == [0, 9, 9, 9, 0]


@pytest.mark.parametrize("t", [t for t in ALL if t != "u8"])
def test_vec_return_is_zero_copy_and_sequence_like(lib, t: str) -> None:
    code, dtype = code_and_dtype(t)
    vec = getattr(lib, f"vec_{t}")(5)
    assert len(vec) == 5
    assert list(vec) == [0, 1, 2, 3, 4]
    assert vec[4] == 4
    view = numpy.asarray(vec)
    assert view.dtype == numpy.dtype(dtype)
    assert view.tolist() == [0, 1, 2, 3, 4]
    # Zero-copy: numpy shares the Rust allocation.
    assert view.ctypes.data == ctypes.addressof(vec)
    assert memoryview(vec).nbytes == 5 * numpy.dtype(dtype).itemsize
    assert list(getattr(lib, f"vec_{t}")(0)) == []


def test_vec_u8_return_is_bytes(lib) -> None:
    # Binary data: what a Python user expects for Vec<u8> (copied once).
    assert lib.vec_u8(5) == b"\x00\x01\x02\x03\x04"
    assert type(lib.vec_u8(0)) is bytes and lib.vec_u8(0) == b""
    assert lib.repeat_byte(65, 3) == b"AAA"


def test_vec_lives_as_long_as_numpy_needs_it(lib) -> None:
    view = numpy.asarray(lib.vec_f64(1000))  # the array is only referenced by numpy
    gc.collect()
    assert float(view.sum()) == sum(range(1000))


@pytest.mark.parametrize("t", ALL + ["bool"])
def test_option_scalars(lib, t: str) -> None:
    opt = getattr(lib, f"opt_{t}")
    value = True if t == "bool" else 3
    assert opt(value, True) == value
    assert opt(value, False) is None


def test_bool_slices(lib) -> None:
    flags = numpy.array([True, False, True])
    assert lib.count_true(flags) == 2
    lib.negate_all(flags)
    assert flags.tolist() == [False, True, False]
    assert list(lib.vec_bool(3)) == [True, False, True]
    assert numpy.asarray(lib.vec_bool(4)).dtype == numpy.bool_


def test_strings(lib) -> None:
    assert lib.char_count("héllo wörld 🦀") == 13
    assert lib.reverse("héllo 🦀") == "🦀 olléh"
    assert lib.reverse("") == ""
    assert lib.reverse("a\0b") == "b\0a"  # &str may hold NUL
    assert lib.shout(b"abc") == "ABC"
    assert lib.shout(bytearray(b"x")) == "X"
    assert lib.shout("str too") == "STR TOO"
    assert lib.cstr_len(b"") == 0
    assert lib.make_string(100_000) == "x" * 100_000


def test_option_string_and_vec(lib) -> None:
    assert lib.non_empty("a") == "a"
    assert lib.non_empty("") is None
    assert list(lib.above(array.array("d", [1.0, 5.0, 7.0]), 2.0)) == [1, 2]
    assert lib.above(array.array("d", [1.0]), 2.0) is None


def test_results(lib) -> None:
    assert lib.parse_int(" 42 ") == 42
    assert list(lib.split_numbers("1, 2,3")) == [1, 2, 3]
    assert lib.greet("Ada") == "Hello, Ada!"
    assert lib.maybe(0) is None
    assert lib.maybe(1) == "some"
    assert lib.check_positive(1) is None


def test_several_slices_and_keywords(lib) -> None:
    a = numpy.array([1, 2, 3], dtype=numpy.int32)
    b = array.array("i", [10, 20, 30])
    out = numpy.zeros(3, dtype=numpy.int32)
    assert lib.add_into(a, b, out) is None
    assert out.tolist() == [11, 22, 33]
    assert lib.keyword_params(lambda_=5, from_=2) == 3


def test_renamed_and_nested_exports(lib) -> None:
    assert lib.renamed_export() == 7
    assert lib.nested_answer() == 42
    assert "original_name" not in lib.exports


def test_signature_and_docstring(lib) -> None:
    sig = inspect.signature(lib.add_into)
    assert list(sig.parameters) == ["a", "b", "out"]
    assert list(inspect.signature(lib.keyword_params).parameters) == ["lambda_", "from_"]
    assert lib.parse_int.__doc__.startswith("Parses an integer; the error is `ParseIntError`.")
    assert "fn parse_int(text: &str) -> Result<i64, ParseIntError>" in lib.parse_int.__doc__
    doc = lib.documented.__doc__
    assert 'A second paragraph, with "quotes" and a \\ backslash.' in doc
    assert lib.parse_int.__name__ == "parse_int"
    assert inspect.signature(lib.echo_f64).return_annotation is float


def test_description_lists_every_export(lib) -> None:
    exports = lib.exports
    assert exports["nested_answer"]["module"] == "ffi_export_tests::nested"
    assert exports["make_string"]["free"] == "make_string_free"
    assert exports["echo_i8"]["free"] is None
    assert exports["fill_u16"]["params"][0] == {
        "name": "values", "type": {"kind": "slice", "elem": {"kind": "scalar", "name": "u16"}, "mutable": True}
    }
    # Functions by C name; methods are on their classes (tests/python/test_names.py).
    assert set(dir(lib)) >= {name for name, export in exports.items() if not export["owner"]}


def test_help_shows_the_doc(lib, capsys) -> None:
    help(lib.greet)
    out = capsys.readouterr().out
    assert "Greets; errors with a boxed error on empty names." in out
    assert "greet(name: str)" in out
