"""`python ffi_export_tools.py header`: the generated C header compiles with
-Wall -Wextra -Werror -std=c11 (and -pedantic), tests/c/header_test.c calls
the test cdylib through it (owned parameters included: the caller's C
forms, copied in), and cffi's cdef accepts the `--cdef` form and
calls exports in ABI mode."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import ffi_export
import ffi_export_tools
from conftest import ROOT, library_path

HELPER = os.path.join(ROOT, "ffi-export-runtime", "python", "ffi_export.py")
C_TEST = os.path.join(ROOT, "tests", "c", "header_test.c")
CFLAGS = ["-Wall", "-Wextra", "-Werror", "-std=c11"]


def header(stem: str, *extra: str) -> str:
    result = subprocess.run([sys.executable, HELPER, "header", library_path(stem), *extra],
                            capture_output=True, text=True, check=True)
    return result.stdout


def test_header_test_program(tmp_path) -> None:
    with open(tmp_path / "ffi_export_tests.h", "w") as f:
        f.write(header("ffi_export_tests"))
    lib_dir = os.path.dirname(library_path("ffi_export_tests"))
    exe = str(tmp_path / "header_test")
    subprocess.run(["gcc", *CFLAGS, "-I", str(tmp_path), "-o", exe, C_TEST, "-L", lib_dir,
                    "-lffi_export_tests", f"-Wl,-rpath,{lib_dir}"], check=True)
    env = {k: v for k, v in os.environ.items() if k != "FFI_EXPORT_PRINT_PANICS"}
    result = subprocess.run([exe], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "abi 4",
        "c button: c: 3, c-button, refs 0",
        "rust button: rust: 2, rust: 3",
        "c button back: same, refs 1",
        "rust closure: status 0, 3 + 2 = 5",
        "held call: status 0, result 5, release 0, again 2 (no held call of this thread to release)",
        "reverse: olléh (6 bytes)",
        "freed: yes",
        "person: Ada age 36 email ada@example.com tags 2 kind 2",
        'describe: Ada (36, User) in Paris [new,age36] Some("ada@example.com") [1.5, 2.5] true',
        "built: Bo (20, Guest) in Oslo [] None [] true",
        "vec_i32: 0 1 2 3",
        "greet_opt: hi stranger hi stranger",
        "opt_i32: 1 -5 / 0",
        "apply: 3 6 9 (3 calls)",
        "sum_parsed: 5",
        "sum_parsed(busy): error code 1, ListenerError: busy",
        "sum_parsed(fail): error code 4, CallbackFailed: a callback or the caller's allocator failed",
        "sum_parsed refs: 0",
        "scale_by_batch: 3 -> 10 20 30",
        "parse_int: 0, faults +1",
        "parse_int: error code 1, ParseIntError: invalid digit found in string",
        "parse_int ok: 42",
        "after success: no error",
        "panic_now: error code 2, RustPanic: boom",
        "invalid UTF-8: error code 3, InvalidArgument: argument `text`: invalid UTF-8: "
        "invalid utf-8 sequence of 1 bytes from index 0",
        "bad enum: error code 3, InvalidArgument: argument `kind`: 3 is not a `Kind` (variants: Admin, User, Guest)",
        "checked_div: ArithmeticError, variant 0: DivisionByZero (tag 0): division by zero",
        "checked_div freed: yes",
        "overflow: ArithmeticError, variant 1: IntegerOverflow a=-9223372036854775808 b=-1 op=/ (tag 1): "
        "integer overflow: -9223372036854775808 / -1",
        "overflow freed: yes",
        "in_range: ArithmeticError, variant 2: OutOfRange 5 not in 0..=3 (tag 2): 5 is out of range: not in 0..=3",
        "in_range freed: yes",
        "check_access: Denied, variant 1: locked yes, discriminant -20: account locked",
        "check_access freed: yes",
        "validate_age: ValidationError, variant -1: field age, reason -3 is not an age, code 422, "
        "hint a positive number: age: -3 is not an age (code 422)",
        "validate_age freed: yes",
        "not typed: ParseIntError, variant -1: value NULL: invalid digit found in string",
        "not typed freed: yes",
        "sum_owned: -4",
        "hyphenate: a-bc-d",
        "total_count: 12",
        "pair_sum: 999999999999",
        "wide_add: lo 0 hi 1",
        "repeat_byte: AAA",
        "sum_owned(NULL): error code 3, InvalidArgument: argument `values`: NULL pointer",
        "NULL items: error code 3, InvalidArgument: argument `values`: NULL pointer with length 2",
        "hyphenate(invalid UTF-8): error code 3, InvalidArgument: argument `words`: item 0: invalid UTF-8: "
        "invalid utf-8 sequence of 1 bytes from index 0",
        "counter: 7 c",
        "stale handle: error code 3, InvalidArgument: argument `self`: 2 is not a live `Counter` handle "
        "(closed, freed, moved into a Rust call or never created)",
        "absorb: 12",
        "same object twice: error code 3, InvalidArgument: argument `other`: the same `Tally` is also passed "
        "as `self`, and `self` borrows it `&mut`: Rust allows no other borrow of an object while it is "
        "borrowed mutably; pass two different objects",
        "stale parameter: error code 3, InvalidArgument: argument `other`: 2 is not a live `Tally` handle "
        "(closed, freed, moved into a Rust call or never created)",
        "shared: same handle, value 3",
        "after one free: 3",
        "after both: error code 3, InvalidArgument: argument `self`: 5 is not a live `Item` handle "
        "(closed, freed, moved into a Rust call or never created)",
        "div_later: 42, on_done 1",
        "finished twice: error code 3, InvalidArgument: argument `task`: 1 is not a live task "
        "(finished, cancelled or never started)",
        "div_later(1, 0): ArithmeticError, variant 0: DivisionByZero (tag 0): division by zero",
        "div_later(1, 0) freed: yes",
        "greet_later: hello, Ada",
        "not finished: error code 3, InvalidArgument: argument `task`: task 4 is not finished: "
        "wait for its on_done callback",
        "cancel: 1 then 0, on_done 4",
        "no on_done: error code 3, InvalidArgument: argument `on_done`: NULL (a completion callback is required)",
        "numbered_words: w0 w1 | w2 w3 | w4 | end",
        "count_up: 0 1 2, live 1",
        "after free: live 0",
        "stale iterator: error code 3, InvalidArgument: argument `iter`: 7 is not a live `RustIter` handle "
        "(closed, freed, moved into a Rust call or never created)",
        "countdown(101): error code 1, Error: 101 is too many",
        "countdown(101): handle 0, live 0",
        "countdown(3): 3 items, 3 2 1",
        "countdown freed: live 0",
        "Cell_eq: 1 1",
        "Cell_eq after set: 0",
        "Cell_eq(freed): error code 3, InvalidArgument",
        "Grenade_display: grenade, hash stable: 1",
        "armed display: ptr NULL",
        "Grenade_display(armed): error code 2, RustPanic: boom",
    ]


@pytest.mark.parametrize("stem", ["ffi_export_tests", "examples"])
def test_header_is_pedantic_c11_and_cplusplus_clean(tmp_path, stem: str) -> None:
    path = tmp_path / f"{stem}.h"
    with open(path, "w") as f:
        f.write(header(stem))
    source = tmp_path / "main.c"
    source.write_text(f'#include "{path}"\n#include "{path}"\nint main(void) {{ return 0; }}\n')
    subprocess.run(["gcc", *CFLAGS, "-pedantic", "-c", str(source), "-o", str(tmp_path / "main.o")], check=True)
    if subprocess.run(["which", "g++"], capture_output=True).returncode == 0:
        cpp = tmp_path / "main.cpp"
        cpp.write_text(source.read_text())
        subprocess.run(["g++", "-Wall", "-Wextra", "-Werror", "-c", str(cpp), "-o", str(tmp_path / "cpp.o")],
                       check=True)


@pytest.mark.parametrize("stem", ["ffi_export_tests", "examples"])
def test_header_declares_every_export_and_nothing_else(stem: str) -> None:
    # The header and the symbols of one loaded library (generated in this
    # process: a rebuild meanwhile cannot make them disagree).
    loaded = ffi_export.load(library_path(stem))
    description = loaded._description
    library = loaded._cdll
    text = ffi_export_tools.generate_header(description, library_path(stem), cdef=True)
    assert not re.findall(r"^\s*#\s*(include|if|endif|define \w+_H$)", text, re.M)  # no preprocessor lines
    declared = set(re.findall(r"^[A-Za-z_][\w ]*?\*?\s*\b(\w+)\($", text, re.M))
    declared |= set(re.findall(r"^[\w ]+\*?\s*\b(\w+)\([^)]*\);$", text, re.M))
    expected = {e["name"] for e in description["exports"]}
    expected |= {e["free"] for e in description["exports"] if e["free"]}
    expected |= {e["batch"] for e in description["exports"] if e.get("batch")}
    expected |= {t["free"] for t in description["types"].values() if t["kind"] == "object"}
    assert expected <= declared
    for name in declared:
        assert hasattr(library, name), f"{name} is declared but not exported"


def test_cffi_calls_exports_in_abi_mode() -> None:
    import cffi  # from requirements-dev.txt: a missing cffi is a failure, not a skip

    ffi = cffi.FFI()
    ffi.cdef(header("ffi_export_tests", "--cdef"))
    lib = ffi.dlopen(library_path("ffi_export_tests"))

    text = "héllo".encode()
    buffer = ffi.new("FfiBuffer *", lib.reverse(text, len(text)))
    assert ffi.string(ffi.cast("char *", buffer.ptr)).decode() == "olléh"
    lib.reverse_free(buffer)
    assert buffer.ptr == ffi.NULL

    person = ffi.new("Person_repr *", lib.make_person(b"Ada", 3, 20))
    assert (ffi.unpack(ffi.cast("char *", person.name.ptr), person.name.len), person.age) == (b"Ada", 20)
    assert person.kind == lib.Kind_User and person.email.is_some == 1
    lib.make_person_free(person)

    values = ffi.new("double[]", [1.0, 2.0])

    @ffi.callback("double(void *, uint8_t *, double)")
    def halve(_context, _failed, value):
        return value / 2

    callback = ffi.new("FfiCallback *", {"call": ffi.cast("void *", halve), "context": ffi.NULL})
    lib.apply(values, 2, callback[0])
    assert list(values) == [0.5, 1.0]

    faults = lib.FFI_EXPORT_FAULTS
    assert lib.parse_int(b"x", 1) == 0
    assert lib.FFI_EXPORT_FAULTS == faults + 1
    error = ffi.new("FfiError *")
    assert lib.ffi_export_error_take(error)
    assert error.code == 1
    assert ffi.unpack(ffi.cast("char *", error.type_name.ptr), error.type_name.len) == b"ParseIntError"
    assert (error.variant, error.value) == (-1, ffi.NULL)
    lib.ffi_export_error_free(error)

    # A typed error: its variant and its value, through the header's types.
    assert lib.checked_div(-2**63, -1) == 0
    assert lib.ffi_export_error_take(error)
    assert error.variant == lib.ArithmeticError_IntegerOverflow_tag
    value = ffi.cast("ArithmeticError_repr *", error.value)
    overflow = value.data.IntegerOverflow
    assert (value.tag, overflow.a, overflow.b) == (lib.ArithmeticError_IntegerOverflow_tag, -2**63, -1)
    assert ffi.unpack(ffi.cast("char *", overflow.op.ptr), overflow.op.len) == b"/"
    lib.ffi_export_error_free(error)
    assert (error.code, error.variant, error.value) == (0, -1, ffi.NULL)

    counter = lib.Counter_new(5, b"c", 1)
    assert lib.Counter_add(counter, 3) == 8
    lib.Counter_free(counter)


def test_enum_discriminants_beyond_int(tmp_path) -> None:
    """C enumerators are ints: a `#[repr(u64)]`/`i64` discriminant outside
    that range is a #define (an integer literal cffi's cdef accepts too)."""
    import cffi

    big = {"kind": "enum", "key": "m::Big"}
    description = {
        "abi_version": 1,
        "exports": [{"name": "pick", "module": "m", "doc": "", "params": [{"name": "e", "type": big}],
                     "returns": big, "free": None, "owner": None, "kind": "function", "fast": False,
                     "batch": None}],
        "types": {"m::Big": {"kind": "enum", "name": "Big", "module": "m", "doc": "", "repr": "i64",
                             "variants": [["Small", 1], ["Huge", 2**62], ["Low", -2**40]]}},
    }
    text = ffi_export_tools.generate_header(description, "libbig.so")
    assert "    Big_Small = 1\n" in text
    assert "#define Big_Huge 4611686018427387904ULL\n" in text and "#define Big_Low -1099511627776LL\n" in text
    (tmp_path / "big.h").write_text(text)
    source = tmp_path / "big.c"
    source.write_text('#include "big.h"\nint main(void) { Big b = Big_Huge; return b == Big_Low; }\n')
    subprocess.run(["gcc", *CFLAGS, "-pedantic", "-I", str(tmp_path), "-c", str(source), "-o",
                    str(tmp_path / "big.o")], check=True)
    ffi = cffi.FFI()
    ffi.cdef(ffi_export_tools.generate_header(description, "libbig.so", cdef=True))
