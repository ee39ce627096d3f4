"""Objects (``#[export] impl Counter`` in ``pub mod objects`` of
tests/src/lib.rs): constructors, methods, lifecycle proven by the Rust side's
live-instance counter, panics and poisoning, threads, and the checked handles
of the raw C ABI."""

from __future__ import annotations

import ctypes
import gc
import inspect
import random
import threading

import pytest

import ffi_export
from test_memory import MiB, growth


def live(lib) -> int:
    """Counters alive on the Rust side, after Python dropped what it could."""
    gc.collect()
    return lib.Counter.live()


# ---------------------------------------------------------------------------
# Construction, methods, results


def test_constructor_and_methods(lib) -> None:
    c = lib.Counter(5, "a")
    assert type(c) is lib.Counter and isinstance(c, lib.Counter)
    assert c.get() == 5 and type(c.get()) is int
    assert c.label() == "a"
    assert c.add(3) == 8
    assert c.add(0) == 8
    assert c.get() == 8
    assert c.add(2**64 - 1 - 8) == 2**64 - 1  # the largest u64 fits
    assert not c.closed
    # Keyword arguments use the Rust parameter names.
    k = lib.Counter(start=2, label="Zoë🦀")
    assert k.label() == "Zoë🦀" and k.add(by=1) == 3
    # `Counter.new` is the same constructor as a static function.
    n = lib.Counter.new(7, "n")
    assert type(n) is lib.Counter and n.get() == 7 and n.label() == "n"


def test_constructor_arguments_are_checked(lib) -> None:
    with pytest.raises(OverflowError, match=r"argument 'start' \(u64\)"):
        lib.Counter(-1, "a")
    with pytest.raises(OverflowError, match=r"argument 'start' \(u64\)"):
        lib.Counter(2**64, "a")
    with pytest.raises(TypeError, match=r"argument 'label' \(&str\) must be a str"):
        lib.Counter(1, b"a")
    with pytest.raises(TypeError):
        lib.Counter(1)
    c = lib.Counter(1, "a")
    with pytest.raises(TypeError, match=r"argument 'by' \(u64\) must be an int"):
        c.add(1.5)
    with pytest.raises(OverflowError, match=r"argument 'by' \(u64\)"):
        c.add(-1)
    assert c.get() == 1


def test_parse_constructor(lib) -> None:
    c = lib.Counter.parse("a=3")
    assert type(c) is lib.Counter
    assert c.get() == 3 and c.label() == "a"
    empty = lib.Counter.parse(text="=0")
    assert empty.label() == "" and empty.get() == 0
    with pytest.raises(lib.errors.Error, match="^expected label=start$") as error:
        lib.Counter.parse("no equals sign")
    assert isinstance(error.value, ffi_export.FfiError)
    assert error.value.rust_type == "Error"
    with pytest.raises(lib.errors.Error, match="^bad start: invalid digit found in string$"):
        lib.Counter.parse("a=three")


def test_add_overflow_is_an_error_and_changes_nothing(lib) -> None:
    c = lib.Counter(2**64 - 2, "big")
    with pytest.raises(lib.errors.Error, match="^counter overflow$"):
        c.add(2)
    assert c.get() == 2**64 - 2  # the Err path left the count alone
    assert c.add(1) == 2**64 - 1  # and the object is still usable
    with pytest.raises(lib.errors.Error, match="counter overflow"):
        c.add(1)


def test_fork_returns_a_new_independent_object(lib) -> None:
    before = live(lib)
    a = lib.Counter(10, "a")
    b = a.fork()
    assert type(b) is lib.Counter and b is not a
    assert b._handle != a._handle
    assert live(lib) == before + 2
    assert b.get() == 10 and b.label() == "a (fork)"
    assert b.add(5) == 15
    assert a.get() == 10  # unchanged by the fork's change
    assert a.add(1) == 11
    assert b.get() == 15
    a.close()
    assert b.get() == 15  # closing one leaves the other alive
    assert live(lib) == before + 1
    del b
    assert live(lib) == before


def test_signatures_and_docstrings(lib) -> None:
    Counter = lib.Counter
    sig = inspect.signature(Counter)
    assert list(sig.parameters) == ["start", "label"]
    assert sig.parameters["start"].annotation is int
    assert sig.parameters["label"].annotation is str
    assert Counter.__name__ == "Counter"
    assert Counter.__doc__ == "A named counter, safe to share between threads."
    assert Counter.__init__.__doc__ == (
        "A counter starting at `start`.\n\nRust: ``fn new(start: u64, label: &str) -> Counter``"
    )
    assert Counter.parse.__doc__ == (
        "Parses `label=start`.\n\nRust: ``fn parse(text: &str) -> Result<Counter, Error>``"
    )
    assert Counter.add.__doc__ == (
        "Adds `by` and returns the new count; overflow is an error.\n\n"
        "Rust: ``fn add(&mut self, by: u64) -> Result<u64, Error>``"
    )
    assert Counter.get.__doc__.endswith("Rust: ``fn get(&self) -> u64``")
    assert Counter.live.__doc__ == "How many counters are alive right now.\n\nRust: ``fn live() -> usize``"
    assert list(inspect.signature(Counter.parse).parameters) == ["text"]
    assert inspect.signature(Counter.parse).return_annotation is Counter
    assert inspect.signature(Counter.fork).return_annotation is Counter
    assert list(inspect.signature(Counter.add).parameters) == ["self", "by"]
    assert list(inspect.signature(Counter.live).parameters) == []
    assert Counter.add.__qualname__ == "Counter.add"
    assert lib.Gauge.__doc__ == "A level."
    assert "Counter" in repr(Counter(1, "r"))


# ---------------------------------------------------------------------------
# Lifecycle, proven by the Rust side's count of live counters


def test_dropped_objects_are_freed(lib) -> None:
    before = live(lib)
    counters = [lib.Counter(i, f"c{i}") for i in range(10)]
    assert live(lib) == before + 10
    del counters[:4]
    assert live(lib) == before + 6
    del counters
    assert live(lib) == before
    # Objects returned by functions (parse, fork) are owned the same way.
    made = [lib.Counter.parse("p=1"), lib.Counter(1, "f").fork()]
    assert live(lib) == before + 2
    del made
    assert live(lib) == before
    # A reference cycle is freed by the collector.
    holder: list = [lib.Counter(0, "cycle")]
    holder.append(holder)
    del holder
    assert live(lib) == before


def test_close_frees_immediately_and_twice_is_harmless(lib) -> None:
    before = live(lib)
    c = lib.Counter(1, "c")
    assert lib.Counter.live() == before + 1
    c.close()
    assert lib.Counter.live() == before  # no collection needed
    assert c.closed
    assert "closed" in repr(c)
    c.close()
    c.close()
    assert live(lib) == before
    del c
    assert live(lib) == before


def test_use_after_close_raises_value_error(lib) -> None:
    c = lib.Counter(3, "gone")
    c.close()
    for call in (c.get, c.label, c.fork, c.explode, lambda: c.add(1), lambda: c.add_or_panic(1)):
        with pytest.raises(ValueError, match="^this Counter is closed$") as error:
            call()
        assert not isinstance(error.value, ffi_export.FfiError)  # caught before crossing
    # Static functions and other objects are unaffected.
    assert lib.Counter(1, "other").get() == 1


def test_with_block_closes(lib) -> None:
    before = live(lib)
    with lib.Counter(4, "w") as c:
        assert type(c) is lib.Counter
        assert c.add(1) == 5
        assert lib.Counter.live() == before + 1
    assert c.closed
    assert lib.Counter.live() == before
    with pytest.raises(ValueError, match="closed"):
        c.get()
    # Also when the block raises; the exception is not swallowed.
    with pytest.raises(KeyError):
        with lib.Counter(0, "w2") as d:
            raise KeyError("inside")
    assert d.closed
    assert lib.Counter.live() == before


def test_create_drop_cycles_keep_live_count_and_rss_flat(lib) -> None:
    # Labels of 4 KiB: 30,000 leaked counters would be ~120 MiB.
    label = "L" * 4096
    before = live(lib)

    def loop(n):
        for i in range(n or 30_000):
            c = lib.Counter(i, label)
            if i % 3 == 0:
                c.close()
            elif i % 3 == 1:
                with c:
                    c.add(1)
            else:
                c.fork()  # dropped at once, as is `c` on the next iteration
    assert growth(loop) < 8 * MiB
    assert live(lib) == before


# ---------------------------------------------------------------------------
# Panics


def test_panic_in_shared_method_leaves_object_usable(lib) -> None:
    c = lib.Counter(2, "boomer")
    for _ in range(3):
        with pytest.raises(ffi_export.RustPanic, match="^counter boomer exploded$"):
            c.explode()
    # `explode` takes &self: it cannot have changed the object.
    assert c.get() == 2
    assert c.add(1) == 3
    assert c.label() == "boomer"


def test_panic_in_mutating_method_poisons_object(lib) -> None:
    before = live(lib)
    c = lib.Counter(5, "p")
    other = lib.Counter(5, "q")
    assert c.add_or_panic(2) == 7
    with pytest.raises(ffi_export.RustPanic, match=r"add_or_panic: by is 0 \(count reset from 7\)"):
        c.add_or_panic(0)
    # The count was reset mid-way: every later call is refused, not served
    # with the half-changed value.
    for call in (c.get, c.label, c.explode, c.fork, lambda: c.add(1), lambda: c.add_or_panic(1)):
        with pytest.raises(ffi_export.RustPanic, match="unusable") as error:
            call()
        assert "Counter" in str(error.value)
    assert other.get() == 5 and other.add_or_panic(1) == 6  # other objects are fine
    assert lib.Counter.live() == before + 2
    c.close()  # still works, and frees it
    assert c.closed
    assert lib.Counter.live() == before + 1
    with pytest.raises(ValueError, match="closed"):
        c.get()
    # A poisoned object dropped without close() is freed too.
    d = lib.Counter(1, "d")
    with pytest.raises(ffi_export.RustPanic):
        d.add_or_panic(0)
    del d
    assert live(lib) == before + 1


# ---------------------------------------------------------------------------
# Threads


def test_threads_share_one_counter_exactly(lib) -> None:
    c = lib.Counter(0, "shared")
    threads_n, per_thread = 8, 5_000
    barrier = threading.Barrier(threads_n)
    errors: list = []

    def work():
        try:
            barrier.wait()
            for _ in range(per_thread):
                c.add(1)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert c.get() == threads_n * per_thread


def test_concurrent_close_while_calling(lib) -> None:
    before = live(lib)
    totals = {"ok": 0, "closed": 0, "invalid": 0}
    for _round in range(20):
        c = lib.Counter(0, "raced")
        running = threading.Event()
        outcomes: list = []
        lock = threading.Lock()

        def work(i):
            seen = {"ok": 0, "closed": 0, "invalid": 0, "other": []}
            # Call until close() has clearly happened (100 refusals).
            for _ in range(200_000):
                try:
                    if i % 2:
                        c.add(1)
                    else:
                        c.get()
                    seen["ok"] += 1
                    if seen["ok"] == 200:
                        running.set()
                except ffi_export.InvalidArgument as exc:
                    # Read the handle just before close() zeroed it.
                    if "not a live `Counter` handle" not in str(exc):
                        seen["other"].append(exc)
                    seen["invalid"] += 1
                except ValueError as exc:
                    if str(exc) != "this Counter is closed":
                        seen["other"].append(exc)
                    seen["closed"] += 1
                except BaseException as exc:  # noqa: BLE001 - reported below
                    seen["other"].append(exc)
                if seen["closed"] + seen["invalid"] >= 100:
                    break
            with lock:
                outcomes.append(seen)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        assert running.wait(60)
        c.close()
        for t in threads:
            t.join()
        assert len(outcomes) == 6
        assert [o["other"] for o in outcomes] == [[]] * 6
        assert all(o["closed"] + o["invalid"] == 100 for o in outcomes)  # all saw the close
        for key in totals:
            totals[key] += sum(o[key] for o in outcomes)
        assert live(lib) == before
    assert totals["ok"] >= 20 * 200  # calls really overlapped the close
    assert totals["closed"] > 0


def test_close_during_a_running_method_frees_when_it_ends(lib) -> None:
    before = live(lib)
    c = lib.Counter(1, "inside")
    seen = []

    def during(count):
        c.close()
        # Still alive: the running `visit` holds it.
        seen.append((count, c.closed, lib.Counter.live()))

    c.visit(during)
    assert seen == [(1, True, before + 1)]
    assert lib.Counter.live() == before


# ---------------------------------------------------------------------------
# The raw C ABI: handles are checked


def raw(lib, name, restype, *argtypes):
    """A private ctypes function object for one export."""
    f = lib._cdll[name]
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


def take_error(lib):
    """(code, message) of the calling thread's latest error, or None."""
    take = raw(lib, "ffi_export_error_take", ctypes.c_bool, ctypes.POINTER(ffi_export._FfiError))
    free = raw(lib, "ffi_export_error_free", None, ctypes.POINTER(ffi_export._FfiError))
    error = ffi_export._FfiError()
    if not take(error):
        assert error.code == 0
        return None
    try:
        return error.code, ctypes.string_at(error.message.ptr, error.message.len).decode()
    finally:
        free(error)


INVALID_ARGUMENT = 3


def test_raw_abi_refuses_dead_and_unknown_handles(lib) -> None:
    get = raw(lib, "Counter_get", ctypes.c_uint64, ctypes.c_uint64)
    c = lib.Counter(42, "raw")
    assert get(c._handle) == 42
    assert take_error(lib) is None

    freed = lib.Counter(1, "freed")
    freed_handle = freed._handle
    freed.close()
    live_handles = {c._handle}
    huge = random.getrandbits(64) | (1 << 63)
    assert huge not in live_handles
    for handle in (0, freed_handle, huge, 2**64 - 1):
        assert get(handle) == 0
        code, message = take_error(lib)
        assert code == INVALID_ARGUMENT
        assert f"{handle} is not a live `Counter` handle" in message, message
    assert get(c._handle) == 42  # the refusals disturbed nothing
    assert take_error(lib) is None

    # Through the Python wrapper, a forged handle is the same InvalidArgument.
    forged = lib.Counter._from_handle(freed_handle)
    with pytest.raises(ffi_export.InvalidArgument, match="not a live `Counter` handle"):
        forged.get()
    forged._handle = 0


def test_handles_are_never_reused(lib) -> None:
    seen = set()
    for _ in range(200):
        c = lib.Counter(0, "h")
        assert c._handle not in seen
        seen.add(c._handle)
        c.close()


def test_raw_abi_refuses_another_types_handle(lib) -> None:
    get = raw(lib, "Counter_get", ctypes.c_uint64, ctypes.c_uint64)
    gauge = lib.Gauge(-7)
    assert gauge.level() == -7
    assert get(gauge._handle) == 0
    code, message = take_error(lib)
    assert code == INVALID_ARGUMENT
    assert f"handle {gauge._handle} is a `Gauge`, not a `Counter`" in message
    # Also through the helper, with a Counter object forged on a Gauge handle.
    forged = lib.Counter._from_handle(gauge._handle)
    with pytest.raises(ffi_export.InvalidArgument, match="is a `Gauge`, not a `Counter`"):
        forged.add(1)
    forged._handle = 0
    assert gauge.level() == -7


def test_raw_free_of_unknown_handle_is_a_no_op_and_of_another_type_is_refused(lib) -> None:
    free = raw(lib, "Counter_free", None, ctypes.c_uint64)
    before = live(lib)
    c = lib.Counter(9, "kept")
    freed = lib.Counter(1, "freed")
    freed_handle = freed._handle
    freed.close()
    for handle in (0, freed_handle, random.getrandbits(64) | (1 << 63)):
        free(handle)
        assert take_error(lib) is None
    assert c.get() == 9
    assert lib.Counter.live() == before + 1

    gauge = lib.Gauge(3)
    free(gauge._handle)
    code, message = take_error(lib)
    assert code == INVALID_ARGUMENT
    assert f"handle {gauge._handle} is a `Gauge`, not a `Counter`" in message
    assert gauge.level() == 3  # not freed
    # The right destructor frees it; after that the handle is dead.
    gauge_handle = gauge._handle
    gauge.close()
    level = raw(lib, "Gauge_level", ctypes.c_int64, ctypes.c_uint64)
    assert level(gauge_handle) == 0
    code, message = take_error(lib)
    assert code == INVALID_ARGUMENT and "not a live `Gauge` handle" in message

    # Freeing a live Counter through the raw ABI frees it; the Python object
    # then sees a dead handle instead of crashing.
    free(c._handle)
    assert take_error(lib) is None
    assert lib.Counter.live() == before
    with pytest.raises(ffi_export.InvalidArgument, match="not a live `Counter` handle"):
        c.get()
    c.close()  # frees nothing more
    assert live(lib) == before
