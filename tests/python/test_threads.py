"""Every kind of export from 8 Python threads at once, 100,000 calls in all,
mixed success, error and panic, every result checked (tests/python/mixed.py).

The fast path and ctypes both release the GIL during the Rust call, so the
threads really are in Rust together: errors must stay with the thread that
caused them (each message embeds the thread's tag), and one object shared
by all threads must count every ``add`` exactly once.
"""

from __future__ import annotations

import sys
import threading

import pytest

import ffi_export
import mixed
from paths import FAST_PATH_EXPECTED, load_without_fast_path, uses_fast_path

THREADS = 8


@pytest.fixture(scope="module")
def nofast_lib() -> ffi_export.Library:
    """The test library loaded a second time with the fast path off."""
    return load_without_fast_path()


def stress(lib, total_calls: int) -> tuple[list[mixed.State], int]:
    """Runs mixed calls from THREADS threads until each made its share of
    ``total_calls``; returns the states and the shared counter's start."""
    start = 1_000
    shared = lib.Counter(start, "shared")
    barrier = threading.Barrier(THREADS)
    states = [mixed.State(lib, f"t{n}", shared) for n in range(THREADS)]
    failures: list[BaseException] = []
    made = [0] * THREADS

    def work(n: int) -> None:
        state = states[n]
        barrier.wait()
        i = n  # threads start at different operations
        try:
            while made[n] < total_calls // THREADS:
                made[n] += mixed.call(state, i)
                i += 1
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often
    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    if failures:
        raise failures[0]
    assert sum(made) >= total_calls
    # Every add from every thread was counted once, and the object is healthy.
    assert shared.get() == start + sum(s.shared_adds for s in states)
    shared.close()
    for s in states:
        assert set(s.counts) == {op.__name__ for op in mixed.OPERATIONS}, s.counts
    return states, sum(made)


def test_eight_threads_100k_mixed_calls(lib) -> None:
    assert uses_fast_path(lib) == FAST_PATH_EXPECTED
    live = lib.Counter.live()
    states, made = stress(lib, 100_000)
    assert made >= 100_000
    assert lib.Counter.live() == live  # every object freed
    assert lib.parse_int("5") == 5  # and the process is healthy


def test_eight_threads_with_the_fast_path_off(nofast_lib) -> None:
    assert not uses_fast_path(nofast_lib)
    live = nofast_lib.Counter.live()
    stress(nofast_lib, 20_000)
    assert nofast_lib.Counter.live() == live


def test_errors_stay_with_their_thread(lib) -> None:
    """Two threads fail in lockstep with different messages, many times."""
    barrier = threading.Barrier(2)
    seen: dict[int, set[str]] = {0: set(), 1: set()}

    def work(n: int) -> None:
        barrier.wait()
        for i in range(3000):
            try:
                lib.panic_now(f"thread {n}")
            except ffi_export.RustPanic as error:
                seen[n].add(str(error))
            if i % 3 == 0:
                assert lib.echo_i32(i) == i  # a success in between clears nothing else

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {0: {"thread 0"}, 1: {"thread 1"}}


def test_shared_object_poisoned_by_one_thread_fails_for_all(lib) -> None:
    counter = lib.Counter(1, "poison")
    with pytest.raises(ffi_export.RustPanic):
        counter.add_or_panic(0)
    errors: list[str] = []

    def work() -> None:
        for _ in range(200):
            try:
                counter.get()
            except ffi_export.RustPanic as error:
                errors.append(str(error))

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == THREADS * 200 and all("unusable" in e for e in errors)
    counter.close()


def test_fresh_callbacks_from_many_threads_share_the_trampoline_cache(nofast_lib) -> None:
    # The ctypes path caches one trampoline per Python function (128 at
    # most): 8 threads lending fresh functions insert and evict at once.
    # (PyPy's OrderedDict raised "dictionary changed size during
    # iteration" from an eviction racing another thread's insert.)
    failures: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(3_000):
                assert nofast_lib.sum_of(1, lambda: n + i) == n + i
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
