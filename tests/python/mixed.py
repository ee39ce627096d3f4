"""Mixed calls of every kind of export, each with its result checked: used by
the thread stress test (test_threads.py) and the soak (soak.py).

``call(lib, state, i)`` runs operation ``i % len(OPERATIONS)``: primitives,
strings, slices, records, objects (own and one shared), callbacks (returning
and raising), the caller's allocator, batches, errors, panics and refused
arguments. Every outcome is asserted exactly, including the text of errors
that embed a per-thread tag, so a thread receiving another thread's error
(or result) fails.
"""

from __future__ import annotations

import array

import numpy

import ffi_export


class State:
    """Per-thread state: a tag for messages and what the shared object saw."""

    def __init__(self, lib, tag: str, shared=None) -> None:
        self.lib = lib
        self.tag = tag
        self.shared = shared
        self.shared_adds = 0
        self.last_shared = 0
        self.counts: dict[str, int] = {}


class Raised(Exception):
    """What the raising callback throws; must come back as itself."""


def _primitives(s: State, i: int) -> int:
    lib = s.lib
    assert lib.echo_i64(-i) == -i
    assert lib.echo_u8(i % 256) == i % 256
    assert lib.echo_f64(i / 4) == i / 4
    assert lib.echo_bool(i % 2 == 0) is (i % 2 == 0)
    return 4


def _strings(s: State, i: int) -> int:
    text = f"{s.tag}-{i}-é😀"
    assert s.lib.reverse(text) == text[::-1]
    assert s.lib.char_count(text) == len(text)
    assert s.lib.join([s.tag, str(i)], "/") == f"{s.tag}/{i}"
    return 3


def _slices(s: State, i: int) -> int:
    n = i % 17
    values = numpy.arange(n, dtype=numpy.float64)
    assert s.lib.sum_f64(values) == values.sum()
    out = array.array("i", bytes(4 * n))
    assert s.lib.fill_i32(out, i) == n
    assert list(out) == [i] * n
    assert list(s.lib.vec_u16(n)) == list(range(n))
    return 3


def _records(s: State, i: int) -> int:
    lib = s.lib
    person = lib.make_person(s.tag, i % 90)
    assert person.name == s.tag and person.age == i % 90
    older = lib.birthday(person)
    assert older.age == person.age + 1 and older.tags[-1] == "birthday"
    assert lib.describe_person(person).startswith(f"{s.tag} ({i % 90},")
    assert lib.count_nodes(lib.tree(i % 4)) == 2 ** (i % 4 + 1) - 1
    return 5


def _own_object(s: State, i: int) -> int:
    with s.lib.Counter(i, s.tag) as counter:
        assert counter.add(2) == i + 2
        assert counter.label() == s.tag
        with pytest_raises(ffi_export.FfiError, "counter overflow"):
            counter.add(2**64 - 1)
        assert counter.get() == i + 2
    return 6


def _shared_object(s: State, i: int) -> int:
    if s.shared is None:
        return _own_object(s, i)
    now = s.shared.add(1)
    s.shared_adds += 1
    # Other threads add too, but the count never goes back.
    assert now > s.last_shared
    s.last_shared = now
    if i % 7 == 0:
        with pytest_raises(ffi_export.RustPanic, "exploded"):
            s.shared.explode()  # a &self panic: does not poison
        return 2
    return 1


def _callbacks(s: State, i: int) -> int:
    values = numpy.arange(i % 20, dtype=numpy.int64)
    assert s.lib.count_where(values, lambda v: v % 3 == 0) == len(range(0, i % 20, 3))
    marker = Raised(s.tag, i)
    def raiser(v: float) -> float:
        raise marker
    try:
        s.lib.apply(numpy.ones(3), raiser)
    except Raised as error:
        assert error is marker
    else:
        raise AssertionError("the callback's exception was lost")
    return 2


def _allocator(s: State, i: int) -> int:
    n = i % 9
    header, roots = s.lib.sqrts(n)
    assert header == f"Square roots up to {n}:" and len(roots) == n
    count, (evens, odds) = s.lib.partition(array.array("i", range(n)))
    assert count == n and list(evens) == list(range(0, n, 2)) and list(odds) == list(range(1, n, 2))
    return 2


def _batch(s: State, i: int) -> int:
    a = numpy.arange(i % 50, dtype=numpy.int32)
    assert (s.lib.checked_add.map(a, i) == a + i).all()
    with pytest_raises(ffi_export.FfiError, "element 1: 2147483647 + 1 overflows"):
        s.lib.checked_add.map(numpy.array([0, 2**31 - 1], dtype=numpy.int32), 1)
    return 2


def _errors(s: State, i: int) -> int:
    with pytest_raises(s.lib.errors.ParseIntError, "invalid digit"):
        s.lib.parse_int(f"{s.tag}{i}")
    assert s.lib.parse_int(str(i)) == i
    with pytest_raises(s.lib.errors.Error, f'"{s.tag}"'):
        s.lib.split_numbers(f"1,{s.tag}")
    return 3


def _panics(s: State, i: int) -> int:
    message = f"panic {s.tag} {i}"
    with pytest_raises(ffi_export.RustPanic, message):
        s.lib.panic_now(message)
    with pytest_raises(ffi_export.RustPanic, "holding 8 values"):
        s.lib.panic_after_alloc(8)
    return 2


def _bad_input(s: State, i: int) -> int:
    with pytest_raises(OverflowError, "must be in"):
        s.lib.echo_i8(200 + i % 50)
    with pytest_raises(TypeError, "needs a buffer of f64"):
        s.lib.sum_f64(numpy.zeros(2, dtype=numpy.float32))
    with pytest_raises(ValueError, ""):
        s.lib.next_kind(3)
    return 3


def _options(s: State, i: int) -> int:
    assert s.lib.opt_i32(i, i % 2 == 0) == (i if i % 2 == 0 else None)
    assert s.lib.non_empty(s.tag * (i % 2)) == (s.tag if i % 2 else None)
    assert (s.lib.maybe_person(i % 3 == 0) is None) is (i % 3 != 0)
    return 3


class pytest_raises:
    """A minimal ``pytest.raises`` (this module also runs outside pytest)."""

    def __init__(self, kind: type, text: str) -> None:
        self.kind, self.text = kind, text

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, value, tb) -> bool:
        if kind is None:
            raise AssertionError(f"did not raise {self.kind.__name__}")
        if not issubclass(kind, self.kind) or self.text not in str(value):
            raise AssertionError(f"expected {self.kind.__name__}({self.text!r}), got {kind.__name__}({value})")
        return True


OPERATIONS = [
    _primitives, _strings, _slices, _records, _own_object, _shared_object, _callbacks,
    _allocator, _batch, _errors, _panics, _bad_input, _options, _primitives, _strings,
    _shared_object,
]


def call(state: State, i: int) -> int:
    """One mixed operation, chosen by ``i``; returns how many exports it
    called."""
    op = OPERATIONS[i % len(OPERATIONS)]
    calls = op(state, i)
    state.counts[op.__name__] = state.counts.get(op.__name__, 0) + 1
    return calls
