"""Issue 14's native paths behave exactly like the default ones.

``#[export(keep_gil)]`` functions keep the GIL held during the call (no
other Python thread runs meanwhile) on both call paths, and otherwise
behave exactly like their default twins (``released_*``, the GIL
released): the same values, the same errors for failures and bad input,
and no reference taken or lost over many calls."""

from __future__ import annotations

import array
import ctypes
import enum
import gc
import inspect
import pydoc
import re
import sys
import threading
import time
from typing import Any, Callable, List, Tuple

import pytest

import ffi_export
from paths import FAST_PATH_EXPECTED, any_lib, is_native, load_without_fast_path  # noqa: F401 - a fixture

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
    ("twice", (1.5, lambda x: x * 2)), ("twice", (1.5, lambda x: "x")), ("twice", (1.5, lambda x: 1 / 0)),
    ("twice", (1.5, None)), ("twice", (1.5, lambda x: 2**1000)), ("twice", (1.5, lambda: 1.0)),
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
        message = re.sub(r"handle \d+", "handle N", message)
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
    for name in ("add", "root", "shout", "sum", "total", "halves", "twice"):
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


#: Whether ``keep_gil`` keeps the GIL: CPython (both paths); PyPy's ctypes
#: has no ``PyDLL`` and releases its GIL around every foreign call (a
#: documented difference).
KEEPS_GIL = hasattr(ctypes, "PyDLL")


def test_another_thread_runs_during_a_default_call_and_not_during_a_kept_one(
        any_lib: ffi_export.Library) -> None:
    assert _other_thread_progress(any_lib.hold_gil_released, 400) > 0
    progress = _other_thread_progress(any_lib.hold_gil_kept, 400)
    assert progress == 0 if KEEPS_GIL else progress > 0


#: Whether the interpreter counts references (PyPy does not).
REFCOUNTS = hasattr(sys, "getrefcount")


def _references(objects: List[Any]) -> List[int]:
    """Each object's reference count (CPython). PyPy has no reference
    counts: there, the number of objects referring to each."""
    if REFCOUNTS:
        return [sys.getrefcount(obj) for obj in objects]
    gc.collect()
    return [len(gc.get_referrers(obj)) for obj in objects]


def test_kept_calls_keep_reference_counts(any_lib: ffi_export.Library) -> None:
    # 100,000 calls (succeeding, failing in Rust, refused) take no reference
    # from their arguments and leave none on their results.
    big, text, values = 2**40, "abc é" * 5, array.array("d", [1.0, 2.0, 3.0])
    counts = {"k": 7000}
    doubler = lambda x: x * 2  # noqa: E731 - a fixed callable to watch
    watched = [big, text, values, counts, doubler, any_lib.kept_add, any_lib.kept_root]
    gc.collect()
    before = _references(watched)
    for i in range(100_000):
        step = i % 6
        if step == 5:
            result = any_lib.kept_twice(1.5, doubler)
        elif step == 0:
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
        # A result is a new object, held by this name only.
        assert result is None or not REFCOUNTS or sys.getrefcount(result) == 2
    gc.collect()
    assert _references(watched) == before


def test_the_fast_path_is_expected_here(lib: ffi_export.Library) -> None:
    # The thread test above covers the native path wherever it exists.
    assert is_native(lib.kept_add) == FAST_PATH_EXPECTED


# --- methods: the native function is the class attribute ----------------------------

#: Calls on a fresh ``Meter(10, "m")`` (``m``) of its class ``M`` (and the
#: library ``lib``): bound, through the class, by keyword, with defaults,
#: and every way to get them wrong.
METHOD_CALLS: List[Tuple[str, Callable[[Any, Any, Any], Any]]] = [
    ("positional", lambda m, M, lib: m.add(2)),
    ("with the default given", lambda m, M, lib: m.add(2, 3)),
    ("by keyword", lambda m, M, lib: m.add(by=2, times=3)),
    ("keyword after positional", lambda m, M, lib: m.add(2, times=3)),
    ("through the class", lambda m, M, lib: M.add(m, 2)),
    ("through the class, by keyword", lambda m, M, lib: M.add(m, by=1)),
    ("self by keyword", lambda m, M, lib: M.add(self=m, by=1)),
    ("no parameters", lambda m, M, lib: m.total()),
    ("str and default", lambda m, M, lib: m.label("<")),
    ("str by keyword", lambda m, M, lib: m.label(prefix="<", end="?")),
    ("Err", lambda m, M, lib: m.add(-1)),
    ("panic", lambda m, M, lib: m.add(2**62, 4)),
    ("out of range", lambda m, M, lib: m.add(2**63)),
    ("wrong type", lambda m, M, lib: m.add("1")),
    ("float for int", lambda m, M, lib: m.add(1.0)),
    ("bytes for str", lambda m, M, lib: m.label(b"<")),
    ("missing argument", lambda m, M, lib: m.add()),
    ("too many", lambda m, M, lib: m.add(1, 2, 3)),
    ("unknown keyword", lambda m, M, lib: m.add(1, bogus=2)),
    ("repeated keyword", lambda m, M, lib: m.add(1, by=2)),
    ("no self", lambda m, M, lib: M.add()),
    ("self of another class", lambda m, M, lib: M.total(lib.Counter(1, "c"))),
    ("self not an object", lambda m, M, lib: M.total(object())),
    ("self None", lambda m, M, lib: M.total(None)),
    ("closed", lambda m, M, lib: (m.close(), m.add(1))),
    ("closed, through the class", lambda m, M, lib: (m.close(), M.total(m))),
    ("subclass instance", lambda m, M, lib: type("Sub", (M,), {})(3, "s").add(1)),
    ("bound, then called", lambda m, M, lib: [m.add] * 2 and m.add(1) + m.add(1)),
]


def _method_outcome(library: ffi_export.Library, call: Callable[[Any, Any, Any], Any]) -> Tuple[Any, ...]:
    meter_class = library.types.Meter
    meter = meter_class(10, "m")
    outcome = _outcome(lambda: call(meter, meter_class, library))
    state = ("closed",) if meter.closed else _outcome(meter.total)
    return (*outcome, state)


@pytest.fixture(scope="module")
def both(lib: ffi_export.Library) -> Tuple[ffi_export.Library, ffi_export.Library]:
    """The library with its fast path (where the interpreter has one), and
    loaded again with ``FFI_EXPORT_NO_FAST=1``."""
    return lib, load_without_fast_path()


@pytest.mark.parametrize("what,call", METHOD_CALLS, ids=[what for what, _ in METHOD_CALLS])
def test_native_methods_behave_as_the_ctypes_path(both: Tuple[ffi_export.Library, ffi_export.Library], what: str,
                                                  call: Callable[[Any, Any, Any], Any]) -> None:
    fast, slow = both
    assert _method_outcome(fast, call) == _method_outcome(slow, call)


def test_methods_are_native_class_attributes(any_lib: ffi_export.Library) -> None:
    meter_class = any_lib.types.Meter
    meter = meter_class(1, "m")
    native = is_native(any_lib.echo_i64)
    for name in ("add", "total", "label"):
        function = vars(meter_class)[name]
        assert is_native(function) == native, name
        bound = getattr(meter, name)
        assert bound.__self__ is meter and bound.__func__ is function
        assert function.__qualname__ == f"Meter.{name}" and function.__name__ == name
        assert function.__doc__ and "Rust: ``fn " in function.__doc__
    assert str(inspect.signature(meter_class.add)) == "(self, by: int, times: int = 1) -> int"
    assert str(inspect.signature(meter.add)) == "(by: int, times: int = 1) -> int"
    assert str(inspect.signature(meter.label)) == "(prefix: str, end: str = '!') -> str"
    text = pydoc.render_doc(meter_class, renderer=pydoc.plaintext)
    assert "add(self, by: int, times: int = 1) -> int" in text
    assert "Adds `by` `times` times" in text


def test_native_functions_and_methods_show_as_functions(both: Tuple[ffi_export.Library, ffi_export.Library]) -> None:
    shapes = []
    for library in both:
        for function in (library.kept_add, library.echo_i64, library.types.Meter.add):
            # (PyPy shows another address than `id` for its functions.)
            assert re.fullmatch(f"<function {re.escape(function.__qualname__)} at 0x[0-9a-f]+>", repr(function))
            if is_native(function):
                assert repr(function).endswith(f" at {id(function):#x}>")
            shapes.append(re.sub("0x[0-9a-f]+", "ADDRESS", repr(function)))
    assert shapes[:3] == shapes[3:]
    meter = both[0].types.Meter(1, "m")
    assert repr(meter.add).startswith("<bound method Meter.add of <Meter (handle ")


def test_method_signatures_and_help_are_the_same_on_both_paths(
        both: Tuple[ffi_export.Library, ffi_export.Library]) -> None:
    texts = []
    for library in both:
        meter_class = library.types.Meter
        texts.append([str(inspect.signature(getattr(meter_class, name))) for name in ("add", "total", "label")]
                     + [pydoc.plaintext.document(getattr(meter_class, name)) for name in ("add", "total", "label")])
    assert texts[0] == texts[1]


def test_native_method_calls_keep_reference_counts(any_lib: ffi_export.Library) -> None:
    # 100,000 calls (bound, through the class, by keyword, failing) take no
    # reference from the object, its handle, the arguments or the methods.
    meter_class = any_lib.types.Meter
    meter = meter_class(0, "m")
    # Handles are numbered in order: one above CPython's cached small ints,
    # whose counts other code moves.
    while meter._handle < 1000:
        meter.close()
        meter = meter_class(0, "m")
    prefix, by = "p" * 10, 1
    handle = meter._handle
    watched = [meter, handle, prefix]
    if REFCOUNTS:  # PyPy's JIT refers to the functions it traced
        watched += [meter_class.add, meter_class.label, meter_class]
    gc.collect()
    before = _references(watched)
    for i in range(100_000):
        step = i % 4
        if step == 0:
            meter.add(by)
        elif step == 1:
            meter_class.add(meter, by=by, times=2)
        elif step == 2:
            text = meter.label(prefix)
            assert not REFCOUNTS or sys.getrefcount(text) == 2
        else:
            try:
                meter.add(-by)
            except ffi_export.FfiError:
                pass
    gc.collect()
    assert _references(watched) == before
    assert meter.total() == 25_000 * 3


# --- batches: every element once, a panic names its element -------------------------


@pytest.mark.parametrize("length", [0, 1, 4095, 4096, 4097, 12_293])
def test_batches_of_every_length_equal_per_element_calls(lib: ffi_export.Library, length: int) -> None:
    import numpy

    values = numpy.arange(length, dtype=numpy.int64) * 3 - 5000
    values[values == 7777] = 0
    lib.batch_calls()
    out = lib.steady_double.map(values)
    assert out.dtype == numpy.int64 and out.tolist() == [2 * int(v) for v in values]
    assert lib.batch_calls() == length  # each element once


@pytest.mark.parametrize("at", [0, 5, 4095, 4096, 4873])
def test_a_panic_names_its_element_and_runs_nothing_again(lib: ffi_export.Library, at: int) -> None:
    import numpy

    values = numpy.arange(3 * 4096, dtype=numpy.int64) + 7777 - at
    lib.batch_calls()
    with pytest.raises(ffi_export.RustPanic, match=f"^element {at}: bad 7777$"):
        lib.steady_double.map(values)
    assert lib.batch_calls() == at + 1


def test_a_panic_in_a_broadcast_value_names_element_0(lib: ffi_export.Library) -> None:
    with pytest.raises(ffi_export.RustPanic, match="^element 0: bad 7777$"):
        lib.steady_double.map(7777)


# --- callbacks: a Python function passed as `Callback<fn(..)>` ---------------------------


class _Int(int):
    pass


class _Real:
    def __float__(self) -> float:
        return 2.5


def _failing_second_time() -> Callable[[], int]:
    calls = []

    def next_value() -> int:
        calls.append(1)
        if len(calls) == 2:
            raise ValueError("second call")
        return 5
    return next_value


def _raise(exc: BaseException) -> Any:
    raise exc


def _with_values(values: Any, call: Callable[[Any], Any]) -> Tuple[Any, List[Any]]:
    """``call(values)``'s result and what ``values`` holds after it."""
    try:
        result = call(values)
    except Exception as exc:  # noqa: BLE001 - the buffer's state after a failure counts too
        return (type(exc).__name__, str(exc)), list(values)
    return result, list(values)


def _writing(values: Any, index: int, value: Any, result: Any) -> Callable[..., Any]:
    """A callback that writes ``values[index] = value``, then returns
    ``result``."""
    def callback(*args: Any) -> Any:
        values[index] = value
        return result
    return callback


def _failing_at(limit: float) -> Callable[[float], float]:
    def double(x: float) -> float:
        if x >= limit:
            raise ValueError(f"{x} too big")
        return x * 2
    return double


def _handling(call: Callable[[], Any]) -> Any:
    """``call()`` inside an ``except`` block."""
    try:
        raise KeyError("handled")
    except KeyError:
        return call()


#: Calls lending a Python function as a `Callback`; `log` collects what the
#: function was called with (types included).
CALLBACK_CALLS: List[Tuple[str, Callable[[Any, List[Any]], Any]]] = [
    ("three arguments", lambda lib, log: lib.call3(lambda a, b, c: log.append((a, b, c)) or a + b + c)),
    ("four arguments", lambda lib, log: lib.call4(lambda *a: log.append(a) or 2**64 - 1)),
    ("no arguments", lambda lib, log: lib.sum_of(3, lambda: log.append(()) or 7)),
    ("no calls", lambda lib, log: lib.sum_of(0, lambda: log.append(()) or 7)),
    ("by keyword", lambda lib, log: lib.sum_of(next=lambda: 2, times=4)),
    ("unit result ignores the value", lambda lib, log: lib.each_square(3, lambda i, sq: log.append((i, sq)) or "x")),
    ("int for f64", lambda lib, log: lib.call3(lambda a, b, c: 7)),
    ("bool for f64", lambda lib, log: lib.call3(lambda a, b, c: True)),
    ("__float__ for f64", lambda lib, log: lib.call3(lambda a, b, c: _Real())),
    ("infinity", lambda lib, log: lib.call3(lambda a, b, c: float("inf"))),
    ("str for f64", lambda lib, log: lib.call3(lambda a, b, c: "1.5")),
    ("None for f64", lambda lib, log: lib.call3(lambda a, b, c: None)),
    ("int subclass", lambda lib, log: lib.sum_of(2, lambda: _Int(5))),
    ("bool for i32", lambda lib, log: lib.sum_of(2, lambda: True)),
    ("float for i32", lambda lib, log: lib.sum_of(2, lambda: 1.0)),
    ("above i32", lambda lib, log: lib.sum_of(2, lambda: 2**31)),
    ("below i32", lambda lib, log: lib.sum_of(2, lambda: -(2**31) - 1)),
    ("above u64", lambda lib, log: lib.call4(lambda *a: 2**64)),
    ("negative u64", lambda lib, log: lib.call4(lambda *a: -1)),
    ("not callable", lambda lib, log: lib.sum_of(2, 5)),
    ("None for the callback", lambda lib, log: lib.sum_of(2, None)),
    ("wrong arity", lambda lib, log: lib.sum_of(2, lambda x: x)),
    ("raises", lambda lib, log: lib.sum_of(2, lambda: _raise(LookupError("nope")))),
    ("raises the second time", lambda lib, log: lib.sum_of(5, _failing_second_time())),
    ("Rust panics after it returned", lambda lib, log: lib.callback_then_panic(lambda x: log.append(x) or x + 1)),
    ("called while unwinding", lambda lib, log: lib.panic_then_callback(True, lambda x: log.append(x) or x)),
    ("raises while unwinding", lambda lib, log: lib.panic_then_callback(True, lambda x: _raise(KeyError(x)))),
    ("raises, then again while unwinding",
     lambda lib, log: lib.panic_then_callback(False, lambda x: log.append(x) or _raise(KeyError(x)))),
    ("raises while unwinding, in an except block",
     lambda lib, log: _handling(lambda: lib.panic_then_callback(True, lambda x: _raise(ValueError(x))))),
    ("raises, in an except block", lambda lib, log: _handling(lambda: lib.sum_of(2, lambda: _raise(OSError(2))))),
    ("a buffer written in place",
     lambda lib, log: _with_values(array.array("d", [1, 2, 3]), lambda v: lib.apply(v, lambda x: x * 2))),
    ("a buffer, the callback raising midway",
     lambda lib, log: _with_values(array.array("d", [1, 2, 3, 4]), lambda v: lib.apply(v, _failing_at(3)))),
    ("a buffer the callback writes", lambda lib, log: _with_values(
        array.array("d", [1, 2, 3]), lambda v: lib.apply(v, _writing(v, 2, 100.0, 5.0)))),
    ("an empty buffer", lambda lib, log: _with_values(array.array("d"), lambda v: lib.apply(v, lambda x: x))),
    ("a read-only buffer for &mut", lambda lib, log: lib.apply(b"12345678", lambda x: x)),
    ("a list for &mut", lambda lib, log: _with_values([1.0, 2.0], lambda v: lib.apply(v, lambda x: x * 2))),
    ("a buffer and a bool result", lambda lib, log: lib.count_where(array.array("q", [1, 5, 7]), lambda v: v > 2)),
    ("a buffer Rust reads after the callback wrote it", lambda lib, log: _with_values(
        array.array("Q", [10, 20]), lambda v: lib.observe(v, _writing(v, 0, 99, None)))),
    ("a &mut buffer written around the callback", lambda lib, log: _with_values(
        array.array("Q", [10, 20]), lambda v: lib.bump_around(v, _writing(v, 0, 99, None)))),
    ("a buffer, a Drop guard calling back", lambda lib, log: lib.sum_then_report(
        array.array("d", [1, 2]), lambda x: log.append(x) or x)),
    ("calls the library again", lambda lib, log: lib.sum_of(2, lambda: lib.sum_of(3, lambda: 4))),
    ("a nested call's exception", lambda lib, log: lib.sum_of(2, lambda: lib.sum_of(3, lambda: _raise(OSError(5))))),
    ("a nested call's refusal", lambda lib, log: lib.sum_of(2, lambda: lib.sum_of(-1, lambda: 4))),
]


def _callback_outcome(library: ffi_export.Library, call: Callable[[Any, List[Any]], Any]) -> Tuple[Any, ...]:
    log: List[Any] = []
    context: Any = None
    try:
        call(library, log)
    except Exception as exc:  # noqa: BLE001 - only its context is read here
        context = exc.__context__
    seen = [tuple((type(arg).__name__, arg) for arg in args) if isinstance(args, tuple) else args for args in log]
    # Two links of the chain: the exception handled around the call shows too.
    context_shape = None if context is None else (
        type(context).__qualname__, str(context), repr(context.__context__), context.__suppress_context__)
    return (_outcome(lambda: call(library, [])), seen, context_shape)


@pytest.mark.parametrize("what,call", CALLBACK_CALLS, ids=[what for what, _ in CALLBACK_CALLS])
def test_native_callbacks_behave_as_the_ctypes_path(both: Tuple[ffi_export.Library, ffi_export.Library], what: str,
                                                    call: Callable[[Any, List[Any]], Any]) -> None:
    fast, slow = both
    assert _callback_outcome(fast, call) == _callback_outcome(slow, call)


def test_functions_taking_callbacks_are_native(lib: ffi_export.Library) -> None:
    # Those lending buffers too (Rust gets private copies of them).
    for name in ("sum_of", "call3", "call4", "each_square", "callback_then_panic", "panic_then_callback",
                 "apply", "count_where", "observe", "bump_around", "sum_then_report"):
        assert is_native(getattr(lib, name)) == FAST_PATH_EXPECTED, name


def test_a_callbacks_exception_comes_back_as_the_same_object(any_lib: ffi_export.Library) -> None:
    raised = RuntimeError("from the callback")

    def fail() -> int:
        raise raised

    with pytest.raises(RuntimeError) as info:
        any_lib.sum_of(3, fail)
    assert info.value is raised
    # Its traceback still shows the callback's frame.
    frames = []
    tb = info.value.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    assert "fail" in frames


def test_callback_calls_keep_reference_counts_and_memory(any_lib: ffi_export.Library) -> None:
    # 100,000 calls lending callbacks (succeeding, raising, returning a
    # wrong type, re-entering the library) take no reference from the
    # callable, what it returns or closes over, and leave nothing behind.
    value = int("100000")  # not a cached small int
    error = ValueError("kept")
    returns_value = lambda: value  # noqa: E731 - a fixed callable to watch
    adds = lambda a, b, c: a + b + c  # noqa: E731

    def raises() -> int:
        raise error

    def wrong() -> Any:
        return "x"

    watched = [value, error, returns_value, adds, raises, wrong]
    before: List[int] = []
    blocks = 0
    # The first 10,000 fill what is cached (the ctypes path's trampolines).
    for i in range(110_000):
        if i == 10_000:
            error.__traceback__ = None
            gc.collect()
            before = _references(watched)
            blocks = sys.getallocatedblocks() if REFCOUNTS else 0
        step = i % 5
        if step == 0:
            assert any_lib.sum_of(2, returns_value) == 200_000
        elif step == 1:
            assert any_lib.call3(adds) == 6.5
        elif step == 2:
            with pytest.raises(ValueError):
                any_lib.sum_of(1, raises)
        elif step == 3:
            with pytest.raises(TypeError):
                any_lib.sum_of(1, wrong)
        else:
            assert any_lib.sum_of(1, lambda: any_lib.sum_of(1, returns_value)) == 100_000
    error.__traceback__ = None
    gc.collect()
    assert _references(watched) == before
    if REFCOUNTS:
        # Leaked arguments, results or exceptions would be 20,000+ blocks
        # (one kind of call in five); CPython 3.9's ctypes path grows by
        # ~1,600 over these calls itself.
        assert sys.getallocatedblocks() - blocks < 5_000


# --- records: read from and built as instances of their classes natively ------------


class _Float(float):
    pass


def _reading(lib: ffi_export.Library, **changes: Any) -> Any:
    """A ``Reading`` of ``lib`` with every field set, then ``changes``
    stored as they are (unchecked: the call checks them)."""
    reading = lib.types.Reading("s", 1.5, 3, True, "n", 7, ["a", "b"])
    for name, value in changes.items():
        object.__setattr__(reading, name, value)
    return reading


def _unset(lib: ffi_export.Library, field: str) -> Any:
    """A ``Reading`` whose ``field`` was never set."""
    reading = object.__new__(lib.types.Reading)
    for name in lib.types.Reading._fields:
        if name != field:
            object.__setattr__(reading, name, getattr(_reading(lib), name))
    return reading


def _cyclic_tree(lib: ffi_export.Library) -> Any:
    tree = lib.tree(1)
    tree.children.append(tree)
    return tree


def _deep_tree(lib: ffi_export.Library, depth: int) -> Any:
    tree = lib.types.Tree("leaf", [])
    for level in range(depth):
        tree = lib.types.Tree(f"n{level}", [tree])
    return tree


#: Calls passing and returning records, and every way to get them wrong.
RECORD_CALLS: List[Tuple[str, Callable[[Any], Any]]] = [
    ("returned", lambda lib: lib.make_reading("abé", 12.5, 7)),
    ("returned, options unset", lambda lib: lib.make_reading("x", 1.0, 1)),
    ("returned, Err", lambda lib: lib.make_reading("x", -1.0, 1)),
    ("returned, panic", lambda lib: lib.make_reading("x", 1.0, 0)),
    ("borrowed", lambda lib: lib.describe_reading(_reading(lib))),
    ("by value in and out", lambda lib: lib.recount(_reading(lib))),
    ("by keyword", lambda lib: lib.recount(reading=_reading(lib))),
    ("nested, built", lambda lib: lib.span(_reading(lib), _reading(lib, value=4.0))),
    ("nested, read", lambda lib: lib.span_width(lib.span(_reading(lib), _reading(lib, value=4.0)))),
    ("Option in, Some", lambda lib: lib.reading_value(_reading(lib))),
    ("Option in, None", lambda lib: lib.reading_value(None)),
    ("Option out, Some", lambda lib: lib.maybe_reading(True)),
    ("Option out, None", lambda lib: lib.maybe_reading(False)),
    ("Vec out", lambda lib: lib.readings(3)),
    ("Vec out, empty", lambda lib: lib.readings(0)),
    ("Vec in", lambda lib: lib.total_value([_reading(lib), _reading(lib, value=2.0)])),
    ("Vec in, tuple", lambda lib: lib.total_value((_reading(lib),))),
    ("recursive, built", lambda lib: lib.tree(3)),
    ("recursive, read", lambda lib: lib.count_nodes(lib.tree(4))),
    ("recursive, 150 deep", lambda lib: lib.count_nodes(_deep_tree(lib, 150))),
    ("recursive, 260 deep", lambda lib: lib.count_nodes(_deep_tree(lib, 260))),
    ("recursive, a cycle", lambda lib: lib.count_nodes(_cyclic_tree(lib))),
    ("number-vector fields", lambda lib: lib.samples("s", 3)),
    ("number-vector fields, empty", lambda lib: lib.samples("s", 0)),
    ("number-vector fields, read", lambda lib: lib.samples_sum(lib.samples("s", 4))),
    ("bytes for a Vec<u8> field", lambda lib: lib.samples_sum(lib.types.Samples("s", [1.0], b"ab", [True], [3]))),
    ("a Vec<u8> result", lambda lib: lib.samples_raw(lib.samples("s", 5))),
    ("a Vec<u8> result, empty", lambda lib: lib.samples_raw(lib.samples("s", 0))),
    ("a Vec<bool> result (ctypes)", lambda lib: list(lib.samples_flags(lib.samples("s", 5)))),
    ("an i16 out of range in a Vec field", lambda lib: lib.samples_sum(lib.types.Samples("s", [], b"", [], [2**15]))),
    ("int subclass field", lambda lib: lib.describe_reading(_reading(lib, count=_Int(4)))),
    ("float subclass field", lambda lib: lib.describe_reading(_reading(lib, value=_Float(2.5)))),
    ("int for a float field", lambda lib: lib.describe_reading(_reading(lib, value=2))),
    ("wrong field type", lambda lib: lib.describe_reading(_reading(lib, sensor=1))),
    ("field out of range", lambda lib: lib.describe_reading(_reading(lib, count=2**40))),
    ("negative for unsigned", lambda lib: lib.describe_reading(_reading(lib, count=-1))),
    ("int for a bool field", lambda lib: lib.describe_reading(_reading(lib, ok=1))),
    ("wrong Option field", lambda lib: lib.describe_reading(_reading(lib, note=b"n"))),
    ("tuple for a Vec field", lambda lib: lib.describe_reading(_reading(lib, labels=("a",)))),
    ("wrong item in a Vec field", lambda lib: lib.describe_reading(_reading(lib, labels=["a", 2]))),
    ("lone surrogate", lambda lib: lib.describe_reading(_reading(lib, sensor="\ud800"))),
    ("unset field", lambda lib: lib.describe_reading(_unset(lib, "count"))),
    ("nested wrong field", lambda lib: lib.span_width(lib.types.Span(_reading(lib), _reading(lib, value="x")))),
    ("another record", lambda lib: lib.describe_reading(lib.span(_reading(lib), _reading(lib)))),
    ("a dict", lambda lib: lib.describe_reading({"sensor": "s"})),
    ("None", lambda lib: lib.describe_reading(None)),
    ("a subclass", lambda lib: lib.describe_reading(type("Sub", (lib.types.Reading,), {})(
        "s", 1.5, 3, True, None, None, []))),
    ("wrong item in a Vec", lambda lib: lib.total_value([_reading(lib), 1])),
    ("missing argument", lambda lib: lib.recount()),
    ("every field kind, built", lambda lib: lib.make_person("Ann", 30)),
    ("every field kind, read", lambda lib: lib.describe_person(lib.make_person("Ann", 31))),
    ("every field kind, in and out", lambda lib: lib.birthday(lib.make_person("Bo", 17))),
    ("a Vec of them", lambda lib: lib.people(3)),
    ("Option of one", lambda lib: lib.maybe_person(True)),
    ("Result of one, Err", lambda lib: lib.parse_person("Ann")),
    ("an enum member", lambda lib: lib.next_kind(lib.types.Kind.Guest)),
    ("an enum's int", lambda lib: lib.next_kind(2)),
    ("an int that is no variant", lambda lib: lib.next_kind(3)),
    ("an enum's bool", lambda lib: lib.next_kind(True)),
    ("an int beyond i64", lambda lib: lib.next_kind(2**64)),
    ("another enum's member", lambda lib: lib.next_kind(_Color.RED)),
    ("an int subclass for an enum", lambda lib: lib.next_kind(_Int(1))),
    ("a Vec of enums", lambda lib: lib.kinds()),
    ("a bad enum field", lambda lib: lib.describe_person(_person(lib, kind=5))),
    ("an enum field by int", lambda lib: lib.describe_person(_person(lib, kind=1))),
    ("mutually recursive, one not native", lambda lib: (lib.folder("f"), lib.make_file("g"))),
    ("a buffer for a Vec<f64> field", lambda lib: lib.describe_person(_person(lib, scores=array.array("d", [1.0])))),
]


class _Color(enum.IntEnum):
    RED = 1


def _person(lib: ffi_export.Library, **changes: Any) -> Any:
    """A ``Person`` of ``lib`` with ``changes`` stored as they are."""
    person = lib.make_person("Cy", 40)
    for name, value in changes.items():
        object.__setattr__(person, name, value)
    return person


def _value_outcome(call: Callable[[], Any]) -> Tuple[Any, ...]:
    """What a caller observes of a call returning records: the result's
    type and ``repr`` (each library has its own classes), or the error."""
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001 - the exception is the outcome
        return ("raised", type(exc).__qualname__, str(exc))
    return ("ok", type(result).__qualname__, repr(result))


@pytest.mark.parametrize("what,call", RECORD_CALLS, ids=[what for what, _ in RECORD_CALLS])
def test_native_records_behave_as_the_ctypes_path(both: Tuple[ffi_export.Library, ffi_export.Library], what: str,
                                                  call: Callable[[Any], Any]) -> None:
    fast, slow = both
    assert _value_outcome(lambda: call(fast)) == _value_outcome(lambda: call(slow))


def test_functions_on_records_are_native(lib: ffi_export.Library) -> None:
    for name in ("make_reading", "describe_reading", "recount", "span", "span_width", "reading_value",
                 "maybe_reading", "readings", "total_value", "tree", "count_nodes", "samples", "samples_sum",
                 "samples_raw", "make_person", "describe_person", "birthday", "people", "next_kind", "kinds"):
        assert is_native(getattr(lib, name)) == FAST_PATH_EXPECTED, name
    # A `Vec<bool>` result is a zero-copy array, which the ctypes path makes.
    assert not is_native(lib.samples_flags)
    # `Folder` has a map field (no native result), so neither it nor `File`
    # (which holds folders) is built natively; `folder` is made first (the
    # helper takes exports by name), so `File` is asked about while
    # `Folder`'s answer is still open.
    assert not is_native(lib.folder) and not is_native(lib.make_file)


def test_records_built_natively_are_ordinary_instances(lib: ffi_export.Library) -> None:
    reading = lib.make_reading("a", 12.5, 7)
    assert type(reading) is lib.types.Reading
    assert reading == lib.types.Reading("a", 12.5, 7, True, "7 samples", 24, ["l0", "l1", "l2"])
    assert type(reading.count) is int and type(reading.value) is float and type(reading.ok) is bool
    reading.count = 8  # fields stay assignable
    assert lib.recount(reading).count == 9
    if hasattr(gc, "is_tracked"):  # CPython: the collector sees them as it sees any other
        assert gc.is_tracked(reading) == gc.is_tracked(lib.types.Reading("a", 1.0, 1, True, None, None, []))
    assert lib.types.Reading.__match_args__ == ("sensor", "value", "count", "ok", "note", "limit", "labels")


def test_record_calls_keep_reference_counts_and_memory(any_lib: ffi_export.Library) -> None:
    # 100,000 calls passing and returning records (and failing) take no
    # reference from the arguments or their fields, return results held by
    # nobody else, and leave no memory behind.
    # (Strings made at run time: a cached one-character string's count
    # moves with unrelated code.)
    reading = _reading(any_lib, sensor="sensor-" + str(len(CALLS)), note="note-" + str(len(CALLS)),
                       labels=["x" * 20, "y" * 20])
    span = any_lib.span(reading, reading)
    bad = _reading(any_lib, count=-1)
    watched = [reading, span, bad, reading.sensor, reading.labels, reading.labels[0], reading.note]
    before: List[int] = []
    blocks = 0
    for i in range(110_000):
        if i == 10_000:
            gc.collect()
            before = _references(watched)
            blocks = sys.getallocatedblocks() if REFCOUNTS else 0
        step = i % 5
        if step == 0:
            result = any_lib.recount(reading)
            assert not REFCOUNTS or sys.getrefcount(result) == 2
            assert result.count == 4
        elif step == 1:
            assert any_lib.span_width(span) == 0.0
        elif step == 2:
            assert len(any_lib.readings(2)) == 2
        elif step == 3:
            with pytest.raises(OverflowError):
                any_lib.describe_reading(bad)
        else:
            with pytest.raises(ffi_export.FfiError):
                any_lib.make_reading("x", -1.0, 1)
    result = None
    gc.collect()
    assert _references(watched) == before
    if REFCOUNTS:
        # A leaked record or string would be 20,000+ blocks.
        assert sys.getallocatedblocks() - blocks < 5_000


# --- objects: made, constructed and finalized natively ----------------------------


def _subclass_with_init(lib: ffi_export.Library) -> Any:
    """A subclass of ``Gadget`` whose own ``__init__`` takes other
    parameters and calls the class's."""
    gadget_class = lib.types.Gadget

    def __init__(self: Any, size: int) -> None:
        gadget_class.__init__(self, size, "sub")

    return type("Sub", (gadget_class,), {"__init__": __init__})


#: Calls with the library ``lib`` (``G`` is its ``Gadget`` class): the
#: constructor every way it can be called and refused, subclasses, objects
#: returned by methods and functions, a second ``__init__``, finalizers.
OBJECT_CALLS: List[Tuple[str, Callable[[Any, Any], Any]]] = [
    ("constructor", lambda G, lib: G(3, "a")),
    ("constructor with the default given", lambda G, lib: G(3, "a", False)),
    ("constructor by keyword", lambda G, lib: G(name="k", size=2, panic_on_drop=False)),
    ("constructor Err", lambda G, lib: G(0, "zero")),
    ("constructor, wrong type", lambda G, lib: G("3", "a")),
    ("constructor, out of range", lambda G, lib: G(2**32, "a")),
    ("constructor, negative", lambda G, lib: G(-1, "a")),
    ("constructor, bytes for str", lambda G, lib: G(1, b"a")),
    ("constructor, missing argument", lambda G, lib: G(1)),
    ("constructor, too many", lambda G, lib: G(1, "a", False, 4)),
    ("constructor, unknown keyword", lambda G, lib: G(1, "a", bogus=2)),
    ("constructor, repeated keyword", lambda G, lib: G(1, "a", size=2)),
    ("constructor, none", lambda G, lib: G()),
    ("__new__ of another class", lambda G, lib: G.__new__(int, 3, "new")),
    ("__new__ without a class", lambda G, lib: G.__new__()),
    ("__init__ twice", lambda G, lib: G(3, "a").__init__(4, "b")),
    ("__init__ on a closed one", lambda G, lib: (lambda g: (g.close(), g.__init__(4, "b"), g)[2])(G(3, "a"))),
    ("__init__ of another class's instance", lambda G, lib: G.__init__(lib.Counter(1, "c"), 4, "b")),
    ("subclass", lambda G, lib: type("Sub", (G,), {})(3, "s")),
    ("subclass, bad argument", lambda G, lib: type("Sub", (G,), {})("3", "s")),
    ("subclass with its own __init__", lambda G, lib: _subclass_with_init(lib)(5)),
    ("method returning an object", lambda G, lib: G(3, "a").grown(2)),
    ("static function returning Some", lambda G, lib: G.maybe(4)),
    ("static function returning None", lambda G, lib: G.maybe(0)),
    ("free function returning an object", lambda G, lib: lib.make_gadget(6)),
    ("closed, then a method", lambda G, lib: (lambda g: (g.close(), g.size()))(G(3, "a"))),
    ("closed twice, then dropped", lambda G, lib: (lambda g: (g.close(), g.close(), g.closed))(G(3, "a"))),
    ("__del__ called by hand", lambda G, lib: (lambda g: (g.__del__(), g.closed, g.__del__()))(G(3, "a"))),
    ("a panic in Drop, dropped", lambda G, lib: G(3, "boom", True) and None),
    ("a panic in Drop, closed", lambda G, lib: G(3, "boom", True).close()),
    ("another type's handle in _handle", lambda G, lib: _with_foreign_handle(G, lib)),
    ("a handle that is not an int", lambda G, lib: _with_handle(G(3, "a"), "3")),
    ("a negative handle", lambda G, lib: _with_handle(G(3, "a"), -1)),
]


def _with_handle(gadget: Any, handle: Any) -> Any:
    """Drops ``gadget`` with ``handle`` in its ``_handle`` slot (what a
    finalizer must survive), after freeing its own value."""
    gadget.close()
    object.__setattr__(gadget, "_handle", handle)
    del gadget
    gc.collect()
    return "dropped"


def _with_foreign_handle(gadget_class: Any, lib: ffi_export.Library) -> Any:
    counter = lib.Counter(1, "kept")
    _with_handle(gadget_class(3, "a"), counter._handle)
    return counter.get()  # the counter is still alive: its handle is not a Gadget's


def _object_outcome(lib: ffi_export.Library, call: Callable[[Any, Any], Any]) -> Tuple[Any, ...]:
    """What a caller observes: the result (an object by its class, size,
    name and state), or the error; what reached ``sys.unraisablehook``;
    and how many gadgets the call left alive once its results are gone."""
    gadget_class = lib.types.Gadget
    gc.collect()
    before = gadget_class.live()
    unraisable: List[str] = []
    hook, sys.unraisablehook = sys.unraisablehook, lambda u: unraisable.append(repr(u.exc_value))
    try:
        try:
            result = call(gadget_class, lib)
        except Exception as exc:  # noqa: BLE001 - the exception is the outcome
            message = re.sub(r"handle \d+", "handle N", str(exc))
            outcome: Tuple[Any, ...] = ("raised", type(exc).__qualname__, message)
        else:
            if isinstance(result, gadget_class):
                state = ("closed",) if result.closed else (result.size(), result.name())
                outcome = ("ok", type(result).__qualname__, *state, result._handle == result._id)
            else:
                outcome = ("ok", re.sub(r"handle \d+", "handle N", repr(result)))
        result = None
        gc.collect()
    finally:
        sys.unraisablehook = hook
    return (*outcome, unraisable, gadget_class.live() - before)


@pytest.mark.parametrize("what,call", OBJECT_CALLS, ids=[what for what, _ in OBJECT_CALLS])
def test_native_objects_behave_as_the_ctypes_path(both: Tuple[ffi_export.Library, ffi_export.Library], what: str,
                                                  call: Callable[[Any, Any], Any]) -> None:
    fast, slow = both
    assert _object_outcome(fast, call) == _object_outcome(slow, call)


def test_object_constructors_results_and_finalizers_are_native(lib: ffi_export.Library) -> None:
    gadget_class = lib.types.Gadget
    for function in (lib.make_gadget, gadget_class.maybe, vars(gadget_class)["grown"], gadget_class.new,
                     gadget_class.__new__, gadget_class.__init__, gadget_class.__del__,
                     lib.Counter.parse):
        assert is_native(function) == FAST_PATH_EXPECTED, function
    # The class still reads as one whose constructor takes the Rust
    # parameters, with the Rust docs.
    assert str(inspect.signature(gadget_class)) == "(size: int, name: str, panic_on_drop: bool = False) -> None"
    assert gadget_class.__init__.__doc__.startswith("A gadget of `size` (0 is an error)")
    assert str(inspect.signature(gadget_class.__init__)).startswith("(self, size: int, name: str")
    made = gadget_class(2, "g")
    assert type(made) is gadget_class and made._handle == made._id != 0
    assert not hasattr(made, "_fresh") or made._fresh is None or not FAST_PATH_EXPECTED


def test_object_constructions_keep_reference_counts_and_memory(any_lib: ffi_export.Library) -> None:
    # 110,000 objects made (constructor, method, function; some failing)
    # and dropped: every Rust value freed, no reference taken from the
    # arguments, no memory left behind.
    gadget_class = any_lib.types.Gadget
    name = "gadget-" + str(len(OBJECT_CALLS))
    kept = gadget_class(1, name)
    watched = [name, kept, gadget_class]
    before: List[int] = []
    blocks = live = 0
    made = None
    for i in range(110_000):
        if i == 10_000:
            made = None  # (an instance refers to its class)
            gc.collect()
            before = _references(watched)
            blocks = sys.getallocatedblocks() if REFCOUNTS else 0
            live = gadget_class.live()
        step = i % 5
        if step == 0:
            assert gadget_class(3, name).size() == 3
        elif step == 1:
            assert kept.grown(1).size() == 2
        elif step == 2:
            assert any_lib.make_gadget(4).size() == 4
        elif step == 3:
            with pytest.raises(ffi_export.FfiError):
                gadget_class(0, name)
        else:
            made = gadget_class(size=5, name=name)
            assert not REFCOUNTS or sys.getrefcount(made) == 2
            made.close()
    made = None
    gc.collect()
    assert gadget_class.live() == live
    assert _references(watched) == before
    if REFCOUNTS:
        # A leaked object or handle would be 20,000+ blocks.
        assert sys.getallocatedblocks() - blocks < 5_000


def test_object_comparisons_are_native_and_keep_reference_counts(any_lib: ffi_export.Library) -> None:
    # `==` of an object is its native shim (the other operand's handle read
    # from its slot); another type is NotImplemented; 100,000 comparisons
    # take no reference from either operand or their handles.
    bag_class = any_lib.protocols.Bag
    assert is_native(vars(bag_class)["__eq__"]) == is_native(any_lib.echo_i64)
    # Handles above CPython's cached small ints, whose counts other code moves.
    while bag_class(["y"])._handle < 1000:
        pass
    a, b, c = bag_class(["x" * 10]), bag_class(["x" * 10]), bag_class(["y"])
    assert bag_class.__eq__(a, 1) is NotImplemented and bag_class.__eq__(a, None) is NotImplemented
    sub = type("SubBag", (bag_class,), {})(["x" * 10])
    watched = [a, b, c, sub, a._handle, b._handle, c._handle]
    gc.collect()
    before = _references(watched)
    for i in range(100_000):
        step = i % 4
        if step == 0:
            assert a == b
        elif step == 1:
            assert a != c
        elif step == 2:
            assert (a == "x") is False
        else:
            assert a == sub
    gc.collect()
    assert _references(watched) == before


# --- iterators: the items read ahead are returned natively ------------------------


def test_rust_iterator_next_is_native_and_reads_only_list_iterators(lib: ffi_export.Library) -> None:
    # `RustIterator.__next__` is native where the fast path is (one per
    # process): it returns the items of the chunk read ahead itself and
    # hands anything else to the Python `__next__`.
    values = lib.values
    assert is_native(ffi_export.RustIterator.__next__) == FAST_PATH_EXPECTED
    assert ffi_export.RustIterator.__next__.__qualname__ == "RustIterator.__next__"
    assert list(values.count_up(600)) == list(range(600))
    # Chunks of plain items are read natively too (as lists); `Result`
    # items keep the ctypes reader, which raises each error at its item.
    for native in (values.count_up(1), values.numbered_words(1), values.mapped(2, lambda x: x)):
        assert is_native(native._next) == FAST_PATH_EXPECTED
        native.close()
    playlist = values.Playlist("p")
    assert not is_native(playlist.checked(3)._next)
    playlist.close()
    words = values.numbered_words(3)
    assert next(words) == "w0" and list(words) == ["w1", "w2"]
    # Whatever `_items` holds, the Python `__next__` deals with it: another
    # kind of iterator is read as one, a non-iterator is Python's TypeError.
    it = values.count_up(10)
    assert next(it) == 0
    object.__setattr__(it, "_items", (x for x in ("a", "b")))
    assert [next(it), next(it)] == ["a", "b"]
    object.__setattr__(it, "_items", 5)
    with pytest.raises(TypeError, match="'int' object is not an iterator"):
        next(it)
    object.__setattr__(it, "_items", iter([]))
    assert next(it) == 1  # the next chunk
    it.close()
    with pytest.raises(ValueError, match="this iterator is closed"):
        next(it)
    # A subclass reads the same way.
    assert ffi_export.RustIterator.__next__(values.count_up(2)) == 0
    gc.collect()
    assert values.live_iterators() == 0


def test_iterating_keeps_reference_counts_and_memory(lib: ffi_export.Library) -> None:
    # 200,000 items read (strings, chunks of up to 256, and one crossing per
    # item) take no reference from anything and leave no memory behind.
    values = lib.values
    before: List[int] = []
    blocks = 0
    it = one = None
    watched = [ffi_export.RustIterator, ffi_export.RustIterator.__next__]
    for round_ in range(12):
        if round_ == 2:
            it = one = None  # (an instance refers to its class)
            gc.collect()
            before = _references(watched)
            blocks = sys.getallocatedblocks() if REFCOUNTS else 0
        it = values.numbered_words(10_000)
        assert sum(1 for _ in it) == 10_000
        one = values.count_up(5_000)
        one.chunk = 1
        assert sum(one) == 5_000 * 4_999 // 2
    it = one = None
    gc.collect()
    assert _references(watched) == before
    assert values.live_iterators() == 0
    if REFCOUNTS:
        assert sys.getallocatedblocks() - blocks < 5_000
