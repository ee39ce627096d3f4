"""Trait objects and closures inside other values, both ways (issue 13):
``Vec<Arc<dyn Listener>>``, ``Option<Box<dyn Listener>>``, maps and
options of stored closures, record and enum fields of them as parameters;
Rust implementations and Rust closures returned inside ``Vec``, ``Option``,
maps and records; round trips; bad input; what Rust keeps, released once;
threads. Every test runs on both call paths (``any_lib``)."""

from __future__ import annotations

import ctypes
import gc
import sys
import threading
from typing import Any, List, Optional

import pytest

import ffi_export
from paths import any_lib, load_without_fast_path  # noqa: F401 - fixture


class Listener:
    """A Python implementation of the Rust trait `Listener`."""

    def __init__(self, name: str, fail: Optional[BaseException] = None) -> None:
        self._name = name
        self.fail = fail
        self.events: List[Any] = []
        self.lock = threading.Lock()

    def on_event(self, event: Any) -> None:
        with self.lock:
            self.events.append((event.kind, event.seq))
        if self.fail is not None:
            raise self.fail

    def name(self) -> str:
        return self._name

    def limit(self, hint: Optional[int]) -> Optional[int]:
        return hint


class Button:
    """A Python implementation of the Rust trait `Button`."""

    def __init__(self, label: str) -> None:
        self._label = label
        self.presses = 0

    def press(self, times: int) -> str:
        self.presses += times
        return f"{self._label}={self.presses}"

    def label(self) -> str:
        return self._label


def lent() -> int:
    """Python objects registered as lent to Rust (held by Rust or by a
    running call)."""
    for _ in range(3):  # PyPy runs chained finalizers one collection at a time
        gc.collect()
    return len(ffi_export._held)


@pytest.fixture(autouse=True)
def nothing_kept_after() -> Any:
    before = lent()
    yield
    assert lent() == before


# -- Parameters: Python implementations inside other values


def test_a_list_of_python_listeners(any_lib) -> None:
    a, b = Listener("a"), Listener("b", any_lib.errors.ListenerError.Busy("busy"))
    no = any_lib.errors.ListenerError.Rejected("rejected")
    no.reason = "no"
    rejected = Listener("c", no)
    assert any_lib.notify_all([a, b, rejected], "k") == ["a", "busy", "rejected: no"]
    assert any_lib.notify_all((x for x in [a]), "g") == ["a"]
    assert a.events == [("k", 0), ("g", 0)] and b.events == [("k", 1)]
    assert ffi_export.held_by_rust() == 0


def test_an_optional_listener(any_lib) -> None:
    a = Listener("a")
    assert any_lib.maybe_notify(None, "k") is None
    assert any_lib.maybe_notify(a, "k") == "a"
    assert a.events == [("k", 0)]


def test_a_dict_of_closures_and_an_optional_closure(any_lib) -> None:
    assert any_lib.apply_steps({"inc": lambda x: x + 1, "sq": lambda x: x * x}, 5) == {"inc": 6, "sq": 25}
    assert any_lib.apply_steps({}, 5) == {}
    assert any_lib.maybe_apply(None, "t") == "t"
    assert any_lib.maybe_apply(str.upper, "t") == "T"


def test_a_list_of_boxed_buttons_python_and_rust(any_lib) -> None:
    mine = Button("p")
    assert any_lib.press_all([mine, any_lib.make_button("q"), mine]) == ["p=1", "q: 1", "p=2"]


def test_record_and_enum_fields(any_lib) -> None:
    a = Listener("a")
    hooks = any_lib.Hooks(name="h", listener=a, buttons=[Button("x"), any_lib.make_button("y")],
                          step=lambda x: x * 10)
    assert any_lib.run_hooks(hooks, 4) == ("a", ["x=1", "y: 1"], 40)
    assert any_lib.run_hooks(any_lib.Hooks(name="e", listener=None, buttons=[]), 4) == (None, [], None)
    assert any_lib.deliver(any_lib.Route.To(a), "one") == ["a"]
    assert any_lib.deliver(any_lib.Route.Each(listeners=[a, Listener("b")]), "each") == ["a", "b"]
    assert any_lib.deliver(any_lib.Route.Drop(), "none") == []
    assert a.events == [("h", 0), ("one", 0), ("each", 0)]


# -- Round trips: a Python implementation comes back as itself


def test_python_objects_come_back_as_themselves(any_lib) -> None:
    a, b = Listener("a"), Listener("b")
    step = lambda x: x + 1  # noqa: E731
    button = Button("z")
    back = any_lib.hooks_echo(any_lib.Hooks(name="h", listener=a, buttons=[button], step=step))
    assert back.listener is a and back.buttons[0] is button
    # A closure comes back as a Rust closure calling it (closures cannot
    # be told apart from other Rust closures): same behaviour, not `is`.
    assert back.step is not step and back.step(1) == 2
    assert any_lib.button_echo(button) is button
    assert any_lib.route_echo(any_lib.Route.To(a))._0 is a
    echoed = any_lib.route_echo(any_lib.Route.Each(listeners=[a, b]))
    assert echoed.listeners[0] is a and echoed.listeners[1] is b
    del back, echoed
    gc.collect()  # PyPy: the Rust closure is released when collected
    assert ffi_export.held_by_rust() == 0


def test_a_panel_keeps_listeners_and_hands_them_back(any_lib) -> None:
    a, b = Listener("a"), Listener("b")
    with any_lib.Panel.new() as panel:
        assert panel.add_all([a, b]) == 2
        assert ffi_export.held_by_rust() == 2
        listeners = panel.listeners()
        assert listeners[0] is a and listeners[1] is b
        assert panel.first() is a
        panel.clear()
        assert panel.first() is None and panel.listeners() == []
        assert ffi_export.held_by_rust() == 0


def test_rust_implementations_pass_back_by_handle(any_lib) -> None:
    rust = any_lib.make_button("r")
    back = any_lib.button_echo(rust)
    assert type(back) is type(rust) and back.press(2) == "r: 2" and rust.press(1) == "r: 3"


# -- Results: Rust implementations and Rust closures inside other values


def test_rust_buttons_and_closures_in_a_returned_record(any_lib) -> None:
    hooks = any_lib.hooks_from_rust(7)
    assert hooks.name == "rust" and hooks.listener is None
    assert [b.press(2) for b in hooks.buttons] == ["b7: 2"]
    assert hooks.step(1) == 8
    # Passed back in: Rust gets its own button and closure again.
    assert any_lib.run_hooks(hooks, 1) == (None, ["b7: 3"], 8)


def test_rust_closures_are_callable(any_lib) -> None:
    add3 = any_lib.adder(3)
    assert add3(4) == 7 and add3(-3) == 0
    assert "Rust closure" in repr(add3)
    assert {k: f(10) for k, f in any_lib.named_steps().items()} == {"double": 20, "negate": -10}
    assert any_lib.greeter("hi")("Ada") == "hi, Ada"
    assert any_lib.compose(add3, add3)(0) == 6
    assert any_lib.compose(lambda x: x * 2, add3)(5) == 13
    assert any_lib.apply_steps({"a": add3}, 1) == {"a": 4}
    assert any_lib.step_echo(add3)(1) == 4
    with pytest.raises(TypeError, match="takes 1 argument"):
        add3(1, 2)
    with pytest.raises(TypeError, match="argument 0"):
        add3("x")
    with pytest.raises(OverflowError):
        add3(2**64)


def test_a_rust_closure_called_again_while_its_result_is_read(any_lib) -> None:
    """A profile hook (as a signal handler, finalizer or trace function
    would) calls the same Rust closure on the same thread after each Python
    function call, so also between the outer call returning and its result
    being read: the outer result is read intact (the helper's calls are held
    until it released them), and nothing stays kept."""
    greet = any_lib.greeter("hello")
    nested: List[str] = []
    busy = False

    def hook(frame: Any, event: str, arg: Any) -> None:
        nonlocal busy
        if event == "call" and not busy:
            busy = True
            try:
                nested.append(greet("B" * 40))
            finally:
                busy = False

    results = []
    sys.setprofile(hook)
    try:
        for _ in range(20):
            results.append(greet("A" * 40))
    finally:
        sys.setprofile(None)
    assert results == ["hello, " + "A" * 40] * 20
    assert len(nested) >= 20 and set(nested) == {"hello, " + "B" * 40}


def _raise_at(function: str, marker: str, exc: BaseException, after: str = "") -> Any:
    """A trace function raising ``exc`` once, at the first line of the
    helper's ``function`` whose source holds ``marker`` (and, with
    ``after``, that runs after a line holding ``after``), as a signal
    arriving there would."""
    import linecache

    fired, seen = False, not after

    def local(frame: Any, event: str, arg: Any) -> Any:
        nonlocal fired, seen
        if event != "line" or fired:
            return local
        line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
        if seen and any(m in line for m in marker.split("|")):
            fired = True
            raise exc
        seen = seen or (after in line)
        return local

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        code = frame.f_code
        return local if code.co_name == function and code.co_filename == ffi_export.__file__ else None

    return tracer


def test_an_exception_after_a_python_method_returned_is_a_failure_not_garbage(any_lib) -> None:
    """A KeyboardInterrupt (or any exception) raised in the helper's
    dispatcher after the Python method returned, before its result is kept,
    used to leave the ctypes callback: ctypes then returned an undefined
    status and the result's memory was freed while Rust read it. Now the
    call ends in status 2: Rust reports the method as failed."""
    unraisable: List[Any] = []

    class Listener:
        def on_event(self, event: Any) -> None:
            return None

        def name(self) -> str:
            return "n" * (1 << 20)

        def limit(self, hint: Any) -> Any:
            return hint

    previous = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    sys.settrace(_raise_at("_foreign_call", "held.kept[thread] = keep", KeyboardInterrupt("arrived late")))
    try:
        with pytest.raises(ffi_export.RustPanic):
            any_lib.maybe_notify(Listener(), "click")
    finally:
        sys.settrace(None)
        sys.unraisablehook = previous
    assert unraisable == []
    assert any_lib.maybe_notify(Listener(), "click") == "n" * (1 << 20)


def test_an_exception_right_after_a_held_call_still_releases_it(any_lib) -> None:
    """An exception arriving on the calling thread right after a held call
    of a Rust closure returned (a signal) propagates, and the call is still
    released: a stray release finds nothing held."""
    greet = any_lib.greeter("hi")
    assert greet("a") == "hi, a"
    # The first line run after the held call returned (`try:` before this
    # fix, where the call came before its `try`).
    sys.settrace(_raise_at("call", "try:|if status == _FOREIGN_OK:", KeyboardInterrupt("arrived right after"),
                           after="_CALL_HELD,"))
    try:
        with pytest.raises(KeyboardInterrupt):
            greet("b")
    finally:
        sys.settrace(None)
    helper: Any = ffi_export
    raw = greet._raw
    stray = helper._FOREIGN_CALL(raw.call)(raw.context, helper._CALL_RELEASE, None, None, None, None)
    assert stray == 2
    assert greet("c") == "hi, c"


def test_a_held_call_of_a_released_object_keeps_its_message() -> None:
    """A call (held or not) on an object no longer lent to Rust fails with
    a message whose bytes stay kept for the thread after the call."""
    helper: Any = ffi_export
    for method in (helper._CALL_HELD, 0):
        message = helper._FfiBuffer()
        status = helper._foreign_call(987654321, method, None, None, None, ctypes.addressof(message))
        assert status == 2
        kept = helper._orphans[threading.get_ident()]
        assert any(ctypes.cast(item, ctypes.c_void_p).value == message.ptr for item in kept)
        assert ctypes.string_at(message.ptr, message.len).decode().startswith(
            "LookupError: object 987654321 is not lent to Rust")


def test_a_python_object_keeps_held_results_until_released() -> None:
    """The C contract of a Python implementation, called as C would: a held
    call's result stays while plain and other held calls of the thread run,
    until its release; releases pair up, latest first."""
    helper: Any = ffi_export
    keep: List[Any] = []

    def invoke(target: Any, args: int, ok: int, err: int, keep: List[Any]) -> int:
        text = target().encode()
        slot = helper._FfiBuffer.from_address(ok)
        slot.ptr, slot.len, slot.cap = helper._bytes_address(text, keep), len(text), 0
        return 0

    names = iter(f"result {i:03}" for i in range(1000))
    raw = helper._lend(lambda: next(names), [invoke], "test", keep)
    call = helper._FOREIGN_CALL(raw.call)

    def run(method: int) -> Any:
        ok = helper._FfiBuffer()
        message = helper._FfiBuffer()
        status = call(raw.context, method, None, ctypes.addressof(ok), None, ctypes.addressof(message))
        return status, ok, message

    def read(buffer: Any) -> str:
        return ctypes.string_at(buffer.ptr, buffer.len).decode()

    held = helper._CALL_HELD
    status, first, _ = run(held)
    assert status == 0
    for _ in range(3):
        run(0)  # plain calls replace each other, not the held result
    status, second, _ = run(held)
    gc.collect()
    assert read(first) == "result 000" and read(second) == "result 004"
    assert run(helper._CALL_RELEASE)[0] == 0  # the second
    assert read(first) == "result 000"
    assert run(helper._CALL_RELEASE)[0] == 0  # the first
    status, _, message = run(helper._CALL_RELEASE)
    assert status == 2 and "no held call" in read(message)
    assert helper._held[raw.context].holding == {threading.get_ident(): []}
    keep.clear()


def test_a_rust_closure_of_another_library_instance_goes_through_python(lib) -> None:
    """A Rust closure is handed back as itself only to the library instance
    it came from: another one (whose named types may share names but not
    layouts) gets a Python object calling it, held by Rust meanwhile."""
    other = load_without_fast_path()
    add3 = lib.adder(3)
    before = ffi_export.held_by_rust()
    own = lib.step_echo(add3)
    assert ffi_export.held_by_rust() == before  # Rust's own closure again
    foreign = other.step_echo(add3)
    assert ffi_export.held_by_rust() == before + 1  # `add3`, lent to the other instance
    assert own(1) == foreign(1) == 4
    del foreign
    lent()
    assert ffi_export.held_by_rust() == before


def test_rust_closure_errors_and_panics(any_lib) -> None:
    check = any_lib.checker(5)
    assert check(3) == 3
    with pytest.raises(any_lib.errors.ListenerError.Rejected) as raised:
        check(9)
    assert raised.value.reason == "9 > 5"
    divide = any_lib.divider(10)
    assert divide(2) == 5
    with pytest.raises(ffi_export.RustPanic, match="division of 10 by zero"):
        divide(0)
    assert divide(5) == 2  # still usable


def test_a_python_factory_makes_and_adopts_buttons(any_lib) -> None:
    class Factory:
        def __init__(self) -> None:
            self.adopted: List[Any] = []

        def make(self, label: str) -> Any:
            return Button(label)

        def all(self) -> Optional[List[Any]]:
            return [Button("x"), any_lib.make_button("rb")]

        def adopt(self, buttons: List[Any]) -> int:
            self.adopted = buttons
            return len(buttons)

    factory = Factory()
    assert any_lib.use_factory(factory) == ["made=1", "x", "rb", "adopted 2"]
    assert [b.press(1) for b in factory.adopted] == ["r1: 1", "r2: 1"]


# -- Bad input: named with the path, nothing kept on refusal


def test_a_list_element_missing_a_method_names_method_and_path(any_lib) -> None:
    a = Listener("a")

    class NoName:
        def on_event(self, event: Any) -> None:
            pass

        def limit(self, hint: Optional[int]) -> Optional[int]:
            return hint

    with pytest.raises(TypeError, match=r"argument 'listeners'\[2\] \(dyn Listener\): .*NoName has no method 'name'"):
        any_lib.notify_all([a, a, NoName()], "k")
    assert a.events == []
    with pytest.raises(TypeError, match=r"argument 'hooks'.*listener.*has no method 'on_event'"):
        any_lib.run_hooks(any_lib.Hooks(name="h", listener=object(), buttons=[]), 1)
    with pytest.raises(TypeError, match=r"argument 'listeners'\[1\]"):
        any_lib.Panel.new().add_all([a, 5])
    assert ffi_export.held_by_rust() == 0


def test_a_non_callable_dict_value(any_lib) -> None:
    with pytest.raises(TypeError, match=r"argument 'steps'\['b'\] \(Box<dyn Fn\(i64\) -> i64 \+ Send \+ Sync>\) "
                                        r"must be callable, not int"):
        any_lib.apply_steps({"a": abs, "b": 1}, 1)
    with pytest.raises(TypeError, match=r"argument 'f'.*must be callable"):
        any_lib.maybe_apply("text", "t")


def test_a_closed_rust_implementation_in_a_list(any_lib) -> None:
    button = any_lib.make_button("c")
    button.close()
    with pytest.raises(ValueError, match="closed"):
        any_lib.press_all([Button("p"), button])


def test_a_rust_closure_of_another_signature_is_called_through_python(any_lib) -> None:
    # `greeter` is Fn(String) -> String; given where Fn(i64) -> i64 is
    # expected, it is lent as a Python callable and fails as one would.
    greet = any_lib.greeter("hi")
    with pytest.raises(ffi_export.RustPanic, match="closure"):
        any_lib.apply_steps({"g": greet}, 1)


# -- Threads: Rust threads calling Python listeners from a list while
# Python threads call in


def test_rust_threads_call_listeners_from_a_list_while_python_calls_in(any_lib) -> None:
    listeners = [Listener(f"l{i}") for i in range(4)]
    errors: List[BaseException] = []
    with any_lib.Panel.new() as panel:
        panel.add_all(listeners)

        def python_side() -> None:
            try:
                for i in range(30):
                    assert any_lib.notify_all(listeners, f"p{i}") == ["l0", "l1", "l2", "l3"]
                    assert any_lib.adder(i)(1) == i + 1
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=python_side) for _ in range(3)]
        for t in threads:
            t.start()
        assert panel.publish_from_threads(4, 25) == 4 * 25 * 4
        for t in threads:
            t.join()
        assert errors == []
        assert all(len(listener.events) == 4 * 25 + 3 * 30 for listener in listeners)
    assert ffi_export.held_by_rust() == 0


def test_rust_implementations_returned_inside_values_are_freed_once(any_lib) -> None:
    gc.collect()
    entries, closures = any_lib.registry_entries(), any_lib.live_closures()
    for i in range(20):
        hooks = any_lib.hooks_from_rust(i)
        buttons = hooks.buttons + any_lib.shared_buttons(3)
        assert any_lib.press_all([*buttons, Button("p")])[-1] == "p=1"
        steps = [any_lib.counted_adder(i), any_lib.counted_adder(i + 1)]
        assert any_lib.apply_steps({"a": steps[0], "b": steps[1]}, 0) == {"a": i, "b": i + 1}
        assert any_lib.live_closures() == closures + 2
        del hooks, buttons, steps
        gc.collect()
        assert (any_lib.registry_entries(), any_lib.live_closures()) == (entries, closures)
