"""Err(e) and panics become typed exceptions; the library keeps working."""

from __future__ import annotations

import threading

import pytest

import ffi_export


def test_err_raises_subclass_named_after_the_rust_type(lib) -> None:
    with pytest.raises(lib.errors.ParseIntError) as info:
        lib.parse_int("x")
    assert str(info.value) == "invalid digit found in string"
    assert isinstance(info.value, ffi_export.FfiError)
    assert info.value.rust_type == "ParseIntError"
    assert type(info.value).__name__ == "ParseIntError"


def test_custom_and_string_errors(lib) -> None:
    with pytest.raises(lib.errors.Custom, match="^custom failure #9$"):
        lib.maybe(9)
    with pytest.raises(lib.errors.Custom, match="^custom failure #0$"):
        lib.check_positive(0)
    # `String` and `Box<dyn Error>` errors are named `Error`.
    with pytest.raises(lib.errors.Error, match='^"x": invalid digit found in string$'):
        lib.split_numbers("1,x")
    with pytest.raises(lib.errors.Error, match="^empty name$"):
        lib.greet("")


def test_error_classes_are_created_at_load(lib) -> None:
    assert {"ParseIntError", "Custom", "Error", "BadDisplay"} <= set(vars(lib.errors))
    assert lib.errors.Custom is lib.errors.Custom


def test_panic_raises_rust_panic_with_message(lib) -> None:
    with pytest.raises(ffi_export.RustPanic, match="^boom 1$") as info:
        lib.panic_now("boom 1")
    assert info.value.rust_type == "RustPanic"
    with pytest.raises(ffi_export.RustPanic, match="^panicked holding 5 values$"):
        lib.panic_after_alloc(5)
    with pytest.raises(ffi_export.RustPanic, match="non-string payload"):
        lib.panic_any()
    # A panic inside the error's Display is caught too.
    with pytest.raises(ffi_export.RustPanic, match="^Display panicked$"):
        lib.bad_display()
    assert list(lib.panic_after_alloc(0)) == []


def test_panics_are_not_printed(lib, capfd) -> None:
    with pytest.raises(ffi_export.RustPanic):
        lib.panic_now("quiet please")
    assert "quiet please" not in capfd.readouterr().err


def test_success_after_failure_raises_nothing(lib) -> None:
    with pytest.raises(ffi_export.FfiError):
        lib.parse_int("nope")
    assert lib.parse_int("5") == 5
    assert lib.echo_i32(3) == 3


def test_errors_stay_on_their_thread(lib) -> None:
    """Failures on other threads never leak into this thread's results."""
    failures: list = []

    def worker(index: int) -> None:
        try:
            for i in range(2000):
                if (i + index) % 3 == 0:
                    try:
                        lib.parse_int("bad")
                    except lib.errors.ParseIntError:
                        pass
                    else:
                        failures.append("missing error")
                elif (i + index) % 3 == 1:
                    try:
                        lib.panic_now("p")
                    except ffi_export.RustPanic:
                        pass
                    else:
                        failures.append("missing panic")
                else:
                    if lib.parse_int(str(i)) != i:
                        failures.append("wrong value")
        except Exception as error:  # pragma: no cover - reported below
            failures.append(repr(error))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_each_library_instance_raises_its_own_exception_classes(lib) -> None:
    """`load` returns one Library per file; a second `Library(path)` of the
    same file still raises its own classes (it keeps the ctypes path, since
    the native fast path of that file is wired to the first instance)."""
    assert ffi_export.load(lib.path) is ffi_export.load(lib.path)
    other = ffi_export.Library(lib.path)
    assert other.errors.ParseIntError is not lib.errors.ParseIntError
    with pytest.raises(other.errors.ParseIntError):
        other.parse_int("x")
    with pytest.raises(lib.errors.ParseIntError):
        lib.parse_int("x")
    assert other.echo_i64(5) == lib.echo_i64(5) == 5
