"""Issue 14's native paths behave exactly like the default ones.

``#[export(keep_gil)]`` functions keep the GIL held during the call (no
other Python thread runs meanwhile) on both call paths, and otherwise
behave exactly like their default twins (``released_*``, the GIL
released): the same values, the same errors for failures and bad input,
and no reference taken or lost over many calls."""

from __future__ import annotations

import array
import gc
import sys
import threading
import time
from typing import Any, Callable, List, Tuple

import pytest

import ffi_export
from paths import FAST_PATH_EXPECTED, any_lib, is_native  # noqa: F401 - a fixture

#: Each kept function's calls: arguments that succeed, fail in Rust (Err,
#: panic) and are refused (types, ranges, buffers).
CALLS: List[Tuple[str, Tuple[Any, ...]]] = [
    ("add", (1, 2)), ("add", (-(2**63), 2**63 - 1)), ("add", (2**63 - 1, 1)), ("add", (2**63, 0)),
    ("add", (1.0, 2)), ("add", ("1", 2)), ("add", (True, 2)), ("add", (1,)), ("add", (1, 2, 3)),
    ("root", (16,)), ("root", (-4,)), ("root", (0,)), ("root", (None,)),
    ("shout", ("abé", 2)), ("shout", ("", 0)), ("shout", ("x", 256)), ("shout", (b"ab", 1)),
    ("shout", ("\ud800", 1)),
    ("sum", (array.array("d", [1.5, 2.5]), None)), ("sum", (array.array("d", [1.5, 2.5]), 2.0)),
    ("sum", ([1.5, 2.5], None)), ("sum", (array.array("f", [1.5]), None)), ("sum", (b"12345678", None)),
    ("sum", (array.array("d"), 3.0)),
    ("total", ({"a": 1, "b": 2}, [3])), ("total", ({}, [])), ("total", ({"a": -1}, [])),
    ("total", ({1: 1}, [])), ("total", ({"a": 1}, [2**32])), ("total", ({"a": 1}, (2, 3))),
    ("halves", (3,)), ("halves", (0,)), ("halves", (-1,)),
]


def _outcome(call: Callable[[], Any]) -> Tuple[Any, ...]:
    """What a caller observes of a call: its value, or its exception's
    class (by qualified name: each library has its own error classes),
    message and value."""
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome
        # The function's own name, in Python's messages, is the difference.
        message = str(exc).replace("kept_", "").replace("released_", "")
        return ("raised", type(exc).__qualname__, message, repr(getattr(exc, "value", None)))
    if isinstance(result, (int, float, str)):
        return ("ok", type(result).__name__, result)
    return ("ok", type(result).__name__, list(result))


@pytest.mark.parametrize("name,args", CALLS)
def test_kept_functions_behave_as_their_default_twins(any_lib: ffi_export.Library, name: str,
                                                      args: Tuple[Any, ...]) -> None:
    kept, released = getattr(any_lib, f"kept_{name}"), getattr(any_lib, f"released_{name}")
    assert _outcome(lambda: kept(*args)) == _outcome(lambda: released(*args))


def test_kept_functions_are_native_where_their_twins_are(any_lib: ffi_export.Library) -> None:
    for name in ("add", "root", "shout", "sum", "total", "halves"):
        kept, released = getattr(any_lib, f"kept_{name}"), getattr(any_lib, f"released_{name}")
        assert is_native(kept) == is_native(released), name
        assert kept.__doc__ is not None and released.__doc__ is not None
    # Only functions the fast path takes are native (a `Vec` result is not
    # built natively yet: that call goes through ctypes, keeping the GIL too).
    assert is_native(any_lib.kept_add) == is_native(any_lib.echo_i64)
    assert not is_native(any_lib.kept_halves)


def test_the_description_marks_kept_functions(lib: ffi_export.Library) -> None:
    exports = {export["name"]: export for export in lib._description["exports"]}
    assert exports["kept_add"].get("keep_gil") is True
    assert "keep_gil" not in exports["released_add"]


def _other_thread_progress(call: Callable[[int], int], ms: int) -> int:
    """How many steps another Python thread makes during the middle of a
    call of ``call(ms)`` (the first and last 20% of the call excluded, so
    thread switches around the call do not count)."""
    stamps: List[float] = []
    running = threading.Event()
    stop = threading.Event()

    def other() -> None:
        running.set()
        while not stop.is_set():
            stamps.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=other)
    thread.start()
    try:
        running.wait()
        time.sleep(0.02)
        start = time.perf_counter()
        assert call(ms) == ms
        end = time.perf_counter()
    finally:
        stop.set()
        thread.join()
    margin = (end - start) * 0.2
    return sum(start + margin < stamp < end - margin for stamp in stamps)


def test_another_thread_runs_during_a_default_call_and_not_during_a_kept_one(
        any_lib: ffi_export.Library) -> None:
    assert _other_thread_progress(any_lib.hold_gil_released, 400) > 0
    assert _other_thread_progress(any_lib.hold_gil_kept, 400) == 0


def test_kept_calls_keep_reference_counts(any_lib: ffi_export.Library) -> None:
    # 100,000 calls (succeeding, failing in Rust, refused) take no reference
    # from their arguments and leave none on their results.
    big, text, values = 2**40, "abc é" * 5, array.array("d", [1.0, 2.0, 3.0])
    counts = {"k": 7000}
    watched = [big, text, values, counts, any_lib.kept_add, any_lib.kept_root]
    gc.collect()
    before = [sys.getrefcount(obj) for obj in watched]
    for i in range(100_000):
        step = i % 5
        if step == 0:
            result: Any = any_lib.kept_add(big, i)
        elif step == 1:
            result = any_lib.kept_shout(text, 1)
        elif step == 2:
            result = any_lib.kept_sum(values, None)
        elif step == 3:
            result = any_lib.kept_total(counts, [1])
        else:
            try:
                any_lib.kept_root(-big)
            except ffi_export.FfiError:
                pass
            result = None
        # A result is a new object held by this name only.
        assert result is None or sys.getrefcount(result) == 2
    gc.collect()
    assert [sys.getrefcount(obj) for obj in watched] == before


def test_the_fast_path_is_expected_here(lib: ffi_export.Library) -> None:
    # The thread test above covers the native path wherever it exists.
    assert is_native(lib.kept_add) == FAST_PATH_EXPECTED
