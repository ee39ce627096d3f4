"""`async fn` exports: awaitables under asyncio, run by the library's
executor (or a user's runtime through `ffi_export::task::set_spawner`)
without blocking the event loop or holding the GIL; cancellation drops the
Rust future; errors and panics raise as for blocking calls."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import threading
import time

import pytest

import ffi_export
from conftest import library_path
from paths import any_lib  # noqa: F401 - fixture
from test_soundness import _run_child, exits_cleanly


def run(coro):
    return asyncio.run(coro)


def settle(lib, futures: int, tasks: int) -> None:
    """Waits (briefly) until the live future and task counts are back."""
    deadline = time.monotonic() + 5
    while (lib.live_futures(), lib.live_tasks()) != (futures, tasks) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert (lib.live_futures(), lib.live_tasks()) == (futures, tasks)


async def start_then_cancel(call) -> None:
    """Starts ``call`` (a coroutine), lets it start, cancels it."""
    task = asyncio.ensure_future(call)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_results_of_every_kind(any_lib) -> None:
    lib = any_lib

    async def main():
        return [
            await lib.nap_ms(1),
            await lib.add_later(2, -5),
            await lib.greet_later("Ada"),
            await lib.unit_later(),
            await lib.maybe_later(21),
            await lib.maybe_later(None),
            await lib.points_later(2),
            await lib.count_later(["a", "b", "a"]),
            await lib.bytes_later(3),
        ]

    point = lib.Point
    assert run(main()) == [1, -3, "hello, Ada", None, 42, None, [point(0.0, 0.0), point(1.0, 1.0)],
                           {"a": 2, "b": 1}, b"\x07\x07\x07"]
    circle = run(lib.grow_later(lib.Shape.Circle(radius=1.5), 2.0))
    assert circle == lib.Shape.Circle(radius=3.0)
    assert run(lib.grow_later(lib.Shape.Polygon("p", [1.0]), 2.0)) == lib.Shape.Polygon("p", [1.0])
    assert run(lib.mixed_later(lib.Kind.Guest, ["ab", "c"], -(2**100))) == (
        lib.Kind.Guest, ["ab", "c"], -(2**101), ("ab", 2))
    assert run(lib.mixed_later(lib.Kind.Admin, [], 0)) == (lib.Kind.Admin, [], 0, None)
    watch = run(lib.Stopwatch.started_after(2))
    assert isinstance(watch, lib.Stopwatch)
    watch.lap(5)
    assert list(watch.laps()) == [2, 5]
    watch.close()


def test_an_async_export_is_a_coroutine_function(any_lib) -> None:
    import inspect

    assert inspect.iscoroutinefunction(any_lib.nap_ms)
    assert inspect.signature(any_lib.add_later).return_annotation is int
    assert "Rust: ``async fn add_later(a: i64, b: i64) -> i64``" in any_lib.add_later.__doc__


def test_many_in_flight_at_once(any_lib) -> None:
    async def main():
        start = time.perf_counter()
        results = await asyncio.gather(*[any_lib.nap_ms(100) for _ in range(10)])
        return results, time.perf_counter() - start

    results, elapsed = run(main())
    assert results == [100] * 10
    assert elapsed < 0.6, elapsed  # one after the other would take 1 s


def test_a_future_ready_at_once_ends_inside_the_start_call(any_lib) -> None:
    # The first poll runs inside the start call (on this thread, without
    # the GIL); a future ready there completes without suspending the
    # coroutine: the loop is not entered and no executor thread is involved.
    lib = any_lib

    async def main():
        ready = lib.where_polled(False)
        with pytest.raises(StopIteration) as ended:
            ready.send(None)  # one step: it never suspends
        # What follows `leave_caller_thread().await` runs on the pool.
        return list(ended.value.value), list(await lib.where_polled(True))

    assert run(main()) == ([False], [False, True])


def test_the_loop_and_the_gil_stay_free_while_a_future_runs(any_lib) -> None:
    # `spin_ms` blocks its executor thread: the loop still ticks and another
    # Python thread still runs, so neither the loop nor the GIL is held.
    counted = []
    stop = threading.Event()

    def count() -> None:
        n = 0
        while not stop.is_set():
            n += 1
        counted.append(n)

    async def main():
        ticks = 0
        spin = asyncio.ensure_future(any_lib.spin_ms(300))
        while not spin.done():
            await asyncio.sleep(0.01)
            ticks += 1
        return ticks, spin.result()

    thread = threading.Thread(target=count)
    thread.start()
    try:
        ticks, result = run(main())
    finally:
        stop.set()
        thread.join()
    assert result == 300
    assert ticks >= 10, ticks
    assert counted[0] > 1000


def test_cancelling_the_python_task_drops_the_rust_future(any_lib) -> None:
    lib = any_lib
    futures, tasks = lib.live_futures(), lib.live_tasks()

    async def main():
        task = asyncio.ensure_future(lib.never())
        await asyncio.sleep(0.05)
        assert (lib.live_futures(), lib.live_tasks()) == (futures + 1, tasks + 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(lib.nap_ms(5000), 0.05)

    run(main())
    settle(lib, futures, tasks)


def test_errors_and_panics_raise_as_for_blocking_calls(any_lib) -> None:
    lib = any_lib
    with pytest.raises(lib.errors.ArithmeticError.DivisionByZero, match="^division by zero$"):
        run(lib.div_later(1, 0))
    with pytest.raises(lib.errors.ArithmeticError.IntegerOverflow) as info:
        run(lib.div_later(-(2**63), -1))
    assert (info.value.a, info.value.b, info.value.op) == (-(2**63), -1, "/")
    assert run(lib.div_later(7, 2)) == 3
    with pytest.raises(ffi_export.FfiError, match="^nope$") as failed:
        run(lib.fail_later("nope"))
    assert not isinstance(failed.value, ffi_export.RustPanic)
    with pytest.raises(ffi_export.RustPanic, match="^boom$"):
        run(lib.panic_later("boom"))
    assert run(lib.add_later(1, 1)) == 2  # the executor survived


def test_bad_arguments_raise_at_await_and_start_nothing(any_lib) -> None:
    lib = any_lib
    futures, tasks = lib.live_futures(), lib.live_tasks()
    with pytest.raises(TypeError, match="argument 'a'"):
        run(lib.add_later("1", 2))
    with pytest.raises(OverflowError, match="argument 'ms'"):
        run(lib.nap_ms(-1))
    with pytest.raises(TypeError, match=r"argument 'words'\[1\]"):
        run(lib.count_later(["a", 2]))
    settle(lib, futures, tasks)


def test_misuse_is_an_error_never_a_crash(any_lib) -> None:
    lib = any_lib
    # Awaiting the same call twice: Python refuses the reused coroutine.
    async def twice():
        call = lib.nap_ms(1)
        assert await call == 1
        with pytest.raises(RuntimeError, match="cannot reuse already awaited coroutine"):
            await call

    run(twice())

    # Cancelling after completion: nothing to cancel, the result stays.
    async def late_cancel():
        task = asyncio.ensure_future(lib.add_later(20, 22))
        assert await task == 42
        assert not task.cancel()
        return task.result()

    assert run(late_cancel()) == 42

    # Without a running loop (a plain thread driving the coroutine).
    call = lib.nap_ms(1)
    with pytest.raises(RuntimeError, match="no running event loop"):
        call.send(None)
    call.close()


def test_a_loop_closed_before_completion(any_lib) -> None:
    lib = any_lib
    futures, tasks = lib.live_futures(), lib.live_tasks()
    loop = asyncio.new_event_loop()
    task = loop.create_task(lib.nap_ms(50))
    loop.run_until_complete(asyncio.sleep(0.01))
    loop.close()  # the task is still pending in Rust
    time.sleep(0.1)  # on_done fires into the closed loop: ignored
    assert lib.live_tasks() == tasks + 1  # finished, not read
    del task
    # The abandoned coroutine is collected: its Rust task is cancelled
    # (CPython closes the coroutine; PyPy never closes one caught in a
    # reference cycle, and frees the cycle over a few collections, after
    # which the helper's finalizer of the awaited future cancels it).
    for _ in range(5):
        gc.collect()
    settle(lib, futures, tasks)


def test_blocking_form_from_a_thread_without_a_loop(any_lib) -> None:
    results = []
    thread = threading.Thread(target=lambda: results.append(asyncio.run(any_lib.greet_later("thread"))))
    thread.start()
    thread.join()
    assert results == ["hello, thread"]


def test_the_c_contract_through_ctypes(lib) -> None:
    cdll = ctypes.CDLL(library_path("ffi_export_tests"))
    done = threading.Event()
    seen = []
    on_done_type = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
    on_done = on_done_type(lambda context: (seen.append(context), done.set()))

    def declare(name: str, restype, *argtypes):
        function = cdll[name]
        function.argtypes, function.restype = list(argtypes), restype
        return function

    task_args = (on_done_type, ctypes.c_void_p)
    start = declare("add_later", ctypes.c_uint64, ctypes.c_int64, ctypes.c_int64, *task_args)
    finish = declare("add_later_finish", ctypes.c_int64, ctypes.c_uint64)
    cancel = declare("ffi_export_task_cancel", ctypes.c_bool, ctypes.c_uint64)
    take = declare("ffi_export_error_take", ctypes.c_bool, ctypes.c_void_p)

    def failed() -> bool:
        return bool(take(None))

    task = start(40, 2, on_done, 1234)
    assert task != 0 and not failed()
    assert done.wait(5)
    assert seen == [1234]
    assert finish(task) == 42 and not failed()
    assert finish(task) == 0 and failed()  # freed by the first finish
    assert not cancel(task)
    # NULL on_done is refused.
    assert start(1, 2, ctypes.cast(None, on_done_type), None) == 0 and failed()
    # A task that has not finished: finish refuses it and keeps it; cancel
    # calls on_done when it comes first, and frees it.
    never = declare("never", ctypes.c_uint64, *task_args)
    never_finish = declare("never_finish", ctypes.c_uint32, ctypes.c_uint64)
    done.clear()
    task = never(on_done, 99)
    assert task != 0 and not failed() and not done.is_set()
    assert never_finish(task) == 0 and failed()  # not finished yet
    assert not done.is_set()
    assert cancel(task) and done.is_set() and seen == [1234, 99]
    assert not cancel(task)
    assert never_finish(task) == 0 and failed()  # freed by cancel


# ---------------------------------------------------------------------------
# In child processes: a process-wide spawner, and interpreter shutdown


def test_a_tokio_runtime_through_the_spawner_hook() -> None:
    source = """
        import asyncio, time
        import ffi_export

        # A future that needs tokio's reactor panics on the built-in executor...
        try:
            asyncio.run(lib.tokio_sleep(1))
        except ffi_export.RustPanic as error:
            print("without tokio:", "reactor" in str(error) or "runtime" in str(error))
        # ...and works once the library hands its futures to tokio.
        print("first:", lib.use_tokio(), "second:", lib.use_tokio())

        async def main():
            start = time.perf_counter()
            results = await asyncio.gather(*[lib.tokio_sleep(100) for _ in range(10)],
                                           lib.nap_ms(100), lib.add_later(1, 2))
            elapsed = time.perf_counter() - start
            task = asyncio.ensure_future(lib.never())
            await asyncio.sleep(0.02)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            return results, elapsed

        results, elapsed = asyncio.run(main())
        print(results, elapsed < 0.6)
        deadline = time.monotonic() + 5
        while (lib.live_futures(), lib.live_tasks()) != (0, 0) and time.monotonic() < deadline:
            time.sleep(0.005)
        print("live:", lib.live_futures(), lib.live_tasks())
    """
    child = _run_child(source, True)
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.splitlines() == [
        "without tokio: True",
        "first: True second: False",
        f"{[100] * 10 + [100, 3]} True",
        "live: 0 0",
    ], child.stderr[-2000:]


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "ctypes"])
def test_tasks_completing_during_interpreter_shutdown_exit_cleanly(fast: bool) -> None:
    # Tasks finish (and call on_done, which needs the GIL) while the
    # interpreter finalizes: from loops in daemon threads, abandoned loops,
    # and blocking waits.
    source = """
        import asyncio, threading, time

        def looping():
            async def main():
                while True:
                    await asyncio.gather(*[lib.nap_ms(n % 7) for n in range(20)])
            asyncio.run(main())

        def abandoned():
            loop = asyncio.new_event_loop()
            tasks = [loop.create_task(lib.nap_ms(n)) for n in range(0, 400, 4)]
            loop.run_until_complete(asyncio.sleep(0.01))

        for target in [looping] * 3 + [abandoned]:
            threading.Thread(target=target, daemon=True).start()
        time.sleep(0.2)
        print("main done", flush=True)
    """
    exits_cleanly(source, fast, 3)
