"""Err(e) and panics become typed exceptions; the library keeps working."""

from __future__ import annotations

import array
import threading

import pytest

import ffi_export
from paths import any_lib, is_native, uses_fast_path  # noqa: F401 - any_lib is a fixture


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


# ---------------------------------------------------------------------------
# Typed errors: an `Err` of an #[export] record or enum carries its value
# (tests/src/lib.rs `typed_errors`), on the fast path and on ctypes.


def test_error_classes_of_export_types_are_made_at_load(any_lib) -> None:
    errors = any_lib.errors
    assert {"ArithmeticError", "Denied", "ValidationError", "Clash"} <= set(vars(errors))
    base = errors.ArithmeticError
    assert issubclass(base, ffi_export.FfiError) and base.rust_type == "ArithmeticError"
    for variant in ("DivisionByZero", "IntegerOverflow", "OutOfRange"):
        cls = getattr(base, variant)
        assert issubclass(cls, base) and cls.variant == variant
        assert cls.__qualname__ == f"errors.ArithmeticError.{variant}"
    assert [cls.__name__ for cls in base._variants] == ["DivisionByZero", "IntegerOverflow", "OutOfRange"]
    assert issubclass(errors.Denied.Locked, errors.Denied)
    assert errors.ValidationError._variants == () and errors.ValidationError.variant is None
    # The exception class is not the data class (which Python can build and pass).
    assert errors.ArithmeticError is not any_lib.ArithmeticError


def test_enum_error_raises_its_variant_class(any_lib) -> None:
    assert uses_fast_path(any_lib) == is_native(any_lib.checked_div)
    with pytest.raises(any_lib.errors.ArithmeticError.DivisionByZero) as info:
        any_lib.checked_div(1, 0)
    error = info.value
    assert isinstance(error, any_lib.errors.ArithmeticError) and isinstance(error, ffi_export.FfiError)
    assert str(error) == "division by zero"
    assert (error.rust_type, error.variant) == ("ArithmeticError", "DivisionByZero")
    assert error.value == any_lib.ArithmeticError.DivisionByZero()
    # Caught by the enum's class, or as any FfiError.
    with pytest.raises(any_lib.errors.ArithmeticError):
        any_lib.checked_div(1, 0)
    with pytest.raises(ffi_export.FfiError):
        any_lib.checked_div(1, 0)
    assert any_lib.checked_div(7, 2) == 3


def test_struct_and_tuple_variants_fields_are_attributes(any_lib) -> None:
    with pytest.raises(any_lib.errors.ArithmeticError.IntegerOverflow) as info:
        any_lib.checked_div(-2**63, -1)
    error = info.value
    assert (error.a, error.b, error.op) == (-2**63, -1, "/")
    assert str(error) == "integer overflow: -9223372036854775808 / -1"
    assert error.value == any_lib.ArithmeticError.IntegerOverflow(a=-2**63, b=-1, op="/")
    with pytest.raises(any_lib.errors.ArithmeticError.OutOfRange, match=r"^5 is out of range: not in 0\.\.=3$") as info:
        any_lib.in_range(5, 0, 3)
    assert (info.value._0, info.value._1, info.value.variant) == (5, "not in 0..=3", "OutOfRange")
    assert not isinstance(info.value, any_lib.errors.ArithmeticError.IntegerOverflow)


def test_field_less_enum_error_reports_its_variant_not_its_discriminant(any_lib) -> None:
    for level, variant, discriminant, message in [(1, "Anonymous", 10, "not logged in"),
                                                   (2, "Locked", -20, "account locked"),
                                                   (3, "OverQuota", 30, "quota exceeded")]:
        with pytest.raises(getattr(any_lib.errors.Denied, variant), match=f"^{message}$") as info:
            any_lib.check_access(level)
        assert info.value.variant == variant
        assert info.value.value is getattr(any_lib.Denied, variant)
        assert int(info.value.value) == discriminant
    assert any_lib.check_access(0) == 0


def test_record_error_fields_are_attributes(any_lib) -> None:
    with pytest.raises(any_lib.errors.ValidationError, match=r"^age: -3 is not an age \(code 422\)$") as info:
        any_lib.validate_age(-3)
    error = info.value
    assert (error.field, error.reason, error.code, error.hint) == ("age", "-3 is not an age", 422, "a positive number")
    assert error.variant is None and error.rust_type == "ValidationError"
    assert error.value == any_lib.ValidationError(field="age", reason="-3 is not an age", code=422,
                                                  hint="a positive number")
    with pytest.raises(any_lib.errors.ValidationError) as info:
        any_lib.validate_age(200)
    assert info.value.hint is None and info.value.reason == "200 is not an age"


def test_fields_named_like_exception_attributes_stay_on_the_value(any_lib) -> None:
    with pytest.raises(any_lib.errors.Clash.Fields) as info:
        any_lib.clash()
    error = info.value
    assert error.args == ("clash 1 v true",) and str(error) == "clash 1 v true"
    assert error.variant == "Fields"
    assert (error.value.args, error.value.value, error.value.variant) == (1, "v", True)


def test_method_and_batch_errors_are_typed(any_lib) -> None:
    wallet = any_lib.Wallet(5)
    with pytest.raises(any_lib.errors.ArithmeticError.OutOfRange, match="more than the balance 5") as info:
        wallet.spend(9)
    assert info.value._0 == 9
    assert wallet.spend(2) == 3
    with pytest.raises(any_lib.errors.ArithmeticError.OutOfRange, match=r"^element 1: 3 is out of range: odd$") as info:
        any_lib.halve_even.map(array.array("q", [2, 3, 4]))
    assert (info.value._0, info.value._1) == (3, "odd")


def test_typed_errors_stay_on_their_thread(any_lib) -> None:
    failures: list = []

    def worker(index: int) -> None:
        try:
            for i in range(500):
                value = index * 1000 + i
                try:
                    any_lib.in_range(value, -1, -1)
                except any_lib.errors.ArithmeticError.OutOfRange as error:
                    if (error._0, error.value._0) != (value, value):
                        failures.append((value, error._0))
                else:
                    failures.append("missing error")
        except Exception as error:  # pragma: no cover - reported below
            failures.append(repr(error))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_anyhow_errors_keep_their_context_chain(any_lib) -> None:
    with pytest.raises(any_lib.errors.Error) as info:
        any_lib.load_setting("x")
    assert str(info.value) == 'loading the setting: parsing "x": invalid digit found in string'
    assert (info.value.variant, info.value.value) == (None, None)
    assert any_lib.load_setting(" 42 ") == 42


def test_boxed_errors_keep_their_source_chain(any_lib) -> None:
    for fails in (any_lib.boxed_chain, any_lib.boxed_local_chain):
        with pytest.raises(any_lib.errors.Error) as info:
            fails("/etc/app.toml")
        assert str(info.value) == 'loading the config: reading "/etc/app.toml": no such file'
        assert info.value.value is None
    # A boxed error without a source: its message, as before.
    with pytest.raises(any_lib.errors.Error, match="^empty name$"):
        any_lib.greet("")
