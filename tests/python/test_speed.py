"""The native paths of the CPython fast path behave exactly like the ctypes
path: the same exceptions (class, message, attributes, ``__cause__``,
``__context__``) for errors the library raises itself, and no reference
taken or lost on the arguments or the classes over many calls."""

from __future__ import annotations

import array
import gc
import inspect
import sys
import threading
from typing import Any, Callable, Dict, List, Tuple

import pytest

import ffi_export
from paths import is_native, load_without_fast_path, uses_fast_path

#: Failing calls, each raising an error the fast path raises natively (or,
#: for the typed error, through the helper).
FAILURES: List[Tuple[str, Callable[[Any], Any]]] = [
    ("Err of a std type", lambda lib: lib.parse_int("x")),
    ("Err of a user type", lambda lib: lib.check_positive(0)),
    ("Err of String", lambda lib: lib.add_into(array.array("i", [1]), array.array("i", [1, 2]),
                                               array.array("i", [0]))),
    ("Err of an #[export] type", lambda lib: lib.checked_div(1, 0)),
    ("panic", lambda lib: lib.panic_now("boom é")),
    ("panic in Display", lambda lib: lib.bad_display()),
    ("refused argument", lambda lib: _aliased(lib)),
]


def _aliased(lib: ffi_export.Library) -> Any:
    """``add_into`` with its output lent as an input too: refused by the
    library (``InvalidArgument``) before the function runs."""
    shared = array.array("i", [1, 2])
    return lib.add_into(shared, array.array("i", [3, 4]), shared)


def _exception(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 - the exception is the result
        return exc
    raise AssertionError("the call did not raise")


def _shape(exc: BaseException) -> Tuple[Any, ...]:
    """What a user can observe of an exception, class by qualified name
    (each library instance has its own error classes)."""
    return (type(exc).__qualname__, [c.__qualname__ for c in type(exc).__mro__], exc.args, str(exc),
            getattr(exc, "rust_type", None), getattr(exc, "variant", None), repr(getattr(exc, "value", None)),
            exc.__cause__, exc.__context__, exc.__suppress_context__)


@pytest.fixture(scope="module")
def both(lib: ffi_export.Library) -> Tuple[ffi_export.Library, ffi_export.Library]:
    assert uses_fast_path(lib)
    return lib, load_without_fast_path()


@pytest.mark.parametrize("what,call", FAILURES, ids=[what for what, _ in FAILURES])
def test_errors_are_the_same_on_both_paths(both, what: str, call: Callable[[Any], Any]) -> None:
    fast, slow = both
    fast_exc, slow_exc = _exception(lambda: call(fast)), _exception(lambda: call(slow))
    assert _shape(fast_exc) == _shape(slow_exc)
    assert isinstance(fast_exc, ffi_export.FfiError)
    # Each library's own class (lib.errors.<Name>[.<Variant>]) for Rust
    # error types, the helper's own for panics and refused arguments.
    path = type(fast_exc).__qualname__.split(".")
    if path[0] == "errors":
        for library, exc in both_with(fast_exc, slow_exc, both):
            found: Any = library
            for part in path:
                found = getattr(found, part)
            assert type(exc) is found
    else:
        assert type(fast_exc) is type(slow_exc)


def both_with(fast_exc: BaseException, slow_exc: BaseException, both: Any) -> List[Tuple[Any, BaseException]]:
    """Each library with its exception."""
    return [(both[0], fast_exc), (both[1], slow_exc)]


def test_error_messages_and_classes(lib: ffi_export.Library) -> None:
    exc = _exception(lambda: lib.parse_int("x"))
    assert type(exc) is lib.errors.ParseIntError and exc.args == ("invalid digit found in string",)
    exc = _exception(lambda: lib.panic_now("boom é"))
    assert type(exc) is ffi_export.RustPanic and exc.args == ("boom é",) and exc.__cause__ is None
    exc = _exception(lambda: _aliased(lib))
    assert type(exc) is ffi_export.InvalidArgument and "out" in str(exc)
    assert isinstance(exc, ValueError)


def test_an_error_raised_while_handling_another_has_it_as_context(both) -> None:
    for library in both:
        for _, call in FAILURES:
            try:
                raise KeyError("outer")
            except KeyError as outer:
                exc = _exception(lambda: call(library))  # noqa: B023 - called at once
                assert exc.__context__ is outer
                assert exc.__cause__ is None


def test_a_waiting_trait_methods_exception_still_becomes_the_panics_cause(both) -> None:
    # The panic of a call whose Python trait method raised names that
    # exception, which is its cause: both paths hand it to the helper.
    for library in both:
        waiting = KeyError("from a trait method")
        ffi_export._foreign_failures[threading.get_ident()] = waiting
        try:
            exc = _exception(lambda: library.panic_now("Listener::on_event raised KeyError"))
        finally:
            ffi_export._foreign_failures.pop(threading.get_ident(), None)
        assert type(exc) is ffi_export.RustPanic and exc.__cause__ is waiting


def test_failing_calls_keep_reference_counts(both) -> None:
    # 100,000 failing calls take no reference from their arguments or from
    # the exception classes, and leave none behind (after the first, which
    # has the library keep its class).
    text = "not a number " * 3
    for library in both:
        for call in (library.parse_int, library.panic_now):
            _exception(lambda: call(text))  # noqa: B023 - called at once
        watched = [text, library.errors.ParseIntError, ffi_export.RustPanic, ffi_export.InvalidArgument]
        gc.collect()
        before = [sys.getrefcount(obj) for obj in watched]
        for i in range(100_000):
            try:
                if i % 2:
                    library.parse_int(text)
                else:
                    library.panic_now(text)
            except ffi_export.FfiError:
                pass
        gc.collect()
        assert [sys.getrefcount(obj) for obj in watched] == before


def test_native_functions_are_the_attributes(both) -> None:
    fast, slow = both
    assert is_native(fast.greet_times) and is_native(fast.echo_i64)
    assert not is_native(slow.greet_times)
    for attribute in ("__name__", "__qualname__", "__module__", "__doc__", "__annotations__"):
        assert getattr(fast.greet_times, attribute) == getattr(slow.greet_times, attribute), attribute
    assert str(inspect.signature(fast.greet_times)) == str(inspect.signature(slow.greet_times)) == \
        "(name: str, times: int = 1, end: str = '!') -> str"
    assert inspect.isroutine(fast.greet_times)


CALLS: List[Tuple[Tuple[Any, ...], Dict[str, Any]]] = [
    (("ab",), {}), (("ab", 2), {}), (("ab", 2, "?"), {}), (("ab",), {"times": 3}),
    ((), {"name": "ab", "end": "."}), (("ab",), {"end": ".", "times": 2}),
    # Errors Python raises for the signature, and values the fast path hands on.
    ((), {}), (("ab", 1, "!", 4), {}), (("ab",), {"name": "cd"}), (("ab",), {"tims": 2}),
    (("ab",), {"times": 2.5}), ((b"ab",), {}), (("ab",), {"times": -1}),
    # A keyword that is not the interned name (bound by the wrapper).
    (("ab",), {"".join(["ti", "mes"]): 2}),
]


@pytest.mark.parametrize("args,kwargs", CALLS)
def test_keywords_and_defaults_are_bound_as_python_does(both, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
    fast, slow = both
    outcomes = []
    for library in both:
        try:
            outcomes.append(("ok", library.greet_times(*args, **kwargs)))
        except Exception as exc:  # noqa: BLE001 - the exception is the outcome
            outcomes.append((type(exc).__qualname__, str(exc)))
    assert outcomes[0] == outcomes[1]


def test_a_native_function_on_a_class_binds_like_a_function(lib) -> None:
    class Holder:
        echo = lib.echo_i64
        static = staticmethod(lib.echo_i64)

    assert Holder.echo is lib.echo_i64
    assert Holder.static(5) == Holder().static(5) == 5
    with pytest.raises(TypeError):
        Holder().echo(5)  # bound: echo(holder, 5)


def test_native_calls_keep_reference_counts(both) -> None:
    # 100,000 calls (positional, by keyword, with defaults) take no
    # reference from their arguments, the defaults or the results' sources.
    text, end = "a" * 20, "!"
    for library in both:
        watched = [text, end, "times", library.greet_times]
        gc.collect()
        before = [sys.getrefcount(obj) for obj in watched]
        for i in range(100_000):
            if i % 3 == 0:
                library.greet_times(text)
            elif i % 3 == 1:
                library.greet_times(text, times=2)
            else:
                library.greet_times(name=text, end=end)
        gc.collect()
        assert [sys.getrefcount(obj) for obj in watched] == before


def test_a_native_function_copies_as_itself_and_cannot_be_made_from_python(lib) -> None:
    import copy

    function = lib.echo_i64
    assert is_native(function)
    # As with a builtin function: copies are the function itself.
    assert copy.copy(function) is function
    assert copy.deepcopy({"f": function})["f"] is function
    with pytest.raises(TypeError, match="cannot create 'ffi_export.native_function' instances"):
        type(function)()


def test_a_daemon_thread_calling_natively_at_exit_does_not_hang_the_process() -> None:
    """The exit flag parks only library threads calling Python objects Rust
    keeps; a daemon thread calling the fast path in a loop (C API calls
    with the GIL held) when the helper's exit handler runs is stopped by
    CPython as usual, and the process exits."""
    from test_soundness import _run_child

    source = """
        import threading, time

        def spin():
            while True:
                lib.echo_i64(1)

        for _ in range(2):
            threading.Thread(target=spin, daemon=True).start()
        time.sleep(0.2)
        print("main done", flush=True)
    """
    for _ in range(3):
        child = _run_child(source, True)
        assert child.returncode == 0, child.stderr[-2000:]
        assert "main done" in child.stdout
