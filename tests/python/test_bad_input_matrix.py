"""The bad-input matrix: every supported type × every bad input that applies,
one test per cell, each run twice — on the CPython fast path and on the
ctypes path (the library loaded again with ``FFI_EXPORT_NO_FAST=1``) — and
each must give the same documented outcome and leave the process healthy.

The table in docs/SAFETY.md is generated from ``CASES`` (run this file with
``python tests/python/test_bad_input_matrix.py``) and a test checks that it
is up to date. Raw-C-ABI cells (NULL pointers, huge lengths, invalid UTF-8,
bool bytes, discriminants, forged records, stale handles, NULL callbacks)
are in tests/c/abi_test.c.
"""

from __future__ import annotations

import asyncio
import os
import re
import struct
import sys
from dataclasses import dataclass
from typing import Any, Callable

import numpy
import pytest

import ffi_export
from paths import any_lib  # noqa: F401 (fixture)


@dataclass
class Case:
    type: str  # the Rust type under test
    bad: str  # the bad input, in words
    call: Callable[[Any], Any]  # lib -> result
    raises: Any  # exception class, a "lib.errors.X" name, or None (accepted)
    match: str = ""  # regex the message must match (or the repr of the result)

    @property
    def id(self) -> str:
        return f"{self.type} | {self.bad}"

    @property
    def outcome(self) -> str:
        if self.raises is None:
            return "accepted" + (f" → `{self.match}`" if self.match else "")
        name = self.raises if isinstance(self.raises, str) else self.raises.__name__
        return f"`{name}`" + (f" ({_plain(self.match)})" if self.match else "")


def _plain(pattern: str) -> str:
    return re.sub(r"\\(.)", r"\1", pattern).replace("|", "/")


class Raised(Exception):
    """Raised by callbacks and allocators; must come back as itself."""


def _raise(*_: Any) -> Any:
    raise Raised("from Python")


CASES: list[Case] = []


def case(*args: Any, **kwargs: Any) -> None:
    CASES.append(Case(*args, **kwargs))


# --- integers: every width, both ends, floats, other types ------------------
INTS = {
    "i8": (-(2**7), 2**7 - 1), "i16": (-(2**15), 2**15 - 1), "i32": (-(2**31), 2**31 - 1),
    "i64": (-(2**63), 2**63 - 1), "u8": (0, 2**8 - 1), "u16": (0, 2**16 - 1),
    "u32": (0, 2**32 - 1), "u64": (0, 2**64 - 1), "isize": (-(2**63), 2**63 - 1),
    "usize": (0, 2**64 - 1),
}
for t, (low, high) in INTS.items():
    echo = f"echo_{t}"
    case(t, f"{low - 1} (below the minimum)", lambda lib, e=echo, v=low - 1: getattr(lib, e)(v),
         OverflowError, rf"must be in {low}..={high}")
    case(t, f"{high + 1} (above the maximum)", lambda lib, e=echo, v=high + 1: getattr(lib, e)(v),
         OverflowError, rf"must be in {low}..={high}")
    case(t, "float `1.0`", lambda lib, e=echo: getattr(lib, e)(1.0), TypeError, "must be an int, not float")
    case(t, "`numpy.float64(1)`", lambda lib, e=echo: getattr(lib, e)(numpy.float64(1)), TypeError, "must be an int")
    case(t, "str `'1'`", lambda lib, e=echo: getattr(lib, e)("1"), TypeError, "must be an int, not str")
    case(t, "`None`", lambda lib, e=echo: getattr(lib, e)(None), TypeError, "must be an int, not NoneType")
    case(t, "`numpy.int8(5)` (an `__index__` int)", lambda lib, e=echo: getattr(lib, e)(numpy.int8(5)), None, "5")

# --- floats ----------------------------------------------------------------
for t in ("f32", "f64"):
    echo = f"echo_{t}"
    case(t, "str `'1.5'`", lambda lib, e=echo: getattr(lib, e)("1.5"), TypeError, "must be a float, not str")
    case(t, "`None`", lambda lib, e=echo: getattr(lib, e)(None), TypeError, "must be a float")
    case(t, "int `10**400`", lambda lib, e=echo: getattr(lib, e)(10**400), OverflowError)
    case(t, "int `3`", lambda lib, e=echo: getattr(lib, e)(3), None, "3.0")
case("f32", "`1e39` (finite, beyond f32)", lambda lib: lib.echo_f32(1e39), OverflowError, "out of f32 range")
case("f32", "`-1e39`", lambda lib: lib.echo_f32(-1e39), OverflowError, "out of f32 range")

# --- bool ------------------------------------------------------------------
case("bool", "int `1`", lambda lib: lib.echo_bool(1), TypeError, r"must be a bool, not int")
case("bool", "str `'True'`", lambda lib: lib.echo_bool("True"), TypeError, "must be a bool")
case("bool", "`None`", lambda lib: lib.echo_bool(None), TypeError, "must be a bool")

# --- &str --------------------------------------------------------------------
case("&str", "bytes", lambda lib: lib.reverse(b"abc"), TypeError, r"\(&str\) must be a str, not bytes")
case("&str", "`None`", lambda lib: lib.reverse(None), TypeError, "must be a str, not NoneType")
case("&str", "lone surrogate (not UTF-8 encodable)", lambda lib: lib.reverse("a\ud800"), UnicodeEncodeError,
     "surrogates not allowed")
case("&str", "embedded NUL", lambda lib: lib.reverse("a\0b"), None, "'b\\x00a'")
case("&str", "empty", lambda lib: lib.reverse(""), None, "''")
case("&str", "a `str` subclass", lambda lib: lib.reverse(type("S", (str,), {})("ab")), None, "'ba'")

# --- &CStr -----------------------------------------------------------------
case("&CStr", "embedded NUL (bytes)", lambda lib: lib.cstr_len(b"a\0b"), ValueError, "NUL byte at index 1")
case("&CStr", "embedded NUL (str)", lambda lib: lib.cstr_len("ab\0"), ValueError, "NUL byte at index 2")
case("&CStr", "`None`", lambda lib: lib.cstr_len(None), TypeError, "must be bytes-like or str")
case("&CStr", "int", lambda lib: lib.cstr_len(5), TypeError, "must be bytes-like or str")
case("&CStr", "invalid UTF-8 bytes", lambda lib: lib.shout(b"a\xff"), None, "'A\ufffd'")

# --- &[&str] ---------------------------------------------------------------
case("&[&str]", "an int item", lambda lib: lib.join(["a", 3], "-"), TypeError, r"'words'\[1\] \(&str\) must be a str")
case("&[&str]", "a str instead of a list", lambda lib: lib.join("ab", "-"), TypeError, "must be a list of str, not str")
case("&[&str]", "`None`", lambda lib: lib.join(None, "-"), TypeError, "must be a list of str")
case("&[&str]", "a lone surrogate item", lambda lib: lib.join(["\ud800"], "-"), UnicodeEncodeError)
case("&[&str]", "empty list", lambda lib: lib.join([], "-"), None, "''")

# --- &[T] and &mut [T]: every element type ------------------------------------
ELEMENTS = {  # type: (array code, a code of the same size but another type)
    "i8": ("b", "B"), "u8": ("B", "b"), "i16": ("h", "H"), "u16": ("H", "h"),
    "i32": ("i", "f"), "u32": ("I", "i"), "i64": ("q", "d"), "u64": ("Q", "q"),
    "isize": ("n", "N"), "usize": ("N", "n"), "f32": ("f", "i"), "f64": ("d", "q"),
}


def typed(code: str, n: int = 4, offset: int = 0, readonly: bool = False) -> memoryview:
    size = struct.calcsize(code)
    raw = bytearray(size * (n + 1))
    view = memoryview(raw)[offset:offset + size * n].cast(code)
    return view.toreadonly() if readonly else view


for t, (code, other) in ELEMENTS.items():
    s, f = f"sum_{t}", f"fill_{t}"
    case(f"&[{t}]", f"buffer of another type ('{other}')", lambda lib, s=s, o=other: getattr(lib, s)(typed(o)),
         TypeError, rf"needs a buffer of {t}")
    case(f"&[{t}]", "non-contiguous view", lambda lib, s=s, c=code: getattr(lib, s)(typed(c, 8)[::2]),
         BufferError, "C-contiguous")
    case(f"&[{t}]", "a list (copied in)", lambda lib, s=s: getattr(lib, s)([1, 2]), None, "3.0" if t[0] == "f" else "3")
    case(f"&[{t}]", "a list with a str item", lambda lib, s=s: getattr(lib, s)([1, "x"]), TypeError,
         rf"argument 'values'\[1\] \({t}\) must be a")
    if t[0] != "f":
        case(f"&[{t}]", "a list item out of range", lambda lib, s=s: getattr(lib, s)([0, 2**70]), OverflowError,
             rf"argument 'values'\[1\] \({t}\) must be in")
    case(f"&mut [{t}]", "a list", lambda lib, f=f: getattr(lib, f)([1, 2], 1), TypeError,
         r"must be a writable buffer, not list: Rust writes into it in place, e\.g\.")
    case(f"&[{t}]", "zero-length buffer", lambda lib, s=s, c=code: getattr(lib, s)(typed(c, 0)), None,
         "0.0" if t[0] == "f" else "0")
    if code not in "bB":
        case(f"&[{t}]", "misaligned buffer", lambda lib, s=s, c=code: getattr(lib, s)(typed(c, 3, offset=1)),
             ffi_export.InvalidArgument, "not aligned")
    case(f"&mut [{t}]", "read-only buffer", lambda lib, f=f, c=code: getattr(lib, f)(typed(c, readonly=True), 1),
         BufferError, "must be writable")
    if t == "u8":
        case("&mut [u8]", "bytes (immutable)", lambda lib: lib.fill_u8(b"\0" * 16, 1), BufferError, "must be writable")
    else:  # the element type is checked first
        case(f"&mut [{t}]", "bytes (u8, immutable)", lambda lib, f=f: getattr(lib, f)(b"\0" * 16, 1), TypeError,
             f"needs a buffer of {t}, got u8")
    case(f"&mut [{t}]", "zero-length buffer", lambda lib, f=f, c=code: getattr(lib, f)(typed(c, 0), 1), None, "0")
    case(f"&mut [{t}]", "non-contiguous view", lambda lib, f=f, c=code: getattr(lib, f)(typed(c, 8)[::2], 1),
         BufferError, "C-contiguous")
case("&[bool]", "u8 buffer", lambda lib: lib.count_true(b"\x01"), TypeError, "needs a buffer of bool, got u8")
case("&[bool]", "non-contiguous view", lambda lib: lib.count_true(numpy.ones(6, dtype=bool)[::2]), BufferError)
case("&[bool]", "zero-length buffer", lambda lib: lib.count_true(numpy.ones(0, dtype=bool)), None, "0")
case("&mut [bool]", "read-only buffer", lambda lib: lib.negate_all(typed("?", readonly=True)), BufferError,
     "must be writable")
case("&mut [T] + &[T]", "overlapping buffers",
     lambda lib: (lambda d: lib.add_into(d[:3], d[3:], d[1:4]))(numpy.arange(6, dtype=numpy.int32)),
     ffi_export.InvalidArgument, "overlaps argument")
case("&[T]", "non-native byte order", lambda lib: lib.sum_i64(numpy.arange(3).astype(">i8")), TypeError,
     "needs a buffer of i64")

# --- plain-data records in slices ---------------------------------------------
case("&[Point]", "f64 buffer", lambda lib: lib.centroid(numpy.zeros(4)), TypeError, "needs a buffer of Point")
case("&[Point]", "other field names", lambda lib: lib.centroid(numpy.zeros(2, dtype=[("a", "f8"), ("b", "f8")])),
     TypeError, "needs a buffer of Point")
case("&[Point]", "zero-length", lambda lib: lib.centroid(numpy.zeros(0, dtype=[("x", "f8"), ("y", "f8")])), None,
     r"Point(x=0.0, y=0.0)")
case("&mut [Point]", "read-only buffer",
     lambda lib: lib.scale((lambda a: (a.setflags(write=False), a)[1])(numpy.zeros(2, dtype=[("x", "f8"), ("y", "f8")])), 2.0),
     BufferError, "writable")


# --- records ---------------------------------------------------------------
def person(lib, **changes):
    fields = dict(name="Ann", age=30, email=None, tags=[], scores=[], address=lib.Address(city="P", zip=None),
                  kind=lib.Kind.User, active=True)
    fields.update(changes)
    return lib.Person(**fields)


case("record", "a dict", lambda lib: lib.describe_person({}), TypeError, "must be a Person, not dict")
case("record", "`None`", lambda lib: lib.describe_person(None), TypeError, "must be a Person, not NoneType")
case("record", "another record", lambda lib: lib.describe_person(lib.Address(city="x", zip=None)), TypeError,
     "must be a Person, not Address")
case("record", "a field of the wrong type", lambda lib: lib.describe_person(person(lib, name=1)), TypeError,
     r"'person'\.name \(String\) must be a str")
case("record", "a nested field out of range",
     lambda lib: lib.describe_person(person(lib, address=lib.Address(city="x", zip=2**32))), OverflowError,
     r"'person'\.address\.zip \(u32\) must be in")
case("record", "an unknown enum value in a field", lambda lib: lib.describe_person(person(lib, kind=5)), ValueError,
     r"'person'\.kind \(Kind\): 5 is not a Kind")
case("record", "int for a bool field", lambda lib: lib.describe_person(person(lib, active=1)), TypeError,
     r"'person'\.active \(bool\) must be a bool")
case("record", "str for a Vec field", lambda lib: lib.describe_person(person(lib, tags="ab")), TypeError,
     r"'person'\.tags .* must be a sequence")
case("record", "wrong item in a Vec field", lambda lib: lib.describe_person(person(lib, scores=[1.0, "x"])), TypeError,
     r"'person'\.scores\[1\]")
case("record", "lone surrogate in a field", lambda lib: lib.describe_person(person(lib, email="\udfff")),
     UnicodeEncodeError)
case("record (recursive)", "a wrong child", lambda lib: lib.count_nodes(lib.Tree(label="a", children=[1])), TypeError,
     r"'tree'\.children\[0\]")

# --- enums ---------------------------------------------------------------------
case("enum", "unknown discriminant 3", lambda lib: lib.next_kind(3), ValueError, "3 is not a Kind")
case("enum", "str `'Admin'`", lambda lib: lib.next_kind("Admin"), TypeError, "must be a Kind or its int value")
case("enum", "its int value `1`", lambda lib: lib.next_kind(1), None, "<Kind.User: 2>")
case("enum", "out of its repr range (300 for u8)", lambda lib: lib.next_kind(300), ValueError, "300 is not a Kind")
case("data enum", "another class", lambda lib: lib.area(lib.Point(1, 2)), TypeError, "must be one of Shape.Circle")
case("data enum", "a field of the wrong type", lambda lib: lib.area(lib.Shape.Circle(radius="x")), TypeError,
     r"'shape'\.radius \(f64\) must be a float")

# --- Option parameters ----------------------------------------------------------
case("Option<String>", "wrong inner type", lambda lib: lib.greet_opt(3, None), TypeError, "must be a str")
case("Option<u32>", "out of range", lambda lib: lib.greet_opt(None, -1), OverflowError, "must be in 0..=")
case("Option<T>", "`None`", lambda lib: lib.greet_opt(None, None), None, "'hi stranger'")

# --- callbacks --------------------------------------------------------------------
case("Callback", "not callable", lambda lib: lib.apply(numpy.ones(2), 3), TypeError, "must be callable")
case("Callback", "raises", lambda lib: lib.apply(numpy.ones(2), _raise), Raised, "from Python")
case("Callback", "raises while Rust holds a String", lambda lib: lib.each_square(5, _raise), Raised)
case("Callback", "raises inside a `&mut self` method", lambda lib: lib.Counter(1, "c").visit(_raise), Raised)
case("Callback", "returns the wrong type", lambda lib: lib.apply(numpy.ones(2), lambda v: "x"), TypeError,
     r"callback's result \(f64\) must be a float")
case("Callback", "returns int for bool", lambda lib: lib.count_where(numpy.arange(2), lambda v: 1), TypeError,
     r"result \(bool\) must be a bool")
case("Callback", "returns out of range", lambda lib: lib.sum_of(2, lambda: 2**40), OverflowError,
     r"result \(i32\) must be in")
case("Callback", "wrong arity", lambda lib: lib.sum_of(2, lambda x: 1), TypeError, "missing 1 required")

# --- the caller's allocator -------------------------------------------------------
case("Allocator", "unknown kind", lambda lib: lib.sqrts(3, alloc="nope"), TypeError, "must be None, 'array', 'numpy'")
case("Allocator", "allocator function raises", lambda lib: lib.sqrts(3, alloc=_raise), Raised)
case("Allocator", "allocator returns a non-buffer", lambda lib: lib.sqrts(3, alloc=lambda *a: 5), TypeError,
     "must be a buffer")


# --- objects ---------------------------------------------------------------------
def closed(lib):
    counter = lib.Counter(1, "c")
    counter.close()
    return counter


def poisoned(lib):
    counter = lib.Counter(1, "p")
    try:
        counter.add_or_panic(0)
    except ffi_export.RustPanic:
        pass
    return counter


case("object", "closed", lambda lib: closed(lib).get(), ValueError, "this Counter is closed")
case("object", "closed, method with arguments", lambda lib: closed(lib).add(1), ValueError, "closed")
case("object", "closed twice", lambda lib: closed(lib).close(), None, "None")
case("object", "foreign handle (a Gauge as a Counter)", lambda lib: lib.Counter.get(lib.Gauge(1)),
     ffi_export.InvalidArgument, "is a `Gauge`, not a `Counter`")
case("object", "method argument out of range", lambda lib: lib.Counter(1, "c").add(-1), OverflowError)
case("object", "constructor argument of the wrong type", lambda lib: lib.Counter(1, 2), TypeError, "must be a str")
case("object", "poisoned by a `&mut self` panic", lambda lib: poisoned(lib).get(), ffi_export.RustPanic, "unusable")
case("object", "after a `&self` panic (not poisoned)",
     lambda lib: (lambda c: (pytest.raises(ffi_export.RustPanic, c.explode) and c.get()))(lib.Counter(4, "e")), None, "4")
def reenter(lib):
    with lib.Counter(1, "r") as counter:
        counter.visit(lambda n: counter.get())


case("object", "re-entrant call from a callback", reenter, ffi_export.InvalidArgument, "re-entrant")

# --- batches -------------------------------------------------------------------------
I32 = numpy.int32
case("batch", "arrays of different lengths", lambda lib: lib.checked_add.map(numpy.arange(3, dtype=I32), numpy.arange(2, dtype=I32)),
     ValueError, "has 2 elements, the others 3")
case("batch", "wrong dtype", lambda lib: lib.checked_add.map(numpy.arange(3), 1), TypeError, "needs a buffer of i32")
case("batch", "scalar out of range", lambda lib: lib.checked_add.map(numpy.arange(3, dtype=I32), 2**40), OverflowError)
case("batch", "a list (copied in)", lambda lib: list(lib.scale_by.map([1.0, 2.5], 2.0)), None, "[2.0, 5.0]")
case("batch", "an element fails", lambda lib: lib.checked_add.map(numpy.array([0, 2**31 - 1], dtype=I32), 1),
     "lib.errors.Error", "element 1: 2147483647 \\+ 1 overflows")
case("batch", "an element panics", lambda lib: lib.is_even.map(numpy.array([2, 13])), ffi_export.RustPanic,
     "^element 1: unlucky 13$")
case("batch", "zero-length", lambda lib: len(lib.scale_by.map(numpy.zeros(0), 2.0)), None, "0")

# --- errors and panics in every position -------------------------------------------------
case("Result<i64, ParseIntError>", "Err", lambda lib: lib.parse_int("x"), "lib.errors.ParseIntError", "invalid digit")
case("Result<String, Box<dyn Error>>", "Err", lambda lib: lib.greet(""), "lib.errors.Error", "empty name")
case("Result<(), Custom>", "Err", lambda lib: lib.check_positive(0), "lib.errors.Custom", "custom failure #0")
case("Result<Vec<String>, String>", "Err before allocating", lambda lib: lib.result_then_panic(0, False),
     "lib.errors.Error", "n is 0")
case("Result<i64, ArithmeticError>", "Err, a unit variant of an #[export] enum", lambda lib: lib.checked_div(1, 0),
     "lib.errors.ArithmeticError.DivisionByZero", "^division by zero$")
case("Result<i64, ArithmeticError>", "Err, a struct variant", lambda lib: lib.checked_div(-2**63, -1),
     "lib.errors.ArithmeticError.IntegerOverflow", "^integer overflow: -9223372036854775808 / -1$")
case("Result<i64, ArithmeticError>", "Err, a tuple variant", lambda lib: lib.in_range(5, 0, 3),
     "lib.errors.ArithmeticError.OutOfRange", "^5 is out of range")
case("Result<u8, Denied>", "Err, a field-less #[export] enum", lambda lib: lib.check_access(2),
     "lib.errors.Denied.Locked", "^account locked$")
case("Result<u32, ValidationError>", "Err, an #[export] struct", lambda lib: lib.validate_age(-3),
     "lib.errors.ValidationError", r"^age: -3 is not an age \(code 422\)$")
case("anyhow::Result<i64>", "Err with two contexts", lambda lib: lib.load_setting("x"), "lib.errors.Error",
     '^loading the setting: parsing "x": invalid digit found in string$')
case("Result<u32, Box<dyn Error>>", "Err with a source chain", lambda lib: lib.boxed_local_chain("p"),
     "lib.errors.Error", '^loading the config: reading "p": no such file$')
case("panic", "before allocating (i32 return)", lambda lib: lib.panic_now("boom"), ffi_export.RustPanic, "^boom$")
case("panic", "while borrowing &str and &[f64]", lambda lib: lib.panic_with_borrows("abc", numpy.ones(2)),
     ffi_export.RustPanic, "borrowing 3 bytes and 2 values")
case("panic", "after allocating a `String`", lambda lib: lib.string_then_panic(100, True), ffi_export.RustPanic,
     "100-byte String")
case("panic", "after allocating a `Vec<u64>`", lambda lib: lib.panic_after_alloc(10), ffi_export.RustPanic,
     "holding 10 values")
case("panic", "after allocating a `Vec<String>`", lambda lib: lib.strings_then_panic(5, True), ffi_export.RustPanic,
     "holding 5 Strings")
case("panic", "after allocating a record", lambda lib: lib.record_then_panic(True), ffi_export.RustPanic, "holding Held")
case("panic", "after allocating an `Option<Vec<f64>>`", lambda lib: lib.option_then_panic(5, True), ffi_export.RustPanic)
case("panic", "after allocating a Result's Ok value", lambda lib: lib.result_then_panic(3, True),
     ffi_export.RustPanic, "holding 3 results")
case("panic", "after writing into a &mut [f64]", lambda lib: lib.write_then_panic(numpy.zeros(4), 1.0),
     ffi_export.RustPanic, "after writing 2 values")
case("panic", "after a callback returned", lambda lib: lib.callback_then_panic(lambda x: x + 1), ffi_export.RustPanic,
     "returned 2")
case("panic", "after taking allocator outputs", lambda lib: lib.alloc_then_panic(4, True), ffi_export.RustPanic,
     "after allocating 4 outputs")
case("panic", "non-string payload", lambda lib: lib.panic_any(), ffi_export.RustPanic)
case("panic", "in the error's Display", lambda lib: lib.bad_display(), ffi_export.RustPanic)
case("panic", "in a constructor, after building the value", lambda lib: lib.Fragile("x", True), ffi_export.RustPanic,
     "constructor panicked")
case("panic", "in a `&self` method returning a String", lambda lib: lib.Fragile("ab", False).doubled(True),
     ffi_export.RustPanic, "holding \"abab\"")
case("panic", "in a `&mut self` method", lambda lib: lib.Counter(1, "x").add_or_panic(0), ffi_export.RustPanic,
     "by is 0")

# --- calling convention ---------------------------------------------------------------------
case("any", "missing argument", lambda lib: lib.echo_i32(), TypeError)
case("any", "extra argument", lambda lib: lib.echo_i32(1, 2), TypeError)
case("any", "unknown keyword", lambda lib: lib.echo_i32(nope=1), TypeError)

# --- object parameters and shared objects (tests/src/lib.rs `shared_objects`) -------
def tally(lib, start=1):
    return lib.shared_objects.Tally(start)


def closed_item(lib):
    item = lib.shared_objects.Item("c", 1)
    item.close()
    return item


def closed_tally(lib):
    t = tally(lib)
    t.close()
    return t


case("&mut object", "the receiver passed again (`a.absorb(a)`)", lambda lib: (lambda a: a.absorb(a))(tally(lib)),
     ffi_export.InvalidArgument, "argument `other`: the same `Tally` is also passed as `self`")
case("&mut object", "one object as two `&mut` parameters", lambda lib: (lambda a: lib.shared_objects.tally_transfer(a, a, 1))(tally(lib)),
     ffi_export.InvalidArgument, "argument `to`: the same `Tally`")
case("&object", "one object as two `&` parameters", lambda lib: (lambda a: lib.shared_objects.tally_sum(a, a))(tally(lib, 4)), None, "8")
case("&object", "closed", lambda lib: tally(lib).absorb(closed_tally(lib)), ValueError, "argument 'other': this Tally is closed")
case("&object", "not an object", lambda lib: tally(lib).absorb(3), TypeError, "argument 'other' must be a Tally, not int")
case("&object", "an object of another type", lambda lib: tally(lib).absorb(lib.shared_objects.Item("i", 1)), TypeError,
     "argument 'other' must be a Tally, not Item")
case("&object", "panic while borrowed `&` (not poisoned)",
     lambda lib: (lambda a, b: (pytest.raises(ffi_export.RustPanic, a.explode_with, b) and b.get()))(tally(lib), tally(lib, 6)),
     None, "6")
case("Arc<object>", "an object of another type", lambda lib: lib.shared_objects.Shelf().put(lib.Counter(1, "c")), TypeError,
     "argument 'item' must be a Item, not Counter")
case("Arc<object>", "an owned (never shared) object", lambda lib: lib.shared_objects.shared_count(tally(lib)),
     ffi_export.InvalidArgument, "argument `tally`: this `Tally` is not shared")
case("Arc<object>", "a shared one as `&mut self`", lambda lib: lib.shared_objects.Tally.new_shared(1).add(1),
     ffi_export.InvalidArgument, "argument `self`: this `Tally` is shared")
case("Arc<object>", "`&mut self` on a shared object", lambda lib: lib.shared_objects.Item("i", 1).rename("j"),
     ffi_export.InvalidArgument, "argument `self`: this `Item` is shared")
case("Arc<object>", "closed, inside a list", lambda lib: lib.shared_objects.Shelf().put_all([closed_item(lib)]), ValueError,
     r"argument 'items'\[0\]: this Item is closed")
case("Arc<object>", "None inside a list", lambda lib: lib.shared_objects.Shelf().put_all([None]), TypeError,
     r"argument 'items'\[0\] must be a Item, not NoneType")
# --- async fn (awaited with asyncio.run) ----------------------------------------------------
case("async fn", "str for an i64 (raised at await)", lambda lib: asyncio.run(lib.add_later("1", 2)), TypeError,
     "argument 'a'")
case("async fn", "a bad item in a Vec<String>", lambda lib: asyncio.run(lib.count_later(["a", 2])), TypeError,
     r"argument 'words'\[1\]")
case("async fn", "Err of an #[export] enum", lambda lib: asyncio.run(lib.div_later(1, 0)),
     "lib.errors.ArithmeticError.DivisionByZero", "division by zero")
case("async fn", "panic inside the future", lambda lib: asyncio.run(lib.panic_later("late")), ffi_export.RustPanic,
     "late")
case("async fn", "driven without a running loop", lambda lib: lib.add_later(1, 2).send(None), RuntimeError,
     "no running event loop")



def _closed_button(lib: Any) -> Any:
    button = lib.make_button("c")
    button.close()
    return button


def _run_and_clear(lib: Any) -> Any:
    try:
        return lib.run_handlers("x")
    finally:
        lib.clear_handlers()


def _raise_busy(lib: Any) -> Any:
    def check(value: int) -> int:
        raise lib.errors.ListenerError.Busy("busy")
    return check

# --- trait objects and stored closures ---------------------------------------------------
class _Listener:
    def on_event(self, event: Any) -> None:
        pass

    def name(self) -> str:
        return "l"

    def limit(self, hint: Any) -> Any:
        return hint


class _Nameless(_Listener):
    name = None  # type: ignore[assignment]


def _raising_listener(exc: Callable[[], BaseException]) -> Any:
    class Raising(_Listener):
        def on_event(self, event: Any) -> None:
            raise exc()
    return Raising()


def _rejected(lib: Any) -> Any:
    exc = lib.errors.ListenerError.Rejected("rejected")
    exc.reason = "why"
    return _raising_listener(lambda: exc)


case("Box<dyn Listener>", "not an object with the methods", lambda lib: lib.listener_limit(3, 1), TypeError,
     "argument 'listener' \\(dyn Listener\\): int has no method 'on_event'")
case("Box<dyn Listener>", "a method missing", lambda lib: lib.listener_limit(_Nameless(), 1), TypeError,
     "has no method 'name'")
case("Box<dyn Listener>", "a method returns the wrong type",
     lambda lib: lib.notify_once(type("L", (_Listener,), {"name": lambda self: 3})(), "k"), ffi_export.RustPanic,
     "Listener::name .*TypeError")
case("Box<dyn Listener>", "a method returns out of range",
     lambda lib: lib.listener_limit(type("L", (_Listener,), {"limit": lambda self, h: -1})(), 1),
     ffi_export.RustPanic, "Listener::limit .*OverflowError")
case("Arc<dyn Listener>", "raises a variant of the Result's error", lambda lib: lib.notify_once(_rejected(lib), "k"),
     "lib.errors.ListenerError.Rejected", "rejected: why")
case("Arc<dyn Listener>", "raises another exception",
     lambda lib: lib.notify_once(_raising_listener(lambda: KeyError("k")), "k"), ffi_export.RustPanic,
     "Listener::on_event .*KeyError")
case("Arc<dyn Listener>", "raises a variant without its fields",
     lambda lib: lib.notify_once(_raising_listener(lambda: lib.errors.ListenerError.Rejected("x")), "k"),
     ffi_export.RustPanic, "AttributeError")
case("Arc<dyn Button>", "a closed Rust implementation", lambda lib: lib.label_of(_closed_button(lib)), ValueError,
     "DynButton is closed")
case("Box<dyn Fn(u32)>", "not callable", lambda lib: lib.repeat_call(3, 1), TypeError, "must be callable")
case("Box<dyn Fn(String, Vec<i64>) -> Option<String>>", "returns the wrong type",
     lambda lib: lib.add_handler(lambda t, v: 5) and _run_and_clear(lib), ffi_export.RustPanic,
     "closure::call .*TypeError")
case("Arc<dyn Fn(i64) -> Result<i64, ListenerError>>", "raises a variant",
     lambda lib: lib.map_checked(_raise_busy(lib), [1]), "lib.errors.ListenerError.Busy", "busy")


# --- objects moved by value (tests/src/lib.rs `byvalue`) ----------------------------------
def part(lib, weight=1):
    return lib.byvalue.Part("p", weight)


def refused_move(lib, call):
    """Runs a refused call moving parts; returns them, all still usable."""
    parts = [part(lib, 1), part(lib, 2)]
    try:
        call(lib, parts)
    finally:
        assert [p.weight() for p in parts] == [1, 2]


case("object by value", "closed", lambda lib: lib.byvalue.weigh((lambda p: (p.close(), p)[1])(part(lib))), ValueError,
     "argument 'part': this Part is closed")
case("object by value", "already moved", lambda lib: (lambda p: (lib.byvalue.weigh(p), lib.byvalue.weigh(p)))(part(lib)),
     ValueError, r"argument 'part': this Part is closed: it was moved into a Rust call \(weigh, argument 'part'\)")
case("object by value", "an object of another type", lambda lib: lib.byvalue.weigh(lib.shared_objects.Tally(1)), TypeError,
     "argument 'part' must be a Part, not Tally")
case("object by value", "a shared (`Arc`) object", lambda lib: lib.byvalue.weigh(lib.byvalue.Part.new_shared("s", 1)),
     ffi_export.InvalidArgument, r"argument `part`: this `Part` is shared .* take `Arc<Part>` as the parameter type")
case("object by value", "the same object twice", lambda lib: refused_move(lib, lambda lib, ps: lib.byvalue.pair_weight(ps[0], ps[0])),
     ffi_export.InvalidArgument, "argument `second`: the same `Part` is passed by value twice in this call")
case("object by value", "also borrowed `&mut` by the call", lambda lib: refused_move(lib, lambda lib, ps: lib.byvalue.weigh_into(ps[0], ps[0])),
     ffi_export.InvalidArgument, "argument `scale`: this `Part` is being moved into a Rust call")
case("object by value", "a later argument refused (nothing moved)",
     lambda lib: refused_move(lib, lambda lib, ps: lib.byvalue.attach(ps[0], ps[1], None)),
     ffi_export.InvalidArgument, "argument `parent`: this `Part` is not shared")
case("Vec<object>", "a shared object at index 2 (nothing moved)",
     lambda lib: refused_move(lib, lambda lib, ps: lib.byvalue.total([*ps, lib.byvalue.Part.new_shared("s", 1)])),
     ffi_export.InvalidArgument, r"argument `parts`: item 2: this `Part` is shared")
case("Vec<object>", "a closed object at index 1", lambda lib: lib.byvalue.total([part(lib), (lambda p: (p.close(), p)[1])(part(lib))]),
     ValueError, r"argument 'parts'\[1\]: this Part is closed")
case("Vec<object>", "None inside the list", lambda lib: lib.byvalue.total([part(lib), None]), TypeError,
     r"argument 'parts'\[1\] must be a Part, not NoneType")
case("record with an object field", "a shared object in the field (nothing moved)",
     lambda lib: lib.byvalue.kit_weight(lib.byvalue.Kit(label="k", main=lib.byvalue.Part.new_shared("s", 1), spares=[], extra=None)),
     ffi_export.InvalidArgument, "argument `kit`: field `main`: this `Part` is shared")
case("record with an object field", "a closed object in a Vec field",
     lambda lib: lib.byvalue.kit_weight(lib.byvalue.Kit(label="k", main=part(lib), spares=[(lambda p: (p.close(), p)[1])(part(lib))], extra=None)),
     ValueError, r"argument 'kit'.spares\[0\]: this Part is closed")
case("object by value", "panic after the move (the value is dropped once)",
     lambda lib: (lambda p: (pytest.raises(ffi_export.RustPanic, lib.byvalue.weigh_and_panic, p), p.closed)[1])(part(lib)),
     None, "True")
# --- callbacks borrowed for one call (`&dyn Fn`) ------------------------------
case("&dyn Fn() -> u8", "not callable", lambda lib: lib.both(3, lambda v: True), TypeError,
     r"argument 'first' \(&dyn Fn\(\) -> u8\) must be callable, not int")
case("&dyn Fn() -> u8", "returns out of range", lambda lib: lib.both(lambda: 256, lambda v: True), OverflowError,
     "the result of the callback argument 'first' \\(u8\\) must be in 0..=255, got 256")
case("&dyn Fn(String) -> String", "returns the wrong type", lambda lib: lib.twice("x", lambda s: None), TypeError,
     "the result of the callback argument 'f'")
case("&dyn Fn(String) -> Result<i32, ListenerError>", "raises another exception (re-raised as itself)",
     lambda lib: lib.sum_parsed("a", lambda w: {}[w]), KeyError, "a")
case("&dyn Fn(String) -> Result<i32, ListenerError>", "raises a variant of the Result's error",
     lambda lib: lib.sum_parsed("a", _raise_busy(lib)), "lib.errors.ListenerError.Busy", "busy")
# --- protocols (`#[export(Display, Eq, Hash, Ord, Add, ..)]`) -----------------
case("protocol Eq (record)", "== with another type (NotImplemented both ways)",
     lambda lib: lib.protocols.Version() == 3, None, "False")
case("protocol Ord (record)", "< with another type", lambda lib: lib.protocols.Version() < 3, TypeError,
     "'<' not supported between instances of 'Version' and 'int'")
case("protocol Add (record)", "+ with another type", lambda lib: lib.protocols.Vec2(1.0, 2.0) + 1, TypeError,
     r"unsupported operand type\(s\) for \+: 'Vec2' and 'int'")
case("protocol Eq (object)", "== with an object of another type", lambda lib: lib.protocols.Bag([]) == lib.protocols.Cell(1),
     None, "False")
case("protocol Ord (object)", ">= with another type", lambda lib: lib.protocols.Bag([]) >= "a", TypeError,
     "'>=' not supported between instances of 'Bag' and 'str'")
case("protocol Eq without Hash (object)", "hash()", lambda lib: hash(lib.protocols.Cell(1)), TypeError,
     "unhashable type: 'Cell'")
case("record without protocols", "hash()", lambda lib: hash(lib.protocols.Plain(1)), TypeError,
     "unhashable type: 'Plain'")
case("protocol Display (object)", "the impl panics", lambda lib: str(lib.protocols.Grenade(True)), ffi_export.RustPanic,
     "boom")
case("protocol Eq (object)", "the impl panics", lambda lib: lib.protocols.Grenade(True) == lib.protocols.Grenade(False),
     ffi_export.RustPanic, "boom")
case("protocol Hash (object)", "the impl panics", lambda lib: hash(lib.protocols.Grenade(True)), ffi_export.RustPanic,
     "boom")
case("protocol Debug (object)", "the impl panics (repr never raises)",
     lambda lib: repr(lib.protocols.Grenade(True)).endswith("Debug panicked: boom>"), None, "True")
case("protocol Display (object)", "a closed object",
     lambda lib: str((lambda b: (b.close(), b)[1])(lib.protocols.Bag([]))), ValueError, "this Bag is closed")
case("protocol Index<usize> with len (object)", "an index out of range",
     lambda lib: lib.protocols.Bag(["a"])[1], IndexError, r"Bag index 1 out of range \(len 1\)")
case("protocol Index<usize> (object)", "an index of the wrong type", lambda lib: lib.protocols.Bag(["a"])["0"],
     TypeError, "argument 'index'")

# --- trait objects and closures inside other values ----------------------------
case("Vec<Arc<dyn Listener>>", "an element missing a method (nothing kept)",
     lambda lib: lib.notify_all([_Listener(), _Listener(), _Nameless()], "k"), TypeError,
     "argument 'listeners'\\[2\\] \\(dyn Listener\\): _Nameless has no method 'name'")
case("Vec<Arc<dyn Listener>>", "not a sequence", lambda lib: lib.notify_all(_Listener(), "k"), TypeError,
     "argument 'listeners'")
case("Option<Box<dyn Listener>>", "not an object with the methods", lambda lib: lib.maybe_notify(1.5, "k"), TypeError,
     "argument 'listener' \\(dyn Listener\\): float has no method 'on_event'")
case("Vec<Box<dyn Button>>", "a closed Rust implementation at index 1",
     lambda lib: lib.press_all([lib.make_button("a"), (lambda b: (b.close(), b)[1])(lib.make_button("b"))]),
     ValueError, "closed")
case("HashMap<String, Box<dyn Fn(i64) -> i64>>", "a value not callable",
     lambda lib: lib.apply_steps({"a": abs, "b": 1}, 1), TypeError,
     "argument 'steps'\\['b'\\] .* must be callable, not int")
case("Option<Box<dyn Fn(String) -> String>>", "not callable", lambda lib: lib.maybe_apply(b"x", "t"), TypeError,
     "argument 'f' .* must be callable, not bytes")
case("record field Option<Box<dyn Listener>>", "missing a method",
     lambda lib: lib.run_hooks(lib.Hooks(name="h", listener=_Nameless(), buttons=[]), 1), TypeError,
     "argument 'hooks'.*has no method 'name'")
case("enum field Vec<Box<dyn Listener>>", "an element not an object with the methods",
     lambda lib: lib.deliver(lib.Route.Each(listeners=[_Listener(), "x"]), "k"), TypeError,
     "str has no method 'on_event'")
case("Box<dyn Fn(i64) -> i64> returned", "called with the wrong type", lambda lib: lib.adder(1)("x"), TypeError,
     "argument 0")
case("Box<dyn Fn(i64) -> i64> returned", "called with too many arguments", lambda lib: lib.adder(1)(1, 2), TypeError,
     "takes 1 argument")
case("Option<Box<dyn Fn(u32) -> u32>> returned", "the closure panics", lambda lib: lib.divider(1)(0),
     ffi_export.RustPanic, "division of 1 by zero")
case("Arc<dyn Fn(i64) -> Result<i64, ListenerError>> returned", "returns Err",
     lambda lib: lib.checker(1)(2), "lib.errors.ListenerError.Rejected", "")

# --- iterators, properties, records as values (tests/src/lib.rs `values`) ---------------------
def _playlist(lib):
    p = lib.values.Playlist("m")
    p.add("a", 100)
    p.add("b", 400)
    return p


def _closed_iterator(lib):
    it = lib.values.count_up(5)
    it.close()
    return next(it)


case("impl Iterator", "next() after close()", _closed_iterator, ValueError, "this iterator is closed")
case("impl Iterator", "made by a closed object", lambda lib: (lambda p: (p.close(), p.songs()))(_playlist(lib)),
     ValueError, "this Playlist is closed")
case("impl Iterator<Item = Result<u32, TrackError>>", "an `Err` item",
     lambda lib: list(_playlist(lib).checked(200)), "lib.errors.TrackError.TooLong", "track b is too long: 400 s")
case("impl Iterator<Item = u32>", "a panic in `next`", lambda lib: list(lib.values.explode_at(2)), ffi_export.RustPanic,
     "item 2 exploded")
case("impl Iterator", "pickled", lambda lib: __import__("pickle").dumps(lib.values.count_up(1)), TypeError,
     "cannot pickle a RustIterator")
case("property (setter of u8)", "str", lambda lib: setattr(_playlist(lib), "volume", "x"), TypeError,
     r"property Playlist.volume: argument 'volume' \(u8\) must be an int, not str")
case("property (setter of u8)", "`256`", lambda lib: setattr(_playlist(lib), "volume", 256), OverflowError,
     r"property Playlist.volume: .*must be in 0..=255, got 256")
case("property (setter returning Err)", "refused by Rust", lambda lib: setattr(_playlist(lib), "volume", 101),
     "lib.errors.Error", "volume 101 is over 100")
case("property (getter only)", "assigned", lambda lib: setattr(_playlist(lib), "seconds", 1), AttributeError, "")
case("property", "of a closed object", lambda lib: (lambda p: (p.close(), p.title))(_playlist(lib)), ValueError,
     "this Playlist is closed")
case("record with an object field", "pickled",
     lambda lib: __import__("pickle").dumps(lib.values.shelve("s", lib.values.Playlist("p"))), TypeError,
     "its field 'playlist' holds a value that lives in Rust")
case("object", "pickled or deep-copied", lambda lib: __import__("copy").deepcopy(lib.values.Playlist("p")), TypeError,
     "cannot pickle or copy a Playlist")


def resolve(lib, raises):
    if isinstance(raises, str):
        found = lib.errors
        for name in raises.removeprefix("lib.errors.").split("."):
            found = getattr(found, name)
        return found
    return raises


@pytest.mark.parametrize("cell", CASES, ids=[c.id for c in CASES])
def test_cell(any_lib, cell: Case) -> None:
    if cell.raises is None:
        result = cell.call(any_lib)
        if cell.match:
            assert repr(result) == cell.match or str(result) == cell.match, result
    else:
        with pytest.raises(resolve(any_lib, cell.raises), match=cell.match or None):
            cell.call(any_lib)
    # The process is healthy: calls work and no error is left pending.
    assert any_lib.echo_i32(7) == 7
    assert any_lib.reverse("ok") == "ko"
    assert not any_lib._cdll.ffi_export_error_take(None)


def test_no_object_leaks_from_the_matrix(lib) -> None:
    import gc
    gc.collect()
    live = (lib.Counter.live(), lib.shared_objects.Tally.live(), lib.shared_objects.Item.live(), lib.byvalue.Part.live(),
            lib.values.live_iterators())
    for cell in CASES:
        if "object" in cell.type or "Iterator" in cell.type or "property" in cell.type:
            try:
                cell.call(lib)
            except Exception:  # noqa: BLE001 - outcomes are checked in test_cell
                pass
    gc.collect()
    assert (lib.Counter.live(), lib.shared_objects.Tally.live(), lib.shared_objects.Item.live(),
            lib.byvalue.Part.live(), lib.values.live_iterators()) == live


def markdown() -> str:
    lines = ["| Type | Bad input | Outcome (fast path and ctypes path) |", "|---|---|---|"]
    for c in CASES:
        lines.append(f"| `{c.type}` | {c.bad} | {c.outcome} |")
    return "\n".join(lines) + "\n"


SAFETY = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "docs", "SAFETY.md")
BEGIN, END = "<!-- matrix:begin -->\n", "<!-- matrix:end -->"


def test_docs_table_is_up_to_date() -> None:
    with open(SAFETY, encoding="utf-8") as f:
        text = f.read()
    table = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
    assert table == markdown(), "run: python tests/python/test_bad_input_matrix.py --write"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        with open(SAFETY, encoding="utf-8") as f:
            text = f.read()
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        with open(SAFETY, "w", encoding="utf-8") as f:
            f.write(text[:start] + markdown() + text[end:])
    else:
        print(markdown())
