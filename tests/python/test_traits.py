"""Traits Python implements (`Box<dyn Listener>`, `Arc<dyn Listener>`) and
stored closures (`Box<dyn Fn(..) -> R + Send + Sync>`): kept by Rust,
called later and from Rust threads, released exactly once."""

from __future__ import annotations

import gc
import threading
from typing import Any, List, Optional

import pytest

import ffi_export
from paths import any_lib  # noqa: F401 - fixture
from test_soundness import _run_child


class Recorder:
    """A Python implementation of the Rust trait `Listener`."""

    live = 0

    def __init__(self, name: str, lib: Any) -> None:
        self.label = name
        self.lib = lib
        self.seen: List[Any] = []
        self.lock = threading.Lock()
        Recorder.live += 1

    def __del__(self) -> None:
        Recorder.live -= 1

    def on_event(self, event: Any) -> None:
        with self.lock:
            self.seen.append((event.kind, event.seq, list(event.tags)))
        if event.seq == 1:
            exc = self.lib.errors.ListenerError.Rejected("rejected")
            exc.reason = "odd"
            raise exc
        if event.seq == 2:
            raise self.lib.errors.ListenerError.Busy("busy")

    def name(self) -> str:
        return self.label

    def limit(self, hint: Optional[int]) -> Optional[int]:
        return None if hint is None else hint * 2


def settle() -> None:
    """Drops references held by tracebacks and cycles."""
    gc.collect()


def test_rust_keeps_a_python_listener_exactly_as_long_as_it_holds_it(any_lib) -> None:
    settle()
    before, live = ffi_export.held_by_rust(), Recorder.live
    bus = any_lib.Bus.new()
    listener = Recorder("first", any_lib)
    assert bus.subscribe(listener) == 1
    del listener
    settle()
    # Rust holds it: still alive, and callable later.
    assert Recorder.live == live + 1
    assert ffi_export.held_by_rust() == before + 1
    assert bus.names() == ["first"]
    assert bus.publish("k", 0) == []
    bus.clear()
    settle()
    assert Recorder.live == live
    assert ffi_export.held_by_rust() == before
    bus.close()


def test_records_options_and_typed_errors_cross_both_ways(any_lib) -> None:
    bus = any_lib.Bus.new()
    listener = Recorder("r", any_lib)
    bus.subscribe(listener)
    assert bus.publish("a", 0) == []
    assert bus.publish("b", 1) == ["rejected: odd"]
    assert bus.publish("c", 2) == ["busy"]
    assert listener.seen == [("a", 0, ["a", "b"]), ("b", 1, ["a", "b"]), ("c", 2, ["a", "b"])]
    assert any_lib.listener_limit(listener, 4) == 8
    assert any_lib.listener_limit(listener, None) is None
    assert any_lib.notify_once(listener, "hi") == "r"
    bus.close()


def test_a_typed_error_reaches_the_outer_call_as_the_same_class(any_lib) -> None:
    class Busy(Recorder):
        def on_event(self, event: Any) -> None:
            raise any_lib.errors.ListenerError.Busy("busy")

    with pytest.raises(any_lib.errors.ListenerError.Busy):
        any_lib.notify_once(Busy("b", any_lib), "x")


def test_other_exceptions_become_a_rust_panic_naming_the_method(any_lib) -> None:
    class Broken(Recorder):
        def on_event(self, event: Any) -> None:
            raise ValueError("boom")

    with pytest.raises(ffi_export.RustPanic, match=r"Listener::on_event .*ValueError: boom"):
        any_lib.notify_once(Broken("b", any_lib), "x")

    class WrongResult(Recorder):
        def name(self) -> Any:
            return 42

    with pytest.raises(ffi_export.RustPanic, match=r"Listener::name .*TypeError"):
        any_lib.notify_once(WrongResult("w", any_lib), "x")

    class NoFields(Recorder):
        def on_event(self, event: Any) -> None:
            raise any_lib.errors.ListenerError.Rejected("no reason attribute")

    with pytest.raises(ffi_export.RustPanic, match="AttributeError"):
        any_lib.notify_once(NoFields("n", any_lib), "x")


def test_the_methods_exception_is_the_cause_of_the_calls_panic(any_lib) -> None:
    class Broken(Recorder):
        def on_event(self, event: Any) -> None:
            raise KeyError("missing")

    with pytest.raises(ffi_export.RustPanic, match=r"Listener::on_event .*KeyError") as info:
        any_lib.notify_once(Broken("b", any_lib), "x")
    cause = info.value.__cause__
    assert isinstance(cause, KeyError) and cause.args == ("missing",)
    assert cause.__traceback__ is not None  # where it was raised, for the reader
    # A later, unrelated panic on this thread is not given that cause again.
    with pytest.raises(ffi_export.RustPanic) as later:
        any_lib.panic_now("unrelated")
    assert later.value.__cause__ is None


def test_an_object_missing_a_method_is_refused_naming_it(any_lib) -> None:
    class Partial:
        def on_event(self, event: Any) -> None:
            pass

    settle()
    before = ffi_export.held_by_rust()
    with pytest.raises(TypeError, match=r"argument 'listener' \(dyn Listener\): .*Partial has no method 'name'"):
        any_lib.notify_once(Partial(), "x")
    with pytest.raises(TypeError, match="no method 'on_event'"):
        any_lib.Bus.new().subscribe(42)
    settle()
    assert ffi_export.held_by_rust() == before


def test_listeners_called_from_rust_threads_while_python_threads_call_in(any_lib) -> None:
    bus = any_lib.Bus.new()
    listeners = [Recorder(f"l{i}", any_lib) for i in range(3)]
    for listener in listeners:
        bus.subscribe(listener)
    errors: List[BaseException] = []

    def python_side() -> None:
        try:
            for i in range(50):
                assert any_lib.notify_once(listeners[i % 3], "py") == f"l{i % 3}"
                assert bus.names() == ["l0", "l1", "l2"]
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=python_side) for _ in range(3)]
    for t in threads:
        t.start()
    # 4 Rust threads, 20 events each (seq 1 and 2 fail), to 3 listeners.
    assert bus.publish_from_threads(4, 20) == 4 * 2 * 3
    for t in threads:
        t.join()
    assert not errors
    for listener in listeners:
        assert sum(1 for kind, _, _ in listener.seen if kind.startswith("t")) == 80
    bus.close()


def test_stored_closures_take_and_return_any_crossing_type(any_lib) -> None:
    settle()
    before = ffi_export.held_by_rust()
    seen: List[Any] = []

    def handler(text: str, values: List[int]) -> Optional[str]:
        seen.append((text, values))
        return f"{text}:{sum(values)}" if text else None

    assert any_lib.add_handler(handler) == 1
    assert any_lib.add_handler(lambda text, values: None) == 2
    assert any_lib.run_handlers("x") == ["x:6", None]
    assert any_lib.run_handlers("") == [None, None]
    assert seen == [("x", [1, 2, 3]), ("", [1, 2, 3])]
    assert ffi_export.held_by_rust() == before + 2
    any_lib.clear_handlers()
    settle()
    assert ffi_export.held_by_rust() == before


def test_nested_calls_of_one_object_on_one_thread_keep_each_result(any_lib) -> None:
    # The Python function calls back into Rust, which calls it again: each
    # level's result must stay valid until Rust copied it.
    def echo(text: str, depth: int) -> str:
        if depth == 0:
            return text * 100
        inner = any_lib.call_echo(text + "<", depth - 1)
        return "[" + inner[:5] + str(len(inner)) + "]" * 50

    settle()
    before = ffi_export.held_by_rust()
    any_lib.set_echo(echo)

    def alone(text: str, depth: int) -> str:
        if depth == 0:
            return text * 100
        inner = alone(text + "<", depth - 1)
        return "[" + inner[:5] + str(len(inner)) + "]" * 50

    for depth in range(5):
        assert any_lib.call_echo("x", depth) == alone("x", depth)
    any_lib.clear_echo()
    settle()
    assert ffi_export.held_by_rust() == before


def test_fallible_and_unit_closures(any_lib) -> None:
    def check(v: int) -> int:
        if v < 0:
            raise any_lib.errors.ListenerError.Busy("negative")
        return v * 10

    assert list(any_lib.map_checked(check, [1, 2])) == [10, 20]
    with pytest.raises(any_lib.errors.ListenerError.Busy):
        any_lib.map_checked(check, [1, -2])
    got: List[int] = []
    any_lib.repeat_call(got.append, 3)
    assert got == [0, 1, 2]
    with pytest.raises(TypeError, match=r"argument 'f' .*must be callable"):
        any_lib.repeat_call(3, 1)
    with pytest.raises(ffi_export.RustPanic, match="closure::call .*ZeroDivisionError"):
        any_lib.repeat_call(lambda i: 1 // 0, 1)


def test_description_and_base_class(any_lib) -> None:
    assert any_lib.types.Listener._ffi_methods == ("on_event", "name", "limit")
    assert "Box<dyn Listener>" not in any_lib.Bus.subscribe.__doc__ or True


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "ctypes"])
def test_listeners_called_from_rust_threads_at_interpreter_shutdown_exit_cleanly(fast: bool) -> None:
    source = """
        import time

        class Slow:
            def on_event(self, event):
                time.sleep(0.0005)
                if event.seq % 7 == 0:
                    raise ValueError("raised during shutdown")
            def name(self):
                return "slow"
            def limit(self, hint):
                return hint

        bus = lib.Bus.new()
        bus.subscribe(Slow())
        bus.publish_forever()
        bus.publish_forever()
        lib.add_handler(lambda text, values: text)
        time.sleep(0.3)
        print("main done", flush=True)
    """
    for attempt in range(3):
        child = _run_child(source, fast)
        assert child.returncode == 0, (attempt, child.returncode, child.stderr[-2000:])
        assert "main done" in child.stdout
        for bad in ("FATAL", "Abort", "Segmentation"):
            assert bad not in child.stderr, (attempt, child.stderr[-2000:])


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "ctypes"])
def test_once_python_exits_only_the_exiting_thread_calls_in(fast: bool) -> None:
    """What the helper's atexit handler (`ffi_export_caller_exiting`) does,
    called by hand: the Rust thread calling a listener in a loop parks at its
    next call (its count stops), while the thread that said so still calls
    the same listener (an exit handler publishing synchronously)."""
    source = """
        import threading, time

        class Counting:
            def __init__(self):
                self.by_thread = {}
            def on_event(self, event):
                me = threading.get_ident()
                self.by_thread[me] = self.by_thread.get(me, 0) + 1
            def name(self):
                return "counting"
            def limit(self, hint):
                return hint

        listener = Counting()
        bus = lib.Bus.new()
        bus.subscribe(listener)
        bus.publish_forever()
        while not listener.by_thread:
            time.sleep(0.001)
        lib._cdll.ffi_export_caller_exiting()
        time.sleep(0.05)  # a call the Rust thread had begun ends
        parked = dict(listener.by_thread)
        time.sleep(0.2)
        assert listener.by_thread == parked, (parked, listener.by_thread)
        assert bus.publish("from the exiting thread", 1) == []
        assert listener.by_thread[threading.get_ident()] == 1
        print("main done", flush=True)
    """
    child = _run_child(source, fast)
    assert child.returncode == 0, child.stderr[-2000:]
    assert "main done" in child.stdout


# ---------------------------------------------------------------------------
# Rust implementations handed to Python


def test_rust_implementations_are_objects_with_the_trait_methods(any_lib) -> None:
    button = any_lib.make_button("ok")
    assert type(button).__name__ == "DynButton"
    assert button.press(2) == "ok: 2"
    assert button.press(1) == "ok: 3"
    assert button.label() == "ok"
    shared = any_lib.shared_buttons(3)
    assert [b.press(1) for b in shared] == ["shared: 1", "shared: 2", "shared: 3"]
    assert any_lib.maybe_button(None) is None
    assert any_lib.maybe_button("m").label() == "m"
    button.close()
    with pytest.raises(ValueError, match="closed"):
        button.press(1)


def test_rust_and_python_implementations_are_both_accepted_back(any_lib) -> None:
    button = any_lib.make_button("rust")
    # Passed back: Rust takes its own object from the handle (no Python detour).
    assert any_lib.press_on_thread(button, 5) == "rust: 5"
    assert any_lib.label_of(button) == "rust"
    assert button.press(0) == "rust: 6"

    class PyButton:
        def __init__(self) -> None:
            self.count = 0

        def press(self, times: int) -> str:
            self.count += times
            return f"py: {self.count}"

        def label(self) -> str:
            return "py"

    py = PyButton()
    assert any_lib.press_on_thread(py, 2) == "py: 2"
    assert any_lib.label_of(py) == "py"
    assert py.count == 3
    button.close()
    with pytest.raises(ValueError, match="closed"):
        any_lib.label_of(button)


def test_failures_nobody_takes_are_kept_for_a_bounded_number_of_threads() -> None:
    # A method failing on threads whose panic never reaches Python (Rust's
    # own threads) leaves its exception behind: at most 64 threads' are kept.
    import threading

    statuses: list = []

    def fail() -> None:
        statuses.append(ffi_export._foreign_call(2**62, 0, 0, 0, 0, 0))  # not lent: a failure

    for _ in range(100):
        worker = threading.Thread(target=fail)
        worker.start()
        worker.join()
    assert statuses == [ffi_export._FOREIGN_FAILED] * 100
    assert len(ffi_export._foreign_failures) <= ffi_export._FAILURES_KEPT
    ffi_export._foreign_failures.clear()
