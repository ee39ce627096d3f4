"""The soundness guarantees an independent review attacked (docs/SAFETY.md,
"Errors are never lost" and "Shutdown, unwinding and re-entrancy"): every
test here failed on the code before the fix it names, and runs on the fast
path and on the ctypes path (``any_lib``) where both apply.

Anything that could abort the process before its fix runs in a child
process whose exit status is checked, so a regression fails the test
instead of killing the test run."""

from __future__ import annotations

import array
import copy
import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

import ffi_export
from conftest import ROOT, library_path
from paths import any_lib  # noqa: F401 (fixture)


# ---------------------------------------------------------------------------
# A failing call always raises its own error


class _Cycle:
    """An object in a reference cycle whose finalizer closes a Counter: the
    garbage collector runs it at whatever allocation triggers a
    collection, e.g. between a failing call and the take of its error."""

    def __init__(self, counter: object) -> None:
        self.counter = counter
        self.me = self

    def __del__(self) -> None:
        self.counter.close()  # type: ignore[attr-defined]


def test_gc_finalizer_between_call_and_raise_loses_no_error(any_lib) -> None:
    raised = 0
    thresholds = gc.get_threshold()
    gc.collect()
    gc.set_threshold(1)  # a collection at (nearly) every allocation
    try:
        for i in range(1000):
            _Cycle(any_lib.Counter(1, "in a cycle"))
            try:
                any_lib.parse_int(f"not a number {i}")
            except any_lib.errors.ParseIntError as exc:
                assert str(exc) == "invalid digit found in string"
                raised += 1
    finally:
        gc.set_threshold(*thresholds)
        gc.collect()
    assert raised == 1000


class _MakesGarbage:
    """An int-like argument whose conversion leaves a `_Cycle` behind: the
    collection that finalizes it runs at the next allocation, which comes
    after the call returned (on the ctypes path: the error record the
    wrapper allocates to take the error)."""

    def __init__(self, lib: object, value: int) -> None:
        self.lib = lib
        self.value = value

    def __index__(self) -> int:
        _Cycle(self.lib.Counter(1, "garbage"))  # type: ignore[attr-defined]
        return self.value


def test_gc_finalizer_right_after_the_call_loses_no_error(any_lib) -> None:
    raised = 0
    thresholds = gc.get_threshold()
    gc.collect()
    gc.set_threshold(1)
    try:
        for _ in range(500):
            try:
                any_lib.checked_add(_MakesGarbage(any_lib, 2**31 - 1), 1)
            except any_lib.errors.Error as exc:
                assert "overflows" in str(exc)
                raised += 1
    finally:
        gc.set_threshold(*thresholds)
        gc.collect()
    assert raised == 500


def test_gc_finalizer_keeps_string_results_and_callbacks_honest(any_lib) -> None:
    """`Result<String, _>` never turns a failure into ``None``, and a
    callback's exception still comes back while finalizers run."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.set_threshold(1)
    try:
        for _ in range(300):
            _Cycle(any_lib.Counter(1, "cycle"))
            with pytest.raises(any_lib.errors.Error, match="^empty name$"):
                any_lib.greet("")
            _Cycle(any_lib.Counter(2, "cycle"))

            def boom(x: int) -> int:
                raise KeyError("from the callback")

            with pytest.raises(KeyError, match="from the callback"):
                any_lib.count_where(array.array("q", [1, 2, 3]), boom)
    finally:
        gc.set_threshold(*thresholds)
        gc.collect()


def test_signal_handler_calling_exports_loses_no_error(any_lib) -> None:
    """A SIGALRM handler making successful and failing calls between any two
    bytecodes of a tight loop of failing calls: each call still raises its
    own error (before the fix about half of them returned 0)."""
    in_handler = {"calls": 0}

    def handler(signum: int, frame: object) -> None:
        in_handler["calls"] += 1
        assert any_lib.echo_i64(5) == 5
        try:
            any_lib.checked_add(2**31 - 1, 1)
        except any_lib.errors.Error:
            pass

    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.0002, 0.0002)
    try:
        for i in range(20_000):
            try:
                value = any_lib.parse_int("x" * (1 + i % 3))
            except any_lib.errors.ParseIntError as exc:
                assert str(exc) == "invalid digit found in string"
            else:
                pytest.fail(f"call {i} failed but returned {value!r}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, previous)
    assert in_handler["calls"] > 10  # the handler really interleaved


def test_other_threads_failing_meanwhile_do_not_affect_a_call(any_lib) -> None:
    stop = threading.Event()

    def fail_forever() -> None:
        while not stop.is_set():
            try:
                any_lib.parse_int("y")
            except any_lib.errors.ParseIntError:
                pass

    threads = [threading.Thread(target=fail_forever) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for i in range(5_000):
            assert any_lib.echo_i64(i) == i
            with pytest.raises(any_lib.errors.Error, match="overflows"):
                any_lib.checked_add(2**31 - 1, 1)
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def test_c_callers_keep_the_latest_call_contract(lib) -> None:
    """Raw ABI: `ffi_export_error_take` describes the thread's latest call
    (a success after an untaken failure leaves nothing to take), and
    `ffi_export_error_take_since` finds a failure even after later calls."""
    import ctypes

    cdll = ctypes.CDLL(library_path("ffi_export_tests"))
    parse = cdll.parse_int
    parse.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    parse.restype = ctypes.c_int64
    echo = cdll.echo_i64
    echo.argtypes = [ctypes.c_int64]
    echo.restype = ctypes.c_int64
    take = cdll.ffi_export_error_take
    take.argtypes = [ctypes.c_void_p]
    take.restype = ctypes.c_bool
    take_since = cdll.ffi_export_error_take_since
    take_since.argtypes = [ctypes.c_uint64, ctypes.c_void_p]
    take_since.restype = ctypes.c_bool
    faults = ctypes.c_uint64.in_dll(cdll, "FFI_EXPORT_FAULTS")

    assert parse(b"x", 1) == 0
    assert echo(3) == 3
    assert not take(None)  # the latest call succeeded
    before = faults.value
    assert parse(b"x", 1) == 0
    assert echo(4) == 4  # a later call on this thread...
    assert take_since(before, None)  # ...does not hide the earlier failure
    assert not take_since(before, None)  # taken once
    # More untaken failures than a thread keeps: the dropped one is reported
    # as dropped, never as a success.
    before = faults.value
    for _ in range(40):
        parse(b"x", 1)
    found = [take_since(before, None) for _ in range(17)]
    assert found == [True] * 17


# ---------------------------------------------------------------------------
# Shutdown with daemon threads inside calls


def _run_child(source: str, fast: bool) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "ffi-export-runtime", "python"),
                                         env.get("PYTHONPATH", "")])
    if not fast:
        env["FFI_EXPORT_NO_FAST"] = "1"
    else:
        env.pop("FFI_EXPORT_NO_FAST", None)
    prelude = f"import ffi_export\nlib = ffi_export.load({library_path('ffi_export_tests')!r})\n"
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(source)], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "ctypes"])
def test_daemon_threads_inside_calls_at_shutdown_exit_cleanly(fast: bool) -> None:
    source = """
        import array, threading, time

        def sleeper():
            while True:
                lib.sleep_ms(2)

        def with_callback():
            while True:
                lib.apply(array.array("d", [1.0] * 50), lambda x: time.sleep(0.0005) or x + 1)

        def with_native_callback():  # no buffer argument: native where CPython has the fast path
            while True:
                lib.sum_of(20, lambda: time.sleep(0.0005) or 1)

        def slow_allocator(rust_type, length):
            time.sleep(0.001)
            return array.array("d", [0.0] * length)

        def with_allocator():
            while True:
                lib.sqrts(20, alloc=slow_allocator)

        for target in [sleeper] * 2 + [with_callback, with_native_callback] * 2 + [with_allocator] * 2:
            threading.Thread(target=target, daemon=True).start()
        time.sleep(0.3)
        print("main done", flush=True)
    """
    exits_cleanly(source, fast, 4)


def exits_cleanly(source: str, fast: bool, attempts: int) -> None:
    """Runs ``source`` (which prints "main done" and leaves daemon threads
    busy) in child processes: each exits with status 0 and nothing alarming
    on stderr."""
    for attempt in range(attempts):
        child = _run_child(source, fast)
        assert child.returncode == 0, (attempt, child.returncode, child.stderr[-2000:])
        assert "main done" in child.stdout
        for bad in ("panic", "FATAL", "Abort", "Traceback", "Segmentation"):
            assert bad not in child.stderr, (attempt, child.stderr[-2000:])


# ---------------------------------------------------------------------------
# Callbacks and the allocator while Rust is already unwinding


def test_callback_raising_again_during_unwinding_keeps_the_first_exception(any_lib) -> None:
    calls = []

    def callback(x: float) -> float:
        calls.append(x)
        raise ValueError(f"callback failed on {x}")

    with pytest.raises(ValueError, match=r"^callback failed on 1\.0$"):
        any_lib.sum_then_report(array.array("d", [1.0, 2.0]), callback)
    assert calls == [1.0, -1.0]  # the Drop guard still called back, once
    # Without failure, the guard's call is just another call.
    seen = []
    assert any_lib.sum_then_report(array.array("d", [1.0, 2.0]), lambda x: seen.append(x) or x * 2) == 6.0
    assert seen == [1.0, 2.0, -1.0]


def test_callback_raising_during_a_panic_is_the_panics_context(any_lib) -> None:
    def callback(x: int) -> int:
        raise LookupError(f"guard callback {x}")

    with pytest.raises(ffi_export.RustPanic, match="panicked before the guard called back") as info:
        any_lib.panic_then_callback(True, callback)
    assert isinstance(info.value.__context__, LookupError)
    assert str(info.value.__context__) == "guard callback 7"
    assert any_lib.panic_then_callback(False, lambda x: x + 1) == 2


def test_allocator_failing_during_a_panic_is_the_panics_context(any_lib) -> None:
    asked = []

    def refuse(rust_type: str, length: int) -> object:
        asked.append((rust_type, length))
        raise MemoryError("no outputs today")

    with pytest.raises(ffi_export.RustPanic, match="panicked before the guard allocated") as info:
        any_lib.panic_then_allocate(True, alloc=refuse)
    assert isinstance(info.value.__context__, MemoryError)
    assert asked == [("f64", 3)]  # the text output was skipped, not attempted after the failure
    outputs = any_lib.panic_then_allocate(False)
    assert [list(outputs[0]), outputs[1]] == [[1.5, 1.5, 1.5], "guard"]


# ---------------------------------------------------------------------------
# Smaller defects


def test_fast_functions_without_arguments(lib) -> None:
    """CPython passes NULL for no arguments (`iter(f, sentinel)` calls `f`
    through `PyObject_CallNoArgs`): the native function must not build a
    slice from it (the debug build the tests load aborts on that)."""
    assert type(lib.renamed_export).__name__ == "native_function", "renamed_export should be on the fast path"
    child = _run_child("""
        print(next(iter(lib.renamed_export, None)), next(iter(lib.documented, 0)))
    """, fast=True)
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.split() == ["7", "None"]


def test_init_twice_is_refused_and_leaks_nothing(any_lib) -> None:
    before = any_lib.Counter.live()
    counter = any_lib.Counter(1, "once")
    with pytest.raises(TypeError, match="already initialised"):
        counter.__init__(2, "twice")
    assert counter.get() == 1
    assert any_lib.Counter.live() == before + 1
    counter.close()
    assert any_lib.Counter.live() == before


def test_deepcopy_of_a_returned_vec_is_refused_quietly(any_lib) -> None:
    values = any_lib.vec_f64(4)
    unraisable = []
    previous = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    try:
        with pytest.raises(TypeError, match="owns its memory"):
            copy.deepcopy(values)
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert unraisable == []
    assert list(values) == [0.0, 1.0, 2.0, 3.0]


class _ClosesOnIndex:
    """An int-like argument whose conversion closes the object the method
    is called on: the handle was read before, the call happens after."""

    def __init__(self, victim: object) -> None:
        self.victim = victim

    def __index__(self) -> int:
        self.victim.close()  # type: ignore[attr-defined]
        return 1


def test_close_racing_a_method_call_raises_the_closed_error(any_lib) -> None:
    counter = any_lib.Counter(1, "raced")
    with pytest.raises(ValueError, match="^this Counter is closed$") as info:
        counter.add(_ClosesOnIndex(counter))
    assert not isinstance(info.value, ffi_export.InvalidArgument)


def test_close_racing_method_calls_from_threads(any_lib) -> None:
    errors: list[BaseException] = []

    def hammer(counter: object) -> None:
        try:
            while True:
                counter.get()  # type: ignore[attr-defined]
        except ValueError as exc:
            errors.append(exc)

    for _ in range(200):
        counter = any_lib.Counter(0, "threads")
        thread = threading.Thread(target=hammer, args=(counter,))
        thread.start()
        counter.close()
        thread.join()
    assert len(errors) == 200
    assert {type(e) for e in errors} == {ValueError}
    assert {str(e) for e in errors} == {"this Counter is closed"}


def test_an_export_the_helper_cannot_bind_does_not_break_loading(monkeypatch) -> None:
    real_bind = ffi_export._Binder.bind

    def bind(self: ffi_export._Binder, export: dict) -> object:
        if export["name"] == "reverse":
            raise ffi_export.LoadError("reverse: a type this helper cannot pass")
        return real_bind(self, export)

    monkeypatch.setattr(ffi_export._Binder, "bind", bind)
    with pytest.warns(RuntimeWarning, match="reverse: a type this helper cannot pass"):
        library = ffi_export.Library(library_path("ffi_export_tests"))
    assert library.echo_i64(3) == 3
    with pytest.raises(NotImplementedError, match="cannot pass"):
        library.reverse("abc")


# ---------------------------------------------------------------------------
# Buffers from C exporters


@pytest.fixture(scope="module")
def exporter(tmp_path_factory) -> object:
    """tests/c/exporter.c built as an extension of this interpreter."""
    import importlib.machinery
    import importlib.util
    import sysconfig

    out = tmp_path_factory.mktemp("exporter") / ("ffi_export_test_exporter" + sysconfig.get_config_var("EXT_SUFFIX"))
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-Wall", "-Wextra", "-Werror",
                    "-Wno-missing-field-initializers", "-Wno-cast-function-type",
                    f"-I{sysconfig.get_paths()['include']}", os.path.join(ROOT, "tests", "c", "exporter.c"),
                    "-o", str(out)], check=True)
    loader = importlib.machinery.ExtensionFileLoader("ffi_export_test_exporter", str(out))
    spec = importlib.util.spec_from_file_location("ffi_export_test_exporter", str(out), loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_views_stay_in_place_for_the_call(any_lib, exporter) -> None:
    """An exporter pointing `shape`/`strides` into the view must get its
    view back at the address it filled."""
    buffer = exporter.Exporter(16)
    assert any_lib.fill_u8(buffer, 9) == 16
    assert buffer.contents() == bytes([9]) * 16
    assert any_lib.sum_u8(buffer) == 144
    assert (buffer.moved, buffer.exports) == (0, 0)


def test_read_only_memory_is_never_lent_as_mut(any_lib, exporter) -> None:
    """An exporter that grants PyBUF_WRITABLE for read-only memory: the
    call is refused, nothing is written."""
    dishonest = exporter.Exporter(8, readonly=True, dishonest=True)
    with pytest.raises(BufferError, match="must be writable"):
        any_lib.fill_u8(dishonest, 5)
    assert dishonest.contents() == bytes(8)
    assert any_lib.sum_u8(dishonest) == 0  # reading it is fine
    honest = exporter.Exporter(8, readonly=True)
    with pytest.raises(BufferError):
        any_lib.fill_u8(honest, 5)
    assert (dishonest.exports, honest.exports) == (0, 0)


# ---------------------------------------------------------------------------
# Python code running during a call cannot touch what Rust holds


def test_a_callback_writing_a_lent_buffer_does_not_change_rusts_view(any_lib) -> None:
    """Rust holds `&[u64]` while the callback runs: the callback writing the
    caller's array must not change what Rust reads (it gets a private copy;
    before, LLVM's `noalias` made the difference silently 0 or 990)."""
    values = array.array("Q", [10, 20])

    def write() -> None:
        values[0] = 1000

    assert any_lib.observe(values, write) == 0
    assert values[0] == 1000  # the caller's own write stands


def test_a_callback_writing_a_lent_mut_buffer_loses_to_rust(any_lib) -> None:
    values = array.array("Q", [1, 2])

    def write() -> None:
        values[0] = 100

    assert any_lib.bump_around(values, write) == 3
    assert list(values) == [3, 2]  # Rust's writes, copied back after the call


def test_a_callback_cannot_put_an_invalid_bool_under_rust(any_lib) -> None:
    flags = bytearray([1, 0, 1])
    flags_view = memoryview(flags).cast("?")

    def corrupt() -> None:
        flags[1] = 2  # not a bool

    assert any_lib.count_after(flags_view, corrupt) == 2  # Rust saw the flags as lent
    # The byte the callback wrote is refused when it is lent next time.
    with pytest.raises(ffi_export.InvalidArgument, match="not valid `bool`"):
        any_lib.count_after(flags_view, lambda: None)


def test_an_allocator_function_writing_its_earlier_output_does_not_change_rusts_view(any_lib) -> None:
    made: list = []

    def alloc(rust_type: str, length: int) -> object:
        for earlier in made:
            earlier[0] = 99  # writes memory Rust holds as `&mut [u64]`
        made.append(array.array("Q", [0] * length))
        return made[-1]

    result, outputs = any_lib.alloc_twice(alloc=alloc)
    assert result == 7
    assert [list(o) for o in outputs] == [[7, 0], [8, 0]]


def test_mut_slice_aliasing_a_str_list_item_is_refused_raw(lib) -> None:
    """Through the C ABI: a `&[&str]` item pointing into the `&mut [u8]`
    buffer is refused before Rust runs (it used to be accepted)."""
    import ctypes

    cdll = ctypes.CDLL(library_path("ffi_export_tests"))
    fill = cdll.fill_then_measure
    fill.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint8]
    fill.restype = ctypes.c_size_t
    take = cdll.ffi_export_error_take
    take.argtypes = [ctypes.c_void_p]
    take.restype = ctypes.c_bool
    out = (ctypes.c_uint8 * 16)(*b"hello world 1234")
    item = ffi_export._FfiBuffer(ctypes.addressof(out) + 6, 5, 0)
    assert fill(out, 16, ctypes.byref(item), 1, 0) == 0
    error = ffi_export._FfiError()
    assert take(ctypes.byref(error))
    message = ctypes.string_at(error.message.ptr, error.message.len).decode()
    assert error.code == 3 and "overlaps item 0 of argument `words`" in message, message
    assert bytes(out) == b"hello world 1234"  # nothing written
    elsewhere = ctypes.create_string_buffer(b"abc")
    item = ffi_export._FfiBuffer(ctypes.addressof(elsewhere), 3, 0)
    assert fill(out, 16, ctypes.byref(item), 1, 0) == 3
    assert bytes(out) == bytes(16)


def test_mut_slice_aliasing_a_cstr_is_refused_raw(lib) -> None:
    import ctypes

    cdll = ctypes.CDLL(library_path("ffi_export_tests"))
    copy = cdll.copy_cstr
    copy.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    copy.restype = ctypes.c_size_t
    take = cdll.ffi_export_error_take
    take.argtypes = [ctypes.c_void_p]
    take.restype = ctypes.c_bool
    buffer = ctypes.create_string_buffer(b"abc", 16)
    start = ctypes.addressof(buffer)
    # "abc\0" is [0, 4): an output at [4, 12) is fine...
    assert copy(start, start + 4, 8) == 3
    assert buffer.raw[:8] == b"abc\0abc\0"
    # ...one at [2, 10) overlaps the text (its NUL included) and is refused.
    assert copy(start + 4, start + 6, 8) == 0
    error = ffi_export._FfiError()
    assert take(ctypes.byref(error)) and error.code == 3
    assert ctypes.string_at(error.message.ptr, error.message.len).startswith(
        b"argument `text`: overlaps argument `out`")
    out = bytearray(4)
    assert lib.copy_cstr(b"xyz", out) == 3 and out == b"xyz\0"


def test_callbacks_of_three_and_four_arguments(any_lib) -> None:
    assert any_lib.call3(lambda a, b, c: a + b + c) == 6.5
    assert any_lib.call4(lambda a, b, c, d: a + b + c + int(d)) == 7


def test_null_allocator_from_c_is_refused(lib) -> None:
    import ctypes

    cdll = ctypes.CDLL(library_path("ffi_export_tests"))
    sqrts = cdll.sqrts
    sqrts.argtypes = [ctypes.c_uint32, ffi_export._FfiAllocator]
    sqrts.restype = None
    take = cdll.ffi_export_error_take
    take.argtypes = [ctypes.c_void_p]
    take.restype = ctypes.c_bool
    sqrts(3, ffi_export._FfiAllocator(None, None))
    error = ffi_export._FfiError()
    assert take(ctypes.byref(error))
    assert error.code == 3
    assert b"NULL allocator" in ctypes.string_at(error.message.ptr, error.message.len)


def test_plain_record_layout_is_checked_at_load() -> None:
    """A plain-data record whose Rust layout differs from C's natural one
    (what `repr(packed)`/`align` would give; refused at compile time) is a
    LoadError, not a mis-strided buffer."""
    named = {"m::Odd": {"kind": "record", "name": "Odd", "module": "m", "doc": "", "pod": True,
                        "size": 16, "align": 8,
                        "fields": [{"name": "x", "type": {"kind": "scalar", "name": "f64"}}]}}
    with pytest.raises(ffi_export.LoadError, match="differs from C's natural layout"):
        ffi_export._Types(named, "m")
