"""Property tests (hypothesis): round trips of arbitrary values through the
boundary, on the fast path and on the ctypes path — arbitrary Unicode
strings, arbitrary-length arrays of every element type, and records, enums
with data and recursive records with arbitrary fields."""

from __future__ import annotations

import math

import numpy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ffi_export
from paths import FAST_PATH_EXPECTED, any_lib, uses_fast_path  # noqa: F401 (fixture)

settings.register_profile(
    "ffi-export", database=None, deadline=None, max_examples=150, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("ffi-export")

# str without lone surrogates (those cannot be UTF-8: tested separately).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=200)

INTS = {
    "i8": (8, True), "i16": (16, True), "i32": (32, True), "i64": (64, True),
    "u8": (8, False), "u16": (16, False), "u32": (32, False), "u64": (64, False),
    "isize": (64, True), "usize": (64, False),
}
DTYPES = {
    "i8": numpy.int8, "i16": numpy.int16, "i32": numpy.int32, "i64": numpy.int64,
    "u8": numpy.uint8, "u16": numpy.uint16, "u32": numpy.uint32, "u64": numpy.uint64,
    "isize": numpy.intp, "usize": numpy.uintp, "f32": numpy.float32, "f64": numpy.float64,
}


def int_range(t: str) -> tuple[int, int]:
    bits, signed = INTS[t]
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)


def wrap(value: int, t: str) -> int:
    bits, signed = INTS[t]
    value %= 2**bits
    return value - 2**bits if signed and value >= 2 ** (bits - 1) else value


def test_both_paths_are_really_used(any_lib, request) -> None:
    assert uses_fast_path(any_lib) == (request.node.callspec.params["any_lib"] == "fast" and FAST_PATH_EXPECTED)


# ---------------------------------------------------------------------------
# Strings


@given(text=TEXT)
def test_str_round_trips(any_lib, text: str) -> None:
    assert any_lib.reverse(text) == text[::-1]
    assert any_lib.char_count(text) == len(text)
    assert any_lib.non_empty(text) == (text or None)
    assert any_lib.split_words(text) == _rust_split_whitespace(text)


@given(words=st.lists(TEXT, max_size=12), separator=TEXT)
def test_str_lists_round_trip(any_lib, words: list[str], separator: str) -> None:
    assert any_lib.join(words, separator) == separator.join(words)


@given(text=TEXT, index=st.integers(0, 200))
def test_lone_surrogates_are_refused(any_lib, text: str, index: int) -> None:
    index = min(index, len(text))
    bad = text[:index] + "\udc80" + text[index:]
    with pytest.raises(UnicodeEncodeError):
        any_lib.reverse(bad)


@given(data=st.binary(max_size=200))
def test_cstr_takes_any_bytes_without_nul(any_lib, data: bytes) -> None:
    if b"\0" in data:
        with pytest.raises(ValueError, match=f"NUL byte at index {data.index(0)}"):
            any_lib.cstr_len(data)
    else:
        assert any_lib.cstr_len(data) == len(data)
        assert any_lib.cstr_len(bytearray(data)) == len(data)


def _rust_split_whitespace(text: str) -> list[str]:
    # Rust's `split_whitespace` splits on Unicode White_Space; Python's
    # str.split() also splits on \x1c-\x1f, so spell the set out.
    white = set("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
    words, word = [], []
    for ch in text:
        if ch in white:
            if word:
                words.append("".join(word))
                word = []
        else:
            word.append(ch)
    if word:
        words.append("".join(word))
    return words


# ---------------------------------------------------------------------------
# Scalars and arrays of every element type


@pytest.mark.parametrize("t", list(INTS))
@given(data=st.data())
def test_int_arrays_round_trip(any_lib, t: str, data) -> None:
    low, high = int_range(t)
    values = data.draw(st.lists(st.integers(low, high), max_size=300))
    array = numpy.array(values, dtype=DTYPES[t])
    assert getattr(any_lib, f"sum_{t}")(array) == wrap(sum(values), t)
    value = data.draw(st.integers(low, high))
    assert getattr(any_lib, f"echo_{t}")(value) == value
    assert getattr(any_lib, f"opt_{t}")(value, True) == value
    out = numpy.zeros(len(values), dtype=DTYPES[t])
    assert getattr(any_lib, f"fill_{t}")(out, value) == len(values)
    assert out.tolist() == [value] * len(values)
    n = data.draw(st.integers(0, 300))
    assert list(getattr(any_lib, f"vec_{t}")(n)) == [wrap(i, t) for i in range(n)]


@pytest.mark.parametrize("t", ["f32", "f64"])
@given(data=st.data())
def test_float_arrays_round_trip(any_lib, t: str, data) -> None:
    width = 32 if t == "f32" else 64
    floats = st.floats(width=width, allow_nan=True, allow_infinity=True)
    values = data.draw(st.lists(floats, max_size=300))
    array = numpy.array(values, dtype=DTYPES[t])
    with numpy.errstate(over="ignore", invalid="ignore"):  # inf and nan are expected values
        expected = numpy.add.accumulate(array, dtype=DTYPES[t])[-1] if values else 0.0  # in order
    got = getattr(any_lib, f"sum_{t}")(array)
    assert got == expected or (math.isnan(got) and math.isnan(expected))
    value = data.draw(floats)
    echoed = getattr(any_lib, f"echo_{t}")(value)
    assert echoed == value or (math.isnan(echoed) and math.isnan(value))
    out = numpy.zeros(len(values), dtype=DTYPES[t])
    getattr(any_lib, f"fill_{t}")(out, value)
    assert all(v == value or (math.isnan(v) and math.isnan(value)) for v in out.tolist())
    n = data.draw(st.integers(0, 300))
    assert list(getattr(any_lib, f"vec_{t}")(n)) == [float(i) for i in range(n)]


@given(values=st.lists(st.booleans(), max_size=300))
def test_bool_arrays_round_trip(any_lib, values: list[bool]) -> None:
    array = numpy.array(values, dtype=numpy.bool_)
    assert any_lib.count_true(array) == sum(values)
    any_lib.negate_all(array)
    assert array.tolist() == [not v for v in values]
    assert list(any_lib.vec_bool(len(values))) == [i % 2 == 0 for i in range(len(values))]


@given(points=st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), max_size=100),
       factor=st.floats(-100, 100))
def test_plain_data_slices_round_trip(any_lib, points, factor: float) -> None:
    array = (any_lib.Point * len(points))(*[any_lib.Point(x, y) for x, y in points])
    c = any_lib.centroid(array)
    n = max(len(points), 1)
    sx = sy = 0.0
    for x, y in points:
        sx, sy = sx + x, sy + y
    assert (c.x, c.y) == (sx / n, sy / n)
    any_lib.scale(array, factor)
    assert [(p.x, p.y) for p in array] == [(x * factor, y * factor) for x, y in points]


# ---------------------------------------------------------------------------
# Records with arbitrary fields


def people(lib):
    u32 = st.integers(0, 2**32 - 1)
    address = st.builds(lib.Address, city=TEXT, zip=st.none() | u32)
    return st.builds(
        lib.Person, name=TEXT, age=st.integers(0, 2**32 - 2), email=st.none() | TEXT,
        tags=st.lists(TEXT, max_size=8), scores=st.lists(st.floats(allow_nan=False), max_size=8),
        address=address, kind=st.sampled_from(list(lib.Kind)), active=st.booleans(),
    )


@given(data=st.data())
def test_records_round_trip(any_lib, data) -> None:
    person = data.draw(people(any_lib))
    older = any_lib.birthday(person)
    assert older == any_lib.Person(
        name=person.name, age=person.age + 1, email=person.email,
        tags=person.tags + ["birthday"], scores=person.scores, address=person.address,
        kind=person.kind, active=person.active,
    )
    assert any_lib.describe_person(person).startswith(f"{person.name} ({person.age}, {person.kind.name}) in ")


def test_record_arithmetic_overflow_is_a_panic_not_a_wrap(any_lib) -> None:
    top = any_lib.Person(name="", age=2**32 - 1, email=None, tags=[], scores=[],
                         address=any_lib.Address(city="", zip=None), kind=any_lib.Kind.User, active=True)
    with pytest.raises(ffi_export.RustPanic, match="overflow"):
        any_lib.birthday(top)


def trees(lib):
    return st.recursive(
        st.builds(lib.Tree, label=TEXT, children=st.just([])),
        lambda kids: st.builds(lib.Tree, label=TEXT, children=st.lists(kids, max_size=4)),
        max_leaves=40,
    )


def count(tree) -> int:
    return 1 + sum(count(child) for child in tree.children)


@given(data=st.data())
def test_recursive_records_cross_whole(any_lib, data) -> None:
    tree = data.draw(trees(any_lib))
    assert any_lib.count_nodes(tree) == count(tree)


@given(depth=st.integers(0, 6))
def test_recursive_records_come_back_whole(any_lib, depth: int) -> None:
    tree = any_lib.tree(depth)
    assert count(tree) == 2 ** (depth + 1) - 1 and tree.label == f"d{depth}"


def shapes(lib):
    finite = st.floats(-1e100, 1e100)
    return st.one_of(
        st.builds(lib.Shape.Circle, radius=finite),
        st.builds(lib.Shape.Rect, width=finite, height=finite),
        st.builds(lib.Shape.Polygon, TEXT, st.lists(finite, max_size=10)),
        st.builds(lib.Shape.Empty),
    )


@given(data=st.data())
def test_enums_with_data_round_trip(any_lib, data) -> None:
    shape = data.draw(shapes(any_lib))
    grown = any_lib.grow(shape)
    S = any_lib.Shape
    if isinstance(shape, S.Circle):
        assert grown == S.Circle(radius=shape.radius * 2)
    elif isinstance(shape, S.Rect):
        assert grown == S.Rect(width=shape.width * 2, height=shape.height * 2)
    elif isinstance(shape, S.Polygon):
        assert grown == S.Polygon(shape._0 + "+", [s * 2 for s in shape._1])
    else:
        assert grown == S.Empty()


@given(name=st.none() | TEXT, times=st.none() | st.integers(0, 20))
def test_option_parameters_round_trip(any_lib, name, times) -> None:
    expected = " ".join([f"hi {'stranger' if name is None else name}"] * (1 if times is None else times))
    assert any_lib.greet_opt(name, times) == expected
