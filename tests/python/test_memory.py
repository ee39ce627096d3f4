"""Every allocation that crosses the boundary is freed exactly once.

RSS loops show memory stays flat; valgrind memcheck runs the example clients
and reports no leaked block and no invalid access from the project's code.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import os
import re
import shutil
import subprocess
import sys
import time

import numpy
import pytest

import ffi_export
from conftest import ROOT, library_path
from paths import any_lib  # noqa: F401 - a fixture
from test_async import start_then_cancel

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


PYPY = sys.implementation.name == "pypy"
_heap: list = []


def heap_bytes() -> int:
    """The bytes the test library's Rust code holds (its counting global
    allocator, `tests/src/lib.rs` `heap`): exact, whatever the interpreter."""
    if not _heap:
        _heap.append(ffi_export.load(library_path("ffi_export_tests")).heap_live_bytes)
    return int(_heap[0]())


def growth(loop, warmup: int = 1000) -> int:
    """Growth in bytes over ``loop()``, after a warm-up: of RSS and of the
    Rust heap, whichever is larger (CPython); of the Rust heap alone on PyPy,
    whose ctypes itself leaks every struct a function returns by value
    (`test_interpreters.py` shows it without ffi-export), so RSS there measures
    PyPy, not us."""
    loop(warmup)
    gc.collect()
    before, heap_before = rss(), heap_bytes()
    loop(None)
    gc.collect()
    heap = heap_bytes() - heap_before
    return heap if PYPY else max(rss() - before, heap)


MiB = 1024 * 1024


def test_owned_strings_do_not_leak(lib) -> None:
    # 30,000 strings of 4 KiB: a leak would be ~120 MiB.
    def loop(n):
        for _ in range(n or 30_000):
            assert len(lib.make_string(4096)) == 4096
    assert growth(loop) < 8 * MiB


def test_owned_vectors_do_not_leak(lib) -> None:
    # 30,000 vectors of 512 f64 (4 KiB each), dropped as arrays and as numpy views.
    def loop(n):
        for i in range(n or 30_000):
            v = lib.vec_f64(512)
            if i % 2:
                v = numpy.asarray(v)
            assert len(v) == 512
    assert growth(loop) < 8 * MiB


def test_option_and_result_owned_returns_do_not_leak(lib) -> None:
    def loop(n):
        for _ in range(n or 30_000):
            assert lib.non_empty("y" * 2048) is not None
            assert lib.maybe(1) == "some"
            assert lib.greet("z" * 2048).startswith("Hello")
    assert growth(loop) < 8 * MiB


def test_owned_parameters_and_collections_do_not_leak(lib) -> None:
    # Owned parameters (copied into Rust, dropped there) and collection
    # results (freed by the paired free after reading): 5,000 rounds of
    # ~10 KiB each, a leak would be ~50 MiB.
    words = ["w" * 64] * 40
    counts = {f"key{i}": i for i in range(40)}
    person = lib.Person("Ann", 3, None, ["t"] * 8, [1.0] * 8, lib.Address("Paris", None), lib.Kind.User, True)

    def loop(n):
        for i in range(n or 5_000):
            assert lib.hyphenate(words).count("-") == 39
            assert lib.total_count(counts) == sum(range(40))
            assert len(lib.word_counts(" ".join(words[:10] + [str(i)]))) == 2
            assert lib.by_length(words)[64] == words
            assert lib.distinct(list(range(50))) == set(range(50))
            assert lib.owned_then_panic(words, counts, {"a", "b"}, ("p", b"x" * 100), [person], False) == 183
            with pytest.raises(ffi_export.RustPanic):
                lib.owned_then_panic(words, counts, {"a"}, ("p", b"x" * 100), [person, person], True)
            # Read natively by the fast path (and freed there), also when a
            # later argument sends the call to the ctypes wrapper.
            assert lib.native_then_panic(words, counts, ("p", i), [[1.0] * 20] * 5, {i: words[:3]}, False) == 87
            with pytest.raises(ffi_export.RustPanic):
                lib.native_then_panic(words, counts, ("p", None), [[1.0] * 20], {}, True)
            with pytest.raises(TypeError):
                lib.native_then_panic(words, counts, ("p", None), [[1.0] * 20], {1: [2]}, False)
            assert lib.repeat_byte(1, 1024) == b"\x01" * 1024
            assert lib.make_inventory(20).counts["item3"] == 3
            assert lib.wide_add(2**100, i) == 2**100 + i
    assert growth(loop, warmup=200) < 8 * MiB


def test_panics_and_errors_do_not_leak(lib) -> None:
    # 10,000 panics with 4 KiB messages (a leak would be ~40 MiB), panics that
    # hold an allocation, and errors.
    message = "p" * 4096

    def loop(n):
        for _ in range(n or 10_000):
            with pytest.raises(ffi_export.RustPanic):
                lib.panic_now(message)
            with pytest.raises(ffi_export.RustPanic):
                lib.panic_after_alloc(512)
            with pytest.raises(lib.errors.Error):
                lib.greet("")
    assert growth(loop) < 8 * MiB


def test_typed_error_values_do_not_leak(any_lib) -> None:
    # 10,000 typed errors whose value holds a 4 KiB string (a leak would be
    # ~40 MiB), raised on the fast path and on ctypes; record and field-less
    # enum errors too.
    def loop(n):
        for _ in range(n or 10_000):
            with pytest.raises(any_lib.errors.ArithmeticError.OutOfRange) as info:
                any_lib.fail_with_text("e", 4096)
            assert len(info.value._1) == 4096
            with pytest.raises(any_lib.errors.ValidationError):
                any_lib.validate_age(-1)
            with pytest.raises(any_lib.errors.Denied):
                any_lib.check_access(2)
    assert growth(loop) < 8 * MiB


def test_untaken_typed_error_values_do_not_leak(lib) -> None:
    """Errors nobody takes (a raw C-ABI caller) are dropped from the
    thread's record (the oldest past 16) or with the thread: their values
    are freed then."""
    import ctypes
    import threading

    raw = lib._cdll.fail_with_text
    raw.restype = ffi_export._FfiBuffer
    raw.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t]

    def fail_untaken(times: int) -> None:
        for _ in range(times):
            raw(b"u", 1, 4096)

    def loop(n):
        fail_untaken(n or 10_000)
        for _ in range((n or 10_000) // 100):
            worker = threading.Thread(target=fail_untaken, args=(10,))
            worker.start()
            worker.join()
    assert growth(loop) < 8 * MiB


def test_trait_objects_and_stored_closures_do_not_leak(any_lib) -> None:
    """Python objects lent to Rust (listeners, stored closures) and the
    values crossing their calls both ways (records with lists, strings,
    options, typed errors) are freed exactly once; the Python objects
    are released when Rust drops them."""

    class Listener:
        def on_event(self, event):
            if event.seq == 1:
                raise any_lib.errors.ListenerError.Busy("busy")

        def name(self):
            return "n" * 512

        def limit(self, hint):
            return hint

    def loop(n):
        for _ in range(n or 3_000):
            bus = any_lib.Bus.new()
            bus.subscribe(Listener())
            assert bus.names() == ["n" * 512]
            assert bus.publish("x" * 256, 0) == [] and bus.publish("y", 1) == ["busy"]
            bus.close()
            assert any_lib.notify_once(Listener(), "k") == "n" * 512
            any_lib.add_handler(lambda text, values: text * 8)
            assert any_lib.run_handlers("abc") == ["abc" * 8]
            any_lib.clear_handlers()
            button = any_lib.make_button("b" * 256)
            assert any_lib.label_of(button) == "b" * 256
            button.close()
    assert growth(loop, warmup=300) < 8 * MiB
    gc.collect()
    assert ffi_export.held_by_rust() == 0


def test_fn_ref_callbacks_do_not_leak(any_lib) -> None:
    # `&dyn Fn` callbacks: string arguments in, records and strings out,
    # failures re-raised, a bad later argument: 3,000 rounds of ~10 KiB.
    def describe(event):
        return event.kind * 4

    def fail(word):
        raise KeyError(word)

    def loop(n):
        for _ in range(n or 3_000):
            assert any_lib.sum_parsed("a" * 512 + " bb", len) == 514
            assert any_lib.describe_events(["k" * 256] * 4, describe) == ["k" * 1024] * 4
            assert any_lib.twice("t" * 1024, lambda s: s[:512]) == "t" * 512
            with pytest.raises(KeyError):
                any_lib.sum_parsed("x" * 1024, fail)
            with pytest.raises(TypeError):
                any_lib.sum_parsed(None, len)
            with pytest.raises(TypeError):
                any_lib.both(lambda: 1, None)
    assert growth(loop, warmup=300) < 8 * MiB
    gc.collect()
    assert ffi_export.held_by_rust() == 0


def test_trait_objects_and_closures_inside_values_do_not_leak(any_lib) -> None:
    """Python listeners and closures passed inside lists, dicts, options and
    records (released once Rust drops them), Rust buttons and Rust closures
    returned inside them (each freed once, when Python lets go), refusals
    midway through a list: 2,000 rounds of ~10 KiB."""

    class Listener:
        def on_event(self, event):
            pass

        def name(self):
            return "n" * 256

        def limit(self, hint):
            return hint

    def loop(n):
        for _ in range(n or 2_000):
            assert any_lib.notify_all([Listener(), Listener()], "k" * 256) == ["n" * 256] * 2
            assert any_lib.apply_steps({"a" * 64: lambda x: x + 1}, 1) == {"a" * 64: 2}
            with any_lib.Panel.new() as panel:
                panel.add_all([Listener()])
                assert len(panel.listeners()) == 1
            hooks = any_lib.hooks_from_rust(3)
            assert any_lib.run_hooks(hooks, 1)[2] == 4
            add = any_lib.counted_adder(2)
            assert any_lib.compose(add, lambda x: x * 2)(1) == 6
            assert {k: f(1) for k, f in any_lib.named_steps().items()} == {"double": 2, "negate": -1}
            with pytest.raises(TypeError):
                any_lib.notify_all([Listener(), object()], "k")
            with pytest.raises(ffi_export.RustPanic):
                any_lib.divider(1)(0)
            del hooks, add
    assert growth(loop, warmup=300) < 8 * MiB
    gc.collect()
    assert ffi_export.held_by_rust() == 0
    assert any_lib.live_closures() == 0


VALGRIND = shutil.which("valgrind")


def test_async_tasks_do_not_leak(any_lib) -> None:
    # 2,000 rounds of a 4 KiB string result, a typed error, a panic and a
    # cancelled future: a leak of results, errors or tasks would be > 8 MiB.
    lib = any_lib
    name = "n" * 4096

    async def round_trip(i: int) -> None:
        assert len(await lib.greet_later(name)) == 4103
        for bad in (lib.div_later(i, 0), lib.panic_later("p" * 200)):
            try:
                await bad
            except ffi_export.FfiError:
                pass
        await start_then_cancel(lib.never())

    def loop(n):
        async def main():
            for start in range(0, n or 2_000, 100):
                await asyncio.gather(*[round_trip(i) for i in range(start, start + 100)])
        asyncio.run(main())

    assert growth(loop, 200) < 8 * MiB
    deadline = time.monotonic() + 5
    while (lib.live_futures(), lib.live_tasks()) != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (lib.live_futures(), lib.live_tasks()) == (0, 0)


def valgrind_report(args: list[str], env: dict) -> str:
    assert VALGRIND, "valgrind is required (.ci/run installs it)"
    log = os.path.join(ROOT, "target", f"valgrind-{os.getpid()}.log")
    command = [
        VALGRIND, "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite,indirect",
        "--errors-for-leak-kinds=definite", "--num-callers=40", f"--log-file={log}",
    ] + args
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200)
    with open(log) as f:
        report = f.read()
    os.unlink(log)
    assert result.returncode == 0, result.stderr + report
    return report


def blocks_from(report: str, library: str) -> list[str]:
    """Valgrind records (errors or leaks) whose stack passes through ``library``
    or the ffi-export runtime."""
    records = re.split(r"\n==\d+== \n", report)
    marker = re.compile(rf"{re.escape(library)}|ffi_export_runtime|ffi_export_tests|examples::")
    return [r for r in records if marker.search(r) and re.search(r"lost in loss record|Invalid|uninitialised|free\(\)", r)]


VALGRIND_DRIVER = """
import gc, sys
sys.path.insert(0, {helper!r})
import ffi_export
lib = ffi_export.load({lib!r})
import numpy
for _ in range(200):
    lib.make_string(100); lib.vec_f64(50); numpy.asarray(lib.vec_i32(10)).sum()
    lib.non_empty("abc"); lib.maybe(1); lib.above(numpy.arange(5.0), 1.0)
    for bad in (lambda: lib.panic_now("x" * 100), lambda: lib.panic_after_alloc(10),
                lambda: lib.parse_int("q"), lambda: lib.greet(""), lambda: lib.bad_display()):
        try:
            bad()
        except ffi_export.FfiError:
            pass
    out = numpy.zeros(3, dtype=numpy.int32)
    lib.add_into(numpy.ones(3, dtype=numpy.int32), numpy.ones(3, dtype=numpy.int32), out)
    lib.reverse("héllo"); lib.shout(b"abc")
# Records, enums with data, objects, callbacks, the caller's allocator and
# batches, each with its failure paths (tests/src/lib.rs `safety` panics
# after allocating every kind of owned return).
def fails(call):
    try:
        call()
    except Exception:
        pass
    else:
        raise AssertionError("expected an exception")
def boom(*args):
    raise KeyError("callback")
for i in range(40):
    p = lib.make_person("Ada", 40); lib.describe_person(p); lib.birthday(p); lib.people(3)
    lib.maybe_person(True); lib.parse_person("Bo:7"); lib.count_nodes(lib.tree(3))
    lib.all_shapes(); lib.grow(lib.Shape.Polygon("p", [1.0, 2.0])); lib.kinds()
    lib.join(["a", "b"], "-"); lib.split_words("a b c"); lib.greet_opt("x", 2)
    with lib.Counter(1, "c") as c:
        c.add(2); c.label(); f = c.fork(); f.close(); c.visit(lambda n: None)
        fails(lambda: c.explode()); fails(lambda: c.add(2**64 - 1)); fails(lambda: c.visit(boom))
    lib.counters(3); lib.maybe_counter(True); g = lib.Gauge(2); fails(lambda: lib.Counter.get(g))
    fails(lambda: lib.Counter(1, "p").add_or_panic(0))
    lib.apply(numpy.ones(4), lambda v: v * 2); lib.count_where(numpy.arange(6), lambda v: v > 2)
    fails(lambda: lib.each_square(5, boom)); fails(lambda: lib.apply(numpy.ones(2), lambda v: "x"))
    lib.call3(lambda a, b, c: a + b + c); fails(lambda: lib.sum_of(3, lambda: "x"))
    fails(lambda: lib.panic_then_callback(True, boom)); fails(lambda: lib.panic_then_callback(False, boom))
    lib.sqrts(5); lib.sqrts(5, alloc="numpy"); lib.partition(numpy.arange(7, dtype=numpy.int32))
    lib.histogram(b"abc"); fails(lambda: lib.sqrts(3, alloc=boom))
    lib.checked_add.map(numpy.arange(9, dtype=numpy.int32), 1); lib.scale_by.map(numpy.ones(5), 2.0)
    fails(lambda: lib.checked_add.map(numpy.array([2**31 - 1], dtype=numpy.int32), 1))
    fails(lambda: lib.is_even.map(numpy.array([13])))
    for call in (lambda: lib.string_then_panic(50, True), lambda: lib.strings_then_panic(5, True),
                 lambda: lib.record_then_panic(True), lambda: lib.option_then_panic(5, True),
                 lambda: lib.result_then_panic(3, True), lambda: lib.result_then_panic(0, False),
                 lambda: lib.panic_with_borrows("ab", numpy.ones(2)),
                 lambda: lib.write_then_panic(numpy.zeros(4), 1.0),
                 lambda: lib.callback_then_panic(lambda x: x), lambda: lib.alloc_then_panic(4, True),
                 lambda: lib.Fragile("x", True), lambda: lib.Fragile("ab", False).doubled(True),
                 lambda: lib.Fragile.checked(""), lambda: lib.panic_any()):
        fails(call)
    lib.string_then_panic(50, False); lib.strings_then_panic(5, False); lib.record_then_panic(False)
    lib.option_then_panic(5, False); lib.result_then_panic(3, False); lib.alloc_then_panic(4, False)
    # Owned parameters, maps, sets, tuples, i128, bytes, copied slices.
    lib.sum_owned([1, 2, 3]); lib.hyphenate(["a", "b"]); lib.maybe_total([1.0]); lib.lengths([[1], b"ab"])
    lib.oldest([p, p]); lib.count_present([1, None]); lib.names([p]); lib.total_area([lib.Shape.Polygon("q", [1.0])])
    lib.join_strings(["x", "y"], "-"); lib.word_counts("a b a"); lib.total_count({{"a": 1}})
    lib.positive_keys({{"a": 1, "b": -1}}); lib.by_length(["ab", "c"]); lib.distinct([3, 1, 3])
    lib.contains_all({{"a"}}, ["a"]); lib.min_max([1.0, 2.0]); lib.describe_pair(("x", 2)); lib.wide_add(2**100, 1)
    lib.wide_max(); lib.repeat_byte(7, 30); lib.inventory_total(lib.make_inventory(4))
    lib.every_default(); lib.describe_settings(lib.Settings("s")); lib.Greeter().greet("g", 2)
    lib.owned_then_panic(["w"], {{"k": 1}}, {{"t"}}, ("p", b"xy"), [p], False)
    fails(lambda: lib.owned_then_panic(["w"], {{"k": 1}}, {{"t"}}, ("p", b"xy"), [p], True))
    fails(lambda: lib.wide_add(2**126, 2**126)); fails(lambda: lib.hyphenate(["a", 1]))
    fails(lambda: lib.total_count({{"a": -1}})); fails(lambda: lib.oldest([p, 3]))
    lib.native_then_panic(["w"], {{"k": 1}}, ("p", 2), [[1.0]], {{1: ["x"]}}, False)
    fails(lambda: lib.native_then_panic(["w"], {{"k": 1}}, ("p", 2), [[1.0]], {{1: ["x"]}}, True))
    fails(lambda: lib.native_then_panic(["w"], {{"k": 1}}, ("p", 2), [[1.0]], {{1: [2]}}, False))
# Object parameters and shared objects (tests/src/lib.rs `shared_objects`):
# borrows, aliasing refused, a panic while borrowed, Arc in results, fields,
# Vec and Option, each freed once by Python and by Rust.
so = lib.shared_objects
for i in range(40):
    a, b = so.Tally(1), so.Tally(2)
    a.absorb(b); a.give(b, 1); so.tally_sum(a, a); so.tally_transfer(a, b, 1)
    fails(lambda: a.absorb(a)); fails(lambda: so.tally_transfer(b, b, 1)); fails(lambda: a.explode_with(b))
    item = so.Item("i", i); shelf = so.Shelf(); shelf.put(item); shelf.put_all([item, so.Item("j", 1)])
    shelf.items(); shelf.find("j"); item.me(); item.holders(); so.maybe_value(item); so.maybe_value(None)
    so.tagged_value(so.tag_item("t", item)); fails(lambda: item.rename("x")); fails(lambda: so.shared_count(b))
    so.shared_count(so.Tally.new_shared(3)); so.tally_plus_item(b, item); shelf.clear()
del a, b, item, shelf
gc.collect()
assert so.Item.live() == 0 and so.Tally.live() == 0, (so.Item.live(), so.Tally.live())
# Typed errors (their values owned by the error record until raised), on the
# fast path and on ctypes; errors nobody takes, dropped from the record
# (past 16) or with their thread; the C free of a taken error, twice.
import ctypes, os, threading
os.environ["FFI_EXPORT_NO_FAST"] = "1"
slow = ffi_export.Library({lib!r})
del os.environ["FFI_EXPORT_NO_FAST"]
for library in (lib, slow):
    for i in range(20):
        for call in (lambda: library.checked_div(1, 0), lambda: library.checked_div(-2**63, -1),
                     lambda: library.fail_with_text("v", 100), lambda: library.validate_age(-1),
                     lambda: library.check_access(2), lambda: library.clash(), lambda: library.Wallet(1).spend(2),
                     lambda: library.halve_even.map(numpy.array([1])), lambda: library.load_setting("x"),
                     lambda: library.boxed_chain("p"), lambda: library.boxed_local_chain("p")):
            fails(call)
raw = lib._cdll.fail_with_text
raw.restype = ffi_export._FfiBuffer
raw.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t]
def untaken(times):
    for _ in range(times):
        raw(b"u", 1, 100)
untaken(40)
worker = threading.Thread(target=untaken, args=(5,))
worker.start(); worker.join()
take = lib._cdll.ffi_export_error_take
take.argtypes = [ctypes.POINTER(ffi_export._FfiError)]; take.restype = ctypes.c_bool
free = lib._cdll.ffi_export_error_free
free.argtypes = [ctypes.POINTER(ffi_export._FfiError)]; free.restype = None
for _ in range(10):
    raw(b"t", 1, 100)
    error = ffi_export._FfiError()
    assert take(error) and error.value and error.variant == 2
    free(error); free(error)
    assert not error.value
class Listener:
    def on_event(self, event):
        if event.seq == 1:
            raise lib.errors.ListenerError.Busy("busy")
        if event.seq == 2:
            raise ValueError("not an error of the Result")
    def name(self):
        return "listener"
    def limit(self, hint):
        return hint
bus = lib.Bus.new()
bus.subscribe(Listener())
assert bus.publish("a", 0) == [] and bus.publish("b", 1) == ["busy"]
assert bus.publish_from_threads(2, 2) == 2
try:
    bus.publish("c", 2)
except ffi_export.RustPanic:
    pass
bus.close()
lib.add_handler(lambda text, values: text + str(values))
assert lib.run_handlers("t") == ["t[1, 2, 3]"]
lib.clear_handlers()
assert list(lib.map_checked(lambda v: v + 1, [1, 2])) == [2, 3]
button = lib.make_button("b")
assert lib.press_on_thread(button, 2) == "b: 2" and lib.label_of(button) == "b"
shared = lib.shared_buttons(2)
del button, shared
def echo(text, depth):
    return text * 50 if depth == 0 else lib.call_echo(text + "<", depth - 1) + ">" * 40
lib.set_echo(echo)
assert lib.call_echo("e", 3) == "e<<<" * 50 + ">" * 120
lib.clear_echo()
# `&dyn Fn` callbacks: arguments freed after each call, results copied.
assert lib.sum_parsed("12 345", len) == 5
assert lib.describe_events(["a", "b"], lambda e: e.kind * 3) == ["aaa", "bbb"]
assert lib.twice("x", lambda s: s + "!") == "x!!"
try:
    lib.sum_parsed("a b", lambda w: 1 / 0)
except ZeroDivisionError:
    pass
gc.collect()
assert ffi_export.held_by_rust() == 0, ffi_export.held_by_rust()
# Async exports: completed, failed, panicked, cancelled and timed-out tasks,
# and an object made by one, on both paths: every result read by its finish
# (and freed), every future dropped, every task freed.
import asyncio, time
async def tasks(library):
    for i in range(15):
        await library.greet_later("a" * 50); await library.points_later(3); await library.count_later(["x", "y"])
        await library.bytes_later(40); await library.maybe_later(2); await library.unit_later()
        await library.grow_later(library.Shape.Polygon("q", [1.0]), 2.0)
        await library.mixed_later(library.Kind.User, ["w" * 20], 2**90)
        for bad in (lambda: library.div_later(1, 0), lambda: library.fail_later("e" * 30),
                    lambda: library.panic_later("p" * 30), lambda: library.count_later(["x", 1])):
            try:
                await bad()
            except (ffi_export.FfiError, TypeError):
                pass
        task = asyncio.ensure_future(library.never()); await asyncio.sleep(0); task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        try:
            await asyncio.wait_for(library.nap_ms(100), 0.001)
        except asyncio.TimeoutError:
            pass
        (await library.Stopwatch.started_after(1)).close()
for library in (lib, slow):
    asyncio.run(tasks(library))
deadline = time.monotonic() + 20
while (lib.live_futures(), lib.live_tasks()) != (0, 0) and time.monotonic() < deadline:
    time.sleep(0.01)
assert (lib.live_futures(), lib.live_tasks()) == (0, 0), (lib.live_futures(), lib.live_tasks())
time.sleep(0.3)  # the timers of cancelled naps end
gc.collect()
assert lib.Counter.live() == 0, lib.Counter.live()
# Objects moved by value: taken, refused (every reservation rolled back),
# dropped by a panic or an Err after the move, inside records, on both paths.
for bv in (lib.byvalue, slow.byvalue):
    for i in range(30):
        m = bv.Machine(); m.adopt(bv.Part("a" * 50, 1)); m.adopt_all([bv.Part("b", 2), bv.Part("c", 3)])
        bv.total(m.release_parts()); m.close()
        sh = bv.Part.new_shared("s", 1); keep = [bv.Part("k", 1), bv.Part("l", 2)]
        fails(lambda: bv.total(keep + [sh])); fails(lambda: bv.pair_weight(keep[0], keep[0]))
        fails(lambda: bv.attach(keep[0], keep[1], None)); bv.named_total({{"x": bv.Part("x", 1)}})
        fails(lambda: bv.weigh_and_panic(keep[0])); fails(lambda: bv.weigh_or_fail(keep[1], True))
        bv.unpack(bv.relabel(bv.make_kit("k", 2, 2), "z")); sh.close()
    gc.collect()
    assert bv.Part.live() == 0, bv.Part.live()
# Iterators (read whole, stopped early, failing at an item, panicking),
# properties and pickled records, on both paths: every chunk freed by its
# `_next_free`, every Rust iterator dropped once.
import pickle
for v in (lib.values, slow.values):
    for i in range(20):
        assert sum(v.count_up(600)) == 179700 and list(v.numbered_words(40))[-1] == "w39"
        it = v.count_up(10**9); next(it); next(it); del it
        p = v.Playlist("p" * 40); p.add("a" * 30, 10); p.add("b", 500)
        assert [s.title for s in p.songs()] == ["a" * 30, "b"]
        fails(lambda: list(p.checked(100))); fails(lambda: list(p.titles_or("b")))
        fails(lambda: list(v.explode_at(3)))
        assert list(v.countdown(3)) == [3, 2, 1]; fails(lambda: v.countdown(101))
        fails(lambda: p.longer_than(1000)); assert len(list(p.longer_than(0))) == 2
        p.title = "t" * 50; p.volume = 9; fails(lambda: setattr(p, "volume", 101)); p.longest
        album = v.Album("x", [v.Track.Song(v.Song("s" * 20, 1), v.Genre.Jazz)], None, {{"k": 1.0}})
        assert v.album_seconds(pickle.loads(pickle.dumps(album))) == 1
        p.close()
    gc.collect()
    assert v.live_iterators() == 0, v.live_iterators()
# Trait objects and closures inside other values, both ways, both paths:
# Python objects in lists, dicts, options and records released once; Rust
# buttons and Rust closures returned inside them freed once.
class Named:
    def on_event(self, event):
        pass
    def name(self):
        return "x" * 40
    def limit(self, hint):
        return hint
for library in (lib, slow):
    for i in range(20):
        assert library.notify_all([Named(), Named()], "k") == ["x" * 40] * 2
        assert library.apply_steps({{"a": lambda x: x + 1}}, 1) == {{"a": 2}}
        panel = library.Panel.new(); panel.add_all([Named()]); panel.listeners(); panel.first(); panel.close()
        hooks = library.hooks_from_rust(i); library.run_hooks(hooks, 1); library.hooks_echo(hooks)
        add = library.counted_adder(i); library.compose(add, lambda x: x * 2)(1); library.step_echo(add)(1)
        library.named_steps(); library.checker(1)(0); library.greeter("g" * 30)("n" * 30)
        fails(lambda: library.checker(1)(5)); fails(lambda: library.divider(1)(0))
        fails(lambda: library.notify_all([Named(), object()], "k"))
        del hooks, add
    gc.collect()
    assert ffi_export.held_by_rust() == 0, ffi_export.held_by_rust()
    assert library.live_closures() == 0, library.live_closures()
# Protocols: the strings of Display/Debug (and of a panicking one) freed
# once, clones and sums of objects dropped, on both paths.
for pr in (lib.protocols, slow.protocols):
    for i in range(30):
        v = pr.Version(1, i, 0, "rc" * 20); str(v); repr(v); hash(v); sorted([v, pr.Version()])
        b = pr.Bag(["w" * 30, "x"]); c = b + pr.Bag(["y"]); str(c); repr(c); c[0]; len(c)
        import copy; copy.copy(b).close(); copy.deepcopy(c); {{b: 1}}[pr.Bag(["w" * 30, "x"])]
        g = pr.Grenade(True); fails(lambda: str(g)); repr(g); fails(lambda: g == g)
        str(pr.Token.Word("t" * 40)); -pr.Vec2(1.0, 2.0)
    del b, c, g
    gc.collect()
    assert pr.live_bags() == 0, pr.live_bags()
# Issue 14's native paths (tests/src/lib.rs `native_paths`): kept-GIL calls,
# methods called as native class attributes, batches that panic (the
# element pass), on both paths.
for np_lib in (lib, slow):
    for i in range(30):
        np_lib.kept_shout("é" * 20, 2); np_lib.kept_total({{"a": 1}}, [2]); np_lib.kept_halves(4)
        fails(lambda: np_lib.kept_root(-1)); fails(lambda: np_lib.kept_add(2**63 - 1, 1))
        mt = np_lib.Meter(1, "m" * 30); mt.add(2, times=3); mt.label("<"); np_lib.Meter.total(mt)
        fails(lambda: mt.add(-1)); fails(lambda: mt.add(2**62, 4)); mt.close(); fails(lambda: mt.total())
        fails(lambda: np_lib.steady_double.map(numpy.arange(5000, 9000)))
        # Records and enums read and built natively (`native_records`):
        # every field kind, nested, in lists, failing midway, falling back.
        rd = np_lib.make_reading("s" * 30, 12.5, 7); np_lib.recount(rd); np_lib.describe_reading(rd)
        np_lib.span_width(np_lib.span(rd, rd)); np_lib.total_value(np_lib.readings(3))
        fails(lambda: np_lib.make_reading("x", -1.0, 1)); fails(lambda: np_lib.make_reading("x", 1.0, 0))
        fails(lambda: np_lib.describe_reading(np_lib.types.Reading("s", 1.0, -1, True, None, None, [])))
        np_lib.samples_sum(np_lib.samples("v", 9)); np_lib.samples_raw(np_lib.samples("v", 4))
        np_lib.folder("f"); np_lib.next_kind(2); fails(lambda: np_lib.next_kind(9))
        # Objects made, constructed and finalized natively (`native_objects`):
        # constructors failing and falling back, results, a panicking `Drop`.
        G = np_lib.types.Gadget
        gd = G(3, "g" * 30); gd.grown(2); G.maybe(2); G.maybe(0); np_lib.make_gadget(4).close()
        fails(lambda: G(0, "z")); fails(lambda: G("3", "z")); G(2, "boom", True); fails(lambda: gd.__init__(1, "x"))
        del gd
        # Iterator chunks read natively (lists), a panicking `next`, an early stop.
        list(np_lib.values.count_up(300)); list(np_lib.values.numbered_words(300))
        fails(lambda: list(np_lib.values.explode_at(5))); next(np_lib.values.numbered_words(9))
    gc.collect()
    assert np_lib.types.Gadget.live() == 0, np_lib.types.Gadget.live()
{extra}
"""


def run_driver(extra: str = "") -> str:
    code = VALGRIND_DRIVER.format(
        helper=os.path.join(ROOT, "ffi-export-runtime", "python"),
        lib=library_path("ffi_export_tests"),
        extra=extra,
    )
    env = dict(os.environ, PYTHONMALLOC="malloc")
    return valgrind_report([sys.executable, "-c", code], env)


def test_valgrind_finds_no_leak_or_invalid_access() -> None:
    report = run_driver()
    assert "ERROR SUMMARY" in report
    assert blocks_from(report, "libffi_export_tests.so") == []


def test_valgrind_would_see_a_leak() -> None:
    """Control: a string taken through the raw ABI and never freed is seen."""
    leak = (
        "import ctypes\n"
        "f = lib._cdll.make_string; f.restype = ffi_export._FfiBuffer; f.argtypes = [ctypes.c_size_t]\n"
        "f(1000)\n"
    )
    report = run_driver(leak)
    leaks = [b for b in blocks_from(report, "libffi_export_tests.so") if "definitely lost" in b]
    assert len(leaks) == 1 and "1,001 bytes" in leaks[0], report[-3000:]


#: Runs every example client, in order, in one process (one valgrind start
#: instead of one per client: ~25 s instead of ~5 min); each runs as
#: ``__main__`` with its own ``sys.argv``, its output discarded (its exact
#: output is asserted by test_examples.py). A leak's stack names the
#: example's Rust function.
EXAMPLES_DRIVER = """
import contextlib, io, os, runpy, sys
clients = sys.argv[1]
sys.path[:0] = [{helper!r}, clients]
ran = []
for name in sorted(os.listdir(clients)):
    if name[0].isdigit():
        sys.argv = [os.path.join(clients, name)]
        with contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(sys.argv[0], run_name="__main__")
        ran.append(name)
assert len(ran) == {expected}, ran
"""


def test_valgrind_on_example_clients() -> None:
    env = dict(os.environ, PYTHONMALLOC="malloc", FFI_EXPORT_EXAMPLES_LIB=library_path("examples"))
    clients = os.path.join(ROOT, "examples", "python")
    expected = len([name for name in os.listdir(clients) if name[0].isdigit()])
    code = EXAMPLES_DRIVER.format(helper=os.path.join(ROOT, "ffi-export-runtime", "python"), expected=expected)
    report = valgrind_report([sys.executable, "-c", code, clients], env)
    assert blocks_from(report, "libexamples.so") == []


def test_object_parameters_and_shared_objects_do_not_leak(lib) -> None:
    # 20,000 rounds, each a borrowed pair, a refused alias, shared items
    # returned in a Vec, a record and an Option, and a shelf holding them;
    # the live counters prove each Rust value was dropped exactly once.
    so = lib.shared_objects

    def loop(n):
        for i in range(n or 20_000):
            a, b = so.Tally(1), so.Tally(2)
            a.absorb(b)
            so.tally_transfer(a, b, 1)
            try:
                a.absorb(a)
            except ffi_export.InvalidArgument:
                pass
            item = so.Item("i" * 200, i)
            shelf = so.Shelf()
            shelf.put(item)
            shelf.put_all([item, so.Item("j", 1)])
            assert len(shelf.items()) == 3 and shelf.find("j") is not None
            assert so.tagged_value(so.tag_item("t", item)) == i
            shelf.clear()
    assert growth(loop) < 8 * MiB
    gc.collect()
    assert so.Item.live() == 0 and so.Tally.live() == 0


def test_objects_moved_by_value_do_not_leak(any_lib) -> None:  # noqa: F811 - the fixture
    # 10,000 rounds of moves: taken, refused (rolled back), dropped by a
    # panic after the move, inside records; the live counters and the
    # registry's entry count prove each value was dropped exactly once.
    bv = any_lib.byvalue
    gc.collect()
    entries = bv.registry_entries()

    def loop(n):
        for i in range(n or 10_000):
            machine = bv.Machine()
            machine.adopt(bv.Part("p" * 200, i))
            machine.adopt_all([bv.Part("q", 1), bv.Part("r", 2)])
            assert bv.total(machine.release_parts()) == i + 3
            shared, kept = bv.Part.new_shared("s", 1), [bv.Part("k", 1), bv.Part("l", 2)]
            for refused in (lambda: bv.total([*kept, shared]), lambda: bv.pair_weight(kept[0], kept[0])):
                with pytest.raises(ffi_export.InvalidArgument):
                    refused()
            with pytest.raises(ffi_export.RustPanic):
                bv.weigh_and_panic(kept[0])
            assert bv.kit_weight(bv.relabel(bv.make_kit("k" * 100, 2, 3), "z")) == 5
            assert bv.total(kept[1:]) == 2
            machine.close(); shared.close()
    assert growth(loop, warmup=300) < 8 * MiB
    gc.collect()
    assert bv.Part.live() == 0 and bv.registry_entries() == entries


def test_iterators_properties_and_pickled_records_do_not_leak(any_lib) -> None:  # noqa: F811 - the fixture
    # Iterators read whole, stopped early, failing at an item and panicking;
    # properties read and written; records pickled and passed back: every
    # chunk and iterator freed once (the live counter and the registry).
    import pickle

    v = any_lib.values
    gc.collect()
    entries = any_lib.byvalue.registry_entries()

    def loop(n):
        for i in range(n or 3_000):
            assert sum(v.count_up(300)) == 44850
            it = v.count_up(10**9)
            next(it)
            del it
            p = v.Playlist("p" * 100)
            p.add("a" * 100, 10)
            p.add("b", 500)
            assert [s.title for s in p.songs()] == ["a" * 100, "b"]
            with pytest.raises(any_lib.errors.TrackError):
                list(p.checked(100))
            with pytest.raises(ffi_export.RustPanic):
                list(v.explode_at(2))
            with pytest.raises(any_lib.errors.TrackError.Missing):
                p.longer_than(1000)
            assert [s.seconds for s in p.longer_than(100)] == [500]
            p.title = "t" * 100
            assert p.title == "t" * 100 and p.longest.seconds == 500
            album = v.Album("x" * 50, [v.Track.Pause(i)], v.Song("s", 1), {"k": 1.0})
            assert v.album_seconds(pickle.loads(pickle.dumps(album))) == i
            p.close()
    assert growth(loop, warmup=300) < 8 * MiB
    gc.collect()
    assert v.live_iterators() == 0
    assert any_lib.byvalue.registry_entries() == entries


def test_protocol_strings_and_clones_do_not_leak(any_lib) -> None:  # noqa: F811 - the fixture
    # 20,000 rounds of Display/Debug strings (4 KiB each), panicking
    # Display, hashes, comparisons, clones and sums: the strings are freed
    # once and every object made is dropped (the live counter).
    pr = any_lib.protocols
    big = "x" * 4096

    def loop(n):
        for _ in range(n or 20_000):
            bag = pr.Bag([big])
            assert len(str(bag)) == 4098 and repr(bag).startswith("Bag")
            assert bag == copy.copy(bag) and hash(bag) == hash(bag + pr.Bag([]))
            assert str(pr.Version(1, 2, 3, big)).endswith("x")
            grenade = pr.Grenade(True)
            with pytest.raises(ffi_export.RustPanic):
                str(grenade)
            bag.close()
    assert growth(loop, warmup=300) < 8 * MiB
    gc.collect()
    assert pr.live_bags() == 0
