"""``&dyn Fn(A..) -> R`` parameters: Python callables lent to Rust for one
call, with strings, records, options, vectors and ``Result`` crossing both
ways; a Python exception re-raises as itself; nothing stays held."""

from __future__ import annotations

import concurrent.futures
import gc
import inspect
import threading

import pytest

import ffi_export
from paths import any_lib  # noqa: F401 - fixture


def test_str_arguments_and_result_values(any_lib) -> None:
    assert any_lib.sum_parsed("1 2 3", int) == 6
    assert any_lib.sum_parsed("", int) == 0


def test_result_error_of_the_callback_is_the_call_error(any_lib) -> None:
    def parse(word):
        if word == "busy":
            raise any_lib.errors.ListenerError.Busy()
        return len(word)

    assert any_lib.sum_parsed("ab cde", parse) == 5
    with pytest.raises(any_lib.errors.ListenerError.Busy):
        any_lib.sum_parsed("a busy b", parse)


def test_python_exception_re_raises_as_itself(any_lib) -> None:
    class Mine(Exception):
        pass

    def parse(word):
        raise Mine(word)

    with pytest.raises(Mine, match="first") as info:
        any_lib.sum_parsed("first second", parse)
    assert not isinstance(info.value, ffi_export.RustPanic)
    with pytest.raises(ValueError, match="invalid literal"):
        any_lib.sum_parsed("1 x 3", int)
    gc.collect()
    assert ffi_export.held_by_rust() == 0


def test_records_and_options(any_lib) -> None:
    seen = []

    def describe(event):
        seen.append(event)
        return None if event.kind == "b" else f"{event.kind}{event.seq}{event.tags}"

    assert any_lib.describe_events(["a", "b", "c"], describe) == ["a0['t']", "c2['t']"]
    assert seen == [any_lib.Event(kind=k, seq=i, tags=["t"]) for i, k in enumerate("abc")]


def test_several_arguments_no_result(any_lib) -> None:
    seen = []
    assert any_lib.visit_all([1, -5, 2], lambda *a: seen.append(a)) == 3
    assert seen == [([1, 1], 0, 1), ([-5, -5], 1, None), ([2, 2], 2, None)]


def test_passed_on_inside_rust_and_two_callbacks(any_lib) -> None:
    assert any_lib.twice("x", lambda s: s + "!") == "x!!"
    assert any_lib.both(lambda: 3, lambda v: v == 3) is True


def test_unwinding_runs_rust_destructors(any_lib) -> None:
    before = any_lib.drops_seen()
    with pytest.raises(ZeroDivisionError):
        any_lib.both(lambda: 1 / 0, lambda v: True)
    assert any_lib.drops_seen() == before + 1
    gc.collect()
    assert ffi_export.held_by_rust() == 0


def test_bad_callables_and_results(any_lib) -> None:
    with pytest.raises(TypeError, match=r"argument 'first' \(&dyn Fn\(\) -> u8\) must be callable, not int"):
        any_lib.both(3, lambda v: True)
    with pytest.raises(OverflowError, match="the result of the callback argument 'first'"):
        any_lib.both(lambda: 300, lambda v: True)
    with pytest.raises(TypeError, match="callback argument 'f'"):
        any_lib.twice("x", lambda s: 5)
    # A bad argument before or after a callback: nothing stays lent.
    with pytest.raises(TypeError):
        any_lib.sum_parsed(5, int)
    with pytest.raises(TypeError, match="argument 'second'"):
        any_lib.both(lambda: 1, 5)
    gc.collect()
    assert ffi_export.held_by_rust() == 0


def test_re_entrant_call_from_the_callback(any_lib) -> None:
    def inner(s):
        return s if len(s) > 3 else any_lib.twice(s + "<", inner)

    assert any_lib.twice("a", inner) == "a<<<"


def test_signature_and_help(any_lib) -> None:
    assert list(inspect.signature(any_lib.sum_parsed).parameters) == ["text", "parse"]
    assert "&dyn Fn(String) -> Result<i32, ListenerError>" in any_lib.sum_parsed.__doc__


def test_threads_each_with_their_own_callback(any_lib) -> None:
    def work(n: int) -> None:
        for i in range(200):
            words = " ".join(str(j) for j in range(i % 7))
            assert any_lib.sum_parsed(words, lambda w, n=n: int(w) + n) == sum(range(i % 7)) + n * (i % 7)
            with pytest.raises(KeyError):
                any_lib.twice("k", lambda s: {}[s])

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        list(pool.map(work, range(6)))  # re-raises a thread's failure
    gc.collect()
    assert ffi_export.held_by_rust() == 0


def test_impl_fn_parameters_by_value(any_lib) -> None:
    assert list(any_lib.running([1, 2, 3], lambda total, tag: total * 10 if tag else -total)) == [-1, -3, 60]
    assert any_lib.shout_each(["a", "bc"], str.upper) == "A BC"
    with pytest.raises(AttributeError):
        any_lib.shout_each(["a"], lambda w: w.nope())
    gc.collect()
    assert ffi_export.held_by_rust() == 0


def test_called_from_rust_threads_during_the_call(any_lib) -> None:
    main = threading.get_ident()
    seen = set()

    def work(i):
        seen.add(threading.get_ident())
        return f"t{i}"

    assert any_lib.on_threads(8, work) == [f"t{i}" for i in range(8)]
    assert main not in seen and len(seen) >= 2

    def fail(i):
        if i == 5:
            raise LookupError(i)
        return ""

    with pytest.raises(LookupError):
        any_lib.on_threads(8, fail)
    gc.collect()
    assert ffi_export.held_by_rust() == 0
