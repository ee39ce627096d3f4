"""Callbacks into Python and the caller's allocator (``pub mod calls`` in
tests/src/lib.rs, plus ``Counter.visit``): results, exceptions crossing Rust
and coming back intact, bad callbacks, re-entrancy, outputs Python owns, and
memory."""

from __future__ import annotations

import array
import gc
import inspect
import itertools
import math
import threading
import traceback

import numpy
import pytest

import ffi_export
from test_memory import MiB, growth


class CallbackError(Exception):
    """A custom exception raised from callbacks."""


class Abort(BaseException):
    """Not an Exception: like KeyboardInterrupt, must still propagate."""


def _raise(exc):
    raise exc


def _stop():
    raise CallbackError("stop")


# ---------------------------------------------------------------------------
# Results written through callbacks


def test_apply_writes_results_in_place(lib) -> None:
    values = array.array("d", [1.0, -2.5, 0.0, 1e300])
    seen = []

    def double(x):
        seen.append(x)
        return x * 2

    assert lib.apply(values, double) is None
    assert seen == [1.0, -2.5, 0.0, 1e300] and all(type(x) is float for x in seen)
    assert values == array.array("d", [2.0, -5.0, 0.0, 2e300])
    # numpy, in place, any callable; an int result is a float to Rust.
    arr = numpy.arange(5, dtype=numpy.float64)
    lib.apply(arr, math.sqrt)
    assert arr.tolist() == [math.sqrt(i) for i in range(5)]
    lib.apply(values=arr, f=lambda x: 7)
    assert arr.tolist() == [7.0] * 5
    lib.apply(arr, numpy.float64)  # a numpy float result
    lib.apply(arr[:0], double)  # empty: never called
    assert len(seen) == 4
    # An element type mismatch is refused before any callback runs.
    with pytest.raises(TypeError, match=r"needs a buffer of f64, got f32"):
        lib.apply(numpy.zeros(3, dtype=numpy.float32), double)
    assert len(seen) == 4


def test_count_where_with_bool_results(lib) -> None:
    values = numpy.array([-(2**63), -1, 0, 1, 2, 2**63 - 1], dtype=numpy.int64)
    seen = []

    def positive(v):
        seen.append(v)
        return v > 0

    assert lib.count_where(values, positive) == 3
    assert seen == values.tolist() and all(type(v) is int for v in seen)
    assert lib.count_where(array.array("q", [1, 2, 3, 4]), lambda v: v % 2 == 0) == 2
    assert lib.count_where(values, lambda v: numpy.bool_(v == 0)) == 1  # numpy bools too
    assert lib.count_where(values, lambda v: False) == 0
    assert lib.count_where(array.array("q"), positive) == 0


def test_each_square_two_args_unit_result(lib) -> None:
    seen = []
    assert lib.each_square(4, lambda i, sq: seen.append((i, sq))) == "visited 0 1 2 3"
    assert seen == [(0, 0), (1, 1), (2, 4), (3, 9)]
    seen.clear()
    assert lib.each_square(0, lambda i, sq: seen.append(i)) == "visited"
    assert seen == []


def test_u64_callback_arguments_are_exact(lib) -> None:
    counts = []
    c = lib.Counter(2**64 - 2, "max")
    c.visit(counts.append)
    assert counts == [2**64 - 2]  # beyond i64, through a callback argument
    assert c.get() == 2**64 - 1


def test_sum_of_zero_arg_callback(lib) -> None:
    state = iter(range(1, 100))
    assert lib.sum_of(4, lambda: next(state)) == 1 + 2 + 3 + 4
    assert lib.sum_of(3, lambda: 2**31 - 1) == 3 * (2**31 - 1)  # summed as i64
    assert lib.sum_of(3, lambda: -(2**31)) == -3 * 2**31
    calls = []
    assert lib.sum_of(0, lambda: calls.append(1) or 1) == 0
    assert calls == []


def test_callback_signatures_and_docs(lib) -> None:
    assert lib.apply.__doc__.endswith("Rust: ``fn apply(values: &mut [f64], f: Callback<fn(f64) -> f64>)``")
    assert lib.sum_of.__doc__.endswith("Rust: ``fn sum_of(times: u32, next: Callback<fn() -> i32>) -> i64``")
    assert list(inspect.signature(lib.each_square).parameters) == ["n", "visit"]
    assert list(inspect.signature(lib.apply).parameters) == ["values", "f"]


# ---------------------------------------------------------------------------
# Exceptions in callbacks


def test_exception_is_reraised_same_object_with_traceback_and_rust_stops(lib) -> None:
    values = array.array("d", range(10))
    calls = []
    raised = CallbackError("third value")

    def bad_callback(x):
        calls.append(x)
        if len(calls) == 3:
            raise raised
        return -x

    with pytest.raises(CallbackError) as info:
        lib.apply(values, bad_callback)
    assert info.value is raised
    assert type(info.value) is CallbackError
    assert str(info.value) == "third value"
    # The traceback still runs through the callback, down to the raise.
    frames = traceback.extract_tb(info.value.__traceback__)
    assert "bad_callback" in [f.name for f in frames]
    assert frames[-1].name == "bad_callback" and "raise raised" in frames[-1].line
    # Rust stopped at the failing call: no fourth call, later values untouched.
    assert calls == [0.0, 1.0, 2.0]
    assert values.tolist() == [-0.0, -1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    # The library is healthy afterwards, and no stale exception resurfaces.
    lib.apply(values, lambda x: x + 1)
    assert values[9] == 10.0
    with pytest.raises(ffi_export.RustPanic, match="^boom$"):
        lib.panic_now("boom")
    assert lib.echo_i32(5) == 5


@pytest.mark.parametrize("exc_type", [KeyboardInterrupt, SystemExit, Abort, GeneratorExit, MemoryError])
def test_base_exceptions_propagate(lib, exc_type) -> None:
    count = []

    def interrupt(v):
        count.append(v)
        raise exc_type("stop now")

    with pytest.raises(exc_type, match="stop now"):
        lib.count_where(array.array("q", [1, 2, 3]), interrupt)
    assert count == [1]
    with pytest.raises(exc_type):
        lib.sum_of(5, lambda: interrupt(0))
    with pytest.raises(exc_type):
        lib.each_square(5, lambda i, sq: interrupt(i))


def test_exception_from_each_callback_kind(lib) -> None:
    for call in (
        lambda: lib.count_where(array.array("q", [1]), lambda v: _stop()),
        lambda: lib.each_square(3, lambda i, sq: _stop()),
        lambda: lib.sum_of(3, _stop),
    ):
        with pytest.raises(CallbackError, match="^stop$"):
            call()


def test_wrong_result_type_is_type_error(lib) -> None:
    values = array.array("d", [1.0, 2.0])
    for bad in ("2.0", None, [1.0], 1j):
        with pytest.raises(TypeError, match=r"the callback's result \(f64\) must be a float"):
            lib.apply(values, lambda x, bad=bad: bad)
    assert values.tolist() == [1.0, 2.0]
    # bool results take bools only, as bool parameters do.
    for bad in (1, 0, "yes", None):
        with pytest.raises(TypeError, match=r"the callback's result \(bool\) must be a bool"):
            lib.count_where(array.array("q", [1]), lambda v, bad=bad: bad)
    with pytest.raises(TypeError, match=r"the callback's result \(i32\) must be an int, not float"):
        lib.sum_of(1, lambda: 1.0)


def test_out_of_range_result_is_overflow_error(lib) -> None:
    calls = []

    def too_big():
        calls.append(1)
        return 2**31 if len(calls) == 2 else 1

    with pytest.raises(OverflowError, match=r"the callback's result \(i32\) must be in -2147483648..=2147483647, got 2147483648"):
        lib.sum_of(5, too_big)
    assert len(calls) == 2  # stopped at the bad result
    with pytest.raises(OverflowError, match="got -2147483649"):
        lib.sum_of(1, lambda: -(2**31) - 1)
    with pytest.raises(OverflowError):
        lib.sum_of(1, lambda: 2**100)


def test_non_callable_is_type_error(lib) -> None:
    for bad in (None, 3, "f", [len]):
        with pytest.raises(TypeError, match=r"argument 'f' \(Callback<fn\(f64\) -> f64>\) must be callable"):
            lib.apply(array.array("d", [1.0]), bad)
        with pytest.raises(TypeError, match=r"argument 'next' .* must be callable"):
            lib.sum_of(1, bad)


def test_wrong_arity_callback_raises_its_type_error(lib) -> None:
    with pytest.raises(TypeError, match="positional argument"):
        lib.each_square(3, lambda i: None)


def test_callback_exceptions_stay_on_their_thread(lib) -> None:
    results: dict = {}
    barrier = threading.Barrier(4)

    def work(k):
        mine = CallbackError(f"thread {k}")
        calls = []

        def cb(x):
            calls.append(x)
            if len(calls) == 500 + k:
                raise mine
            return x

        barrier.wait()
        try:
            lib.apply(array.array("d", range(2_000)), cb)
            results[k] = ("no exception", None)
        except BaseException as exc:  # noqa: BLE001 - checked below
            results[k] = (exc is mine, len(calls))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {k: (True, 500 + k) for k in range(4)}


def test_failing_callback_does_not_leak_the_rust_string(lib) -> None:
    # each_square holds a String it grows on every visit; the callback raises
    # at the 200th visit, when it holds ~700 bytes (capacity ~900): 30,000
    # leaked strings would be ~26 MiB.
    def fail_late(i, sq):
        if i == 199:
            raise CallbackError("late")

    def loop(n):
        for _ in range(n or 30_000):
            try:
                lib.each_square(1_000, fail_late)
            except CallbackError:
                pass
            else:
                raise AssertionError("no exception")
    assert growth(loop) < 8 * MiB


# ---------------------------------------------------------------------------
# Calling the library from inside a callback


def test_callback_calls_back_into_the_library(lib) -> None:
    values = array.array("d", [1.0, 2.0, 3.0])
    lib.apply(values, lambda x: lib.echo_f64(x) + lib.echo_i32(10))
    assert values.tolist() == [11.0, 12.0, 13.0]
    # Nested callbacks: a callback running another callback-taking export.
    assert lib.sum_of(3, lambda: lib.sum_of(2, lambda: 5)) == 30
    # An inner error caught inside the callback does not fail the outer call.
    def tolerant(x):
        try:
            lib.parse_int("not a number")
        except ffi_export.FfiError:
            return x * 10
        return -1.0

    lib.apply(values, tolerant)
    assert values.tolist() == [110.0, 120.0, 130.0]
    # An inner error not caught is re-raised from the outer call, the same object.
    caught = []

    def failing(x):
        try:
            lib.parse_int("q")
        except ffi_export.FfiError as exc:
            caught.append(exc)
            raise

    with pytest.raises(ffi_export.FfiError) as info:
        lib.apply(values, failing)
    assert info.value is caught[0] and type(info.value).__name__ == "ParseIntError"
    # An inner callback's exception crosses two Rust frames.
    with pytest.raises(CallbackError, match="deep"):
        lib.sum_of(2, lambda: lib.sum_of(2, lambda: _raise(CallbackError("deep"))))
    assert values.tolist() == [110.0, 120.0, 130.0]


def test_reentrant_method_call_from_callback_is_refused(lib) -> None:
    c = lib.Counter(1, "busy")
    other = lib.Counter(100, "free")
    seen = []

    def visit(count):
        seen.append(count)
        for call in (c.get, c.label, lambda: c.add(1)):
            with pytest.raises(ffi_export.InvalidArgument, match="re-entrant") as info:
                call()
            assert "Counter" in str(info.value)
        # Another object, and static functions, are fine meanwhile.
        assert other.add(1) == 101
        assert lib.Counter.live() >= 2

    assert c.visit(visit) is None  # returned: no deadlock
    assert seen == [1]
    assert c.get() == 2  # visit incremented after the callback
    c.visit(seen.append)
    assert seen == [1, 2] and c.get() == 3


def test_uncaught_reentrant_error_and_callback_exceptions_in_mut_method(lib) -> None:
    gc.collect()
    before = lib.Counter.live()
    c = lib.Counter(1, "busy")
    errors = []

    def reenter(count):
        try:
            c.get()
        except ffi_export.InvalidArgument as exc:
            errors.append(exc)
            raise

    with pytest.raises(ffi_export.InvalidArgument, match="re-entrant") as info:
        c.visit(reenter)
    assert info.value is errors[0]
    # The exception unwound a `&mut self` method mid-way: like a panic there,
    # it leaves the object unusable (it may be half changed) until closed.
    with pytest.raises(ffi_export.RustPanic, match="unusable"):
        c.get()
    c.close()
    assert lib.Counter.live() == before

    d = lib.Counter(5, "d")
    with pytest.raises(CallbackError, match="from visit"):
        d.visit(lambda count: _raise(CallbackError("from visit")))
    with pytest.raises(ffi_export.RustPanic, match="unusable"):
        d.add(1)
    del d
    gc.collect()
    assert lib.Counter.live() == before


# ---------------------------------------------------------------------------
# The caller's allocator


def test_sqrts_returns_header_and_array(lib) -> None:
    result = lib.sqrts(5)
    assert result == ["Square roots up to 5:", array.array("d", [math.sqrt(i) for i in range(1, 6)])]
    assert type(result) is list and type(result[0]) is str and type(result[1]) is array.array
    assert lib.sqrts(2, alloc="array") == ["Square roots up to 2:", array.array("d", [1.0, math.sqrt(2)])]
    assert lib.sqrts(n=1, alloc=None) == ["Square roots up to 1:", array.array("d", [1.0])]


def test_numpy_allocator(lib) -> None:
    header, roots = lib.sqrts(5, alloc="numpy")
    assert header == "Square roots up to 5:"
    assert type(roots) is numpy.ndarray and roots.dtype == numpy.float64 and roots.shape == (5,)
    assert roots.tolist() == [math.sqrt(i) for i in range(1, 6)]
    roots[0] = 9.0  # owned by Python: writable, nothing to free
    count, (evens, odds) = lib.partition(numpy.arange(7, dtype=numpy.int32), alloc="numpy")
    assert count == 7
    assert evens.dtype == numpy.int32 and evens.tolist() == [0, 2, 4, 6]
    assert odds.dtype == numpy.int32 and odds.tolist() == [1, 3, 5]


def test_custom_allocator_is_called_with_rust_type_and_length(lib) -> None:
    calls = []
    made = []

    def alloc(rust_type, length):
        calls.append((rust_type, length))
        out = numpy.zeros(length, dtype=numpy.float64 if rust_type == "f64" else numpy.int32)
        made.append(out)
        return out

    header, roots = lib.sqrts(4, alloc=alloc)
    assert calls == [("f64", 4)]  # text is not the allocator's business
    assert header == "Square roots up to 4:"
    assert roots is made[0] and roots.tolist() == [1.0, math.sqrt(2), math.sqrt(3), 2.0]
    calls.clear()
    made.clear()
    count, outputs = lib.partition(array.array("i", [5, 6, 7]), alloc=alloc)
    assert calls == [("i32", 1), ("i32", 2)]
    assert count == 3 and outputs[0] is made[0] and outputs[1] is made[1]
    assert [o.tolist() for o in outputs] == [[6], [5, 7]]
    # Any writable buffer of the right type and length works.
    header, roots = lib.sqrts(2, alloc=lambda t, n: memoryview(bytearray(8 * n)).cast("d"))
    assert roots.tolist() == [1.0, math.sqrt(2)]


def test_allocator_with_wrong_dtype_or_shape_is_refused(lib) -> None:
    with pytest.raises(TypeError, match=r"needs a buffer of f64, got f32"):
        lib.sqrts(3, alloc=lambda t, n: numpy.zeros(n, dtype=numpy.float32))
    with pytest.raises(TypeError, match=r"needs a buffer of i32, got i64"):
        lib.partition(array.array("i", [1]), alloc=lambda t, n: numpy.zeros(n, dtype=numpy.int64))
    with pytest.raises(TypeError, match=r"the allocator's output \(&mut \[f64\]\) must be a writable buffer, not list"):
        lib.sqrts(3, alloc=lambda t, n: [0.0] * n)
    with pytest.raises(TypeError, match="must be a buffer"):
        lib.sqrts(3, alloc=lambda t, n: None)
    with pytest.raises(ValueError, match="the allocator returned 4 elements of f64, 3 were asked for"):
        lib.sqrts(3, alloc=lambda t, n: numpy.zeros(n + 1))
    with pytest.raises(BufferError, match="writable"):
        lib.sqrts(3, alloc=lambda t, n: memoryview(array.array("d", [0.0] * n)).toreadonly())
    with pytest.raises(BufferError, match="C-contiguous"):
        lib.sqrts(3, alloc=lambda t, n: numpy.zeros(2 * n)[::2])
    # A misaligned buffer is fine: Rust fills an aligned private copy, copied
    # into it after the call (the caller's function could otherwise write it
    # while Rust holds it).
    backing = bytearray(8 * 3 + 1)
    _, roots = lib.sqrts(3, alloc=lambda t, n: memoryview(backing)[1:].cast("d"))
    assert list(roots) == [1.0, 2.0 ** 0.5, 3.0 ** 0.5]
    with pytest.raises(TypeError, match="must be None, 'array', 'numpy' or a function"):
        lib.sqrts(3, alloc="list")
    with pytest.raises(TypeError, match="positional argument"):
        lib.sqrts(3, "numpy")
    assert lib.sqrts(1) == ["Square roots up to 1:", array.array("d", [1.0])]  # healthy after


def test_allocator_exception_is_reraised(lib) -> None:
    error = MemoryError("no room for you")
    with pytest.raises(MemoryError) as info:
        lib.sqrts(3, alloc=lambda t, n: _raise(error))
    assert info.value is error
    assert "<lambda>" in [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    # Failing on the second output: the first is dropped, the call stops.
    calls = []

    def second_fails(rust_type, length):
        calls.append(length)
        if len(calls) == 2:
            raise CallbackError("second")
        return array.array("i", [0] * length)

    with pytest.raises(CallbackError, match="second"):
        lib.partition(array.array("i", [1, 2, 3]), alloc=second_fails)
    assert calls == [1, 2]
    with pytest.raises(KeyboardInterrupt):
        lib.sqrts(3, alloc=lambda t, n: _raise(KeyboardInterrupt()))


def test_zero_length_outputs(lib) -> None:
    assert lib.sqrts(0) == ["Square roots up to 0:", array.array("d")]
    header, roots = lib.sqrts(0, alloc="numpy")
    assert header == "Square roots up to 0:" and roots.shape == (0,) and roots.dtype == numpy.float64
    calls = []
    header, roots = lib.sqrts(0, alloc=lambda t, n: calls.append((t, n)) or array.array("d"))
    assert calls == [("f64", 0)] and roots == array.array("d")
    assert lib.partition(array.array("i")) == (0, [array.array("i"), array.array("i")])
    assert lib.partition(array.array("i", [2, 4])) == (2, [array.array("i", [2, 4]), array.array("i")])
    assert lib.partition(array.array("i", [-1])) == (1, [array.array("i"), array.array("i", [-1])])


def test_partition_returns_count_and_outputs(lib) -> None:
    result = lib.partition(array.array("i", [3, -2, 0, 7, 2**31 - 1, -(2**31)]))
    assert result == (6, [array.array("i", [-2, 0, -(2**31)]), array.array("i", [3, 7, 2**31 - 1])])
    assert type(result) is tuple and type(result[1]) is list


def test_allocator_parameter_is_keyword_only_and_optional(lib) -> None:
    for function, positional in ((lib.sqrts, ["n"]), (lib.partition, ["values"]), (lib.histogram, ["bytes"])):
        params = inspect.signature(function).parameters
        assert list(params) == positional + ["alloc"]
        assert params["alloc"].kind is inspect.Parameter.KEYWORD_ONLY
        assert params["alloc"].default is None
    assert "Rust: ``fn sqrts(n: u32, alloc: Allocator)``" in lib.sqrts.__doc__


def test_custom_allocator_outputs_start_zeroed(lib) -> None:
    # The allocator contract: outputs start zeroed (histogram counts with +=).
    assert lib.histogram(b"abca")[0][ord("a")] == 2
    reused = array.array("I", [7] * 256)  # e.g. a buffer recycled by the caller
    (counts,) = lib.histogram(b"abca", alloc=lambda t, n: reused)
    assert counts[ord("a")] == 2 and counts[ord("b")] == 1 and counts[0] == 0
    assert sum(counts) == 4


def test_allocator_outputs_must_not_alias(lib) -> None:
    # Two live `&mut [i32]` outputs over the same memory would be UB in Rust,
    # as would an output over the borrowed input: both must be refused, like
    # overlapping `&mut` arguments are.
    shared = numpy.zeros(8, dtype=numpy.int32)
    with pytest.raises((ValueError, ffi_export.FfiError), match="overlap"):
        lib.partition(array.array("i", [2, 4, 6, 1, 3, 5]), alloc=lambda t, n: shared[:n])
    values = numpy.array([2, 4, 6, 1, 3, 5], dtype=numpy.int32)
    with pytest.raises((ValueError, ffi_export.FfiError), match="overlap"):
        lib.partition(values, alloc=lambda t, n: values[:n])
    assert values.tolist() == [2, 4, 6, 1, 3, 5]  # the input was not written through


# ---------------------------------------------------------------------------
# Memory


def test_allocator_outputs_do_not_leak(lib) -> None:
    def loop(n):
        for i in range(n or 30_000):
            header, roots = lib.sqrts(64, alloc="numpy" if i % 2 else None)
            assert len(roots) == 64
    assert growth(loop) < 8 * MiB


def test_failing_allocator_does_not_leak(lib) -> None:
    # partition holds two Vec<i32> of 2,000 values (16 KiB) when the
    # allocator fails on its second output: 10,000 leaks would be ~160 MiB.
    values = numpy.arange(4_000, dtype=numpy.int32)
    calls = itertools.count()

    def second_fails(rust_type, length):
        if next(calls) % 2:
            raise MemoryError
        return numpy.zeros(length, dtype=numpy.int32)

    def loop(n):
        for _ in range(n or 10_000):
            try:
                lib.partition(values, alloc=second_fails)
            except MemoryError:
                pass
            else:
                raise AssertionError("no exception")
    assert growth(loop) < 8 * MiB


def test_callbacks_do_not_leak(lib) -> None:
    values = numpy.zeros(64)

    def loop(n):
        for _ in range(n or 30_000):
            lib.apply(values, lambda x: x + 1.0)
            assert lib.count_where(numpy.arange(8), lambda v: v > 3) == 4
    assert growth(loop) < 8 * MiB


def test_callback_cache_does_not_keep_captured_objects_alive(lib) -> None:
    """The trampoline cache holds functions weakly: what a callback closes
    over is freed when its last other reference goes."""
    import weakref

    base = lib.Counter.live()
    counter = lib.Counter(1, "captured")
    with pytest.raises(ffi_export.InvalidArgument, match="re-entrant"):
        counter.visit(lambda n: counter.label())

    class Doubler:
        def __call__(self, x: float) -> float:
            return x * 2

    doubler = Doubler()
    alive = weakref.ref(doubler)
    values = array.array("d", [1.0, 2.0])
    lib.apply(values, doubler)
    lib.apply(values, doubler)  # the cached trampoline
    assert values.tolist() == [4.0, 8.0]
    del doubler, counter
    gc.collect()
    assert alive() is None
    assert lib.Counter.live() == base
    lib.apply(values, math.sqrt)  # builtins: not weakly referenceable, not cached
    assert values.tolist() == [2.0, math.sqrt(8.0)]
