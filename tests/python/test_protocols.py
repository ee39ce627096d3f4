"""Rust traits as Python protocols (``#[export(Display, Debug, Eq, Hash,
Ord, Clone, Default, Add, .., Index<I>)]`` on records, enums and objects,
``#[export(len)]`` / ``#[export(bool)]`` on methods), on both call paths:
each dunder calls the Rust impl, a foreign operand gives ``NotImplemented``
(so Python raises its usual ``TypeError``), a panic is ``RustPanic``, a
closed object ``ValueError``, and every object made is freed once."""

from __future__ import annotations

import copy
import gc
import sys
import traceback

import pytest

import ffi_export
from paths import any_lib  # noqa: F401 - fixture


@pytest.fixture
def m(any_lib):  # noqa: F811 - the fixture
    yield any_lib.protocols
    gc.collect()
    assert any_lib.protocols.live_bags() == 0


def versions(m):
    V = m.Version
    return [V(1, 2, 3, ""), V(1, 2, 3, "rc1"), V(1, 0, 0, ""), V(0, 9, 9, "b"), V(1, 2, 3, "alpha")]


def test_sorted_records_follow_rusts_ord_not_their_fields(m) -> None:
    vs = versions(m)
    # Field order would put the release (empty label) first; Rust's `Ord`
    # puts pre-releases first.
    assert sorted(vs) == m.sort_versions(vs)
    assert [str(v) for v in sorted(vs)] == ["0.9.9-b", "1.0.0", "1.2.3-alpha", "1.2.3-rc1", "1.2.3"]
    assert m.Version(1, 2, 3, "rc1") < m.Version(1, 2, 3, "")
    assert m.Version(1, 2, 3, "") >= m.Version(1, 2, 3, "") and not m.Version(2, 0, 0, "") <= m.Version(1, 0, 0, "")
    assert max(vs) == m.Version(1, 2, 3, "")


def test_record_hash_is_rusts_and_consistent_with_eq(m) -> None:
    a, b = m.Version(1, 2, 3, "x"), m.Version(1, 2, 3, "x")
    assert a == b and not a != b and a is not b
    assert hash(a) == hash(b)
    # Rust's u64 hash is Python's hash, reduced as the interpreter reduces
    # an int a `__hash__` returns: CPython keeps one within `Py_ssize_t`
    # and hashes a larger one, PyPy hashes every one.
    rust = m.version_hash(a)
    kept = rust < 2**63 and sys.implementation.name == "cpython"
    assert hash(a) == (rust if kept else hash(rust))
    assert len({a, b, m.Version(1, 2, 4, "x")}) == 2
    assert {a: 1}[b] == 1


def test_record_display_debug_default(m) -> None:
    v = m.Version(1, 2, 3, "rc1")
    assert str(v) == "1.2.3-rc1" and f"{v}" == "1.2.3-rc1"
    assert repr(v) == 'Version { major: 1, minor: 2, patch: 3, label: "rc1" }'
    assert m.Version() == m.Version(0, 0, 0, "") == m.Version.default()
    assert m.Version(major=4, minor=0, patch=0, label="").major == 4


def test_records_without_opt_in_keep_field_equality(m) -> None:
    assert m.Plain(1) == m.Plain(1) and m.Plain(1) != m.Plain(2)
    assert repr(m.Plain(1)) == "Plain(a=1)"
    with pytest.raises(TypeError, match="unhashable type: 'Plain'"):
        hash(m.Plain(1))
    with pytest.raises(TypeError, match="'<' not supported"):
        m.Plain(1) < m.Plain(2)  # noqa: B015 - the comparison raises


def test_record_operators(m) -> None:
    a, b = m.Vec2(1.0, 2.0), m.Vec2(3.0, 4.0)
    assert a + b == m.Vec2(4.0, 6.0)
    assert b - a == m.Vec2(2.0, 2.0)
    assert a * b == 11.0  # `Mul::Output` is f64: outputs of another type cross
    assert b / a == m.Vec2(3.0, 2.0)
    assert -a == m.Vec2(-1.0, -2.0)
    assert a < b and not b < a


def test_partial_order_with_nan_is_unordered(m) -> None:
    nan = m.Vec2(float("nan"), 0.0)
    one = m.Vec2(1.0, 0.0)
    assert not (nan < one or nan > one or nan <= one or nan >= one)
    assert nan != nan  # PartialEq: NaN is not equal to itself


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "<", "<=", ">", ">="])
def test_foreign_operands_are_pythons_type_error(m, op) -> None:
    a = m.Vec2(1.0, 2.0)
    with pytest.raises(TypeError, match="not supported|unsupported operand"):
        eval(f"a {op} 3", {"a": a})  # noqa: S307 - the operator under test
    with pytest.raises(TypeError, match="not supported|unsupported operand"):
        eval(f"a {op} other", {"a": a, "other": m.Version()})  # noqa: S307
    # `==` with a foreign value is False (NotImplemented both ways), never an error.
    assert (a == 3) is False and (a != "x") is True and a != m.Version()


def test_data_enums(m) -> None:
    T = m.Token
    tokens = [T.End(), T.Word("b"), T.Number(3), T.Word("a"), T.Number(-1)]
    assert sorted(tokens) == m.sort_tokens(tokens)
    assert [str(t) for t in sorted(tokens)] == ["#-1", "#3", "'a'", "'b'", "<end>"]
    assert repr(T.Word("a")) == 'Word { text: "a" }'
    assert T.Word("a") == T.Word("a") and T.Word("a") != T.Number(1)
    assert len({T.Word("a"), T.Word("a"), T.End()}) == 2
    assert hash(T.End()) == hash(T.End())


def test_fieldless_enum_display_and_default(m) -> None:
    assert str(m.Suit.Clubs) == "♣" and f"{m.Suit.Hearts}" == "♥"
    assert m.Suit.default() is m.Suit.Hearts
    assert m.Suit.Clubs == 0  # still an IntEnum


def test_object_protocols(m) -> None:
    bag = m.Bag(["a", "b"])
    assert str(bag) == "{a b}" and repr(bag) == 'Bag { words: ["a", "b"] }'
    assert bag == m.Bag(["a", "b"]) and bag != m.Bag(["b"]) and bag is not m.Bag(["a", "b"])
    assert hash(bag) == hash(m.Bag(["a", "b"]))
    assert len({bag, m.Bag(["a", "b"]), m.Bag([])}) == 2
    assert sorted([m.Bag(["b"]), m.Bag(["a", "z"]), m.Bag([])]) == [m.Bag([]), m.Bag(["a", "z"]), m.Bag(["b"])]
    assert m.Bag(["a"]) < m.Bag(["b"]) <= m.Bag(["b"])
    assert (m.Bag(["a"]) + m.Bag(["b", "c"])).words() == ["a", "b", "c"]
    assert (bag == 3) is False
    with pytest.raises(TypeError):
        bag + 3  # noqa: B018 - the operator raises


def test_len_bool_and_index(m) -> None:
    bag = m.Bag(["x", "y", "z"])
    assert len(bag) == 3 and bool(bag) and not m.Bag([])
    assert bag[0] == "x" and bag[2] == "z" and bag[-1] == "z" and bag[-3] == "x"
    assert list(bag) == ["x", "y", "z"]  # iteration by index, ended by IndexError
    assert "y" in bag
    with pytest.raises(IndexError, match="index 3 out of range"):
        bag[3]  # noqa: B018
    with pytest.raises(IndexError):
        bag[-4]  # noqa: B018
    with pytest.raises(TypeError, match="argument 'index'"):
        bag["0"]  # noqa: B018


def test_clone_makes_an_independent_rust_object(m) -> None:
    bag = m.Bag(["a"])
    before = m.live_bags()
    clones = (copy.copy(bag), copy.deepcopy(bag), copy.deepcopy([bag])[0])
    for clone in clones:
        assert clone == bag and clone is not bag and type(clone) is m.Bag
        clone.push("b")
        assert bag.words() == ["a"] and clone.words() == ["a", "b"]
    assert m.live_bags() == before + 3


def test_default_object(m) -> None:
    made = m.Bag.default()
    assert made.words() == [] and len(made) == 0
    # `Bag` has a `new(words)`: it stays the constructor.
    with pytest.raises(TypeError):
        m.Bag()


def test_mutable_object_hashes_by_its_current_value(m) -> None:
    bag = m.Bag(["a"])
    first = hash(bag)
    bag.push("b")
    assert hash(bag) != first and hash(bag) == hash(m.Bag(["a", "b"]))


def test_eq_without_hash_is_unhashable(m) -> None:
    assert m.Cell(1) == m.Cell(1) and m.Cell(1) != m.Cell(2)
    with pytest.raises(TypeError, match="unhashable type: 'Cell'"):
        hash(m.Cell(1))
    with pytest.raises(TypeError, match="unhashable"):
        {m.Cell(1)}  # noqa: B018


@pytest.mark.parametrize("use", [str, hash, lambda g: g == g, lambda g: g != g, lambda g: {g}, f"{{}}".format])
def test_panics_are_rust_panic(m, use) -> None:
    grenade = m.Grenade(True)
    with pytest.raises(ffi_export.RustPanic, match="boom"):
        use(grenade)
    # `repr()` is what tracebacks, debuggers and logging call: it never
    # raises, it says what panicked.
    assert repr(grenade) == f"<Grenade (handle {grenade._handle}): Debug panicked: boom>"
    # The object is not poisoned by a panic in a `&self` protocol.
    assert m.Grenade(False) == m.Grenade(False) and str(m.Grenade(False)) == "grenade"


def test_traceback_that_reprs_a_panicking_object(m) -> None:
    def fails(grenade):
        raise RuntimeError("inside")

    grenade = m.Grenade(True)
    try:
        fails(grenade)
    except RuntimeError as error:
        text = "".join(traceback.TracebackException.from_exception(error, capture_locals=True).format())
    assert "RuntimeError: inside" in text
    assert "grenade = <Grenade (handle " in text and "Debug panicked: boom>" in text


def test_closed_objects_are_value_errors(m) -> None:
    bag = m.Bag(["a"])
    bag.close()
    for use in (str, hash, len, bool, lambda b: b == m.Bag([]), lambda b: b < m.Bag([]), lambda b: b[0],
                copy.copy, lambda b: m.Bag([]) + b):
        with pytest.raises(ValueError, match="closed"):
            use(bag)
    assert repr(bag) == "<Bag (closed)>"  # repr of a closed object never fails


def test_protocol_shims_are_described_and_not_functions(any_lib) -> None:  # noqa: F811 - the fixture
    exports = any_lib.exports
    shim = exports["Version_eq"]
    assert shim["kind"] == "protocol" and shim["rust_name"] == "eq"
    assert shim["owner"]["key"].endswith("protocols::Version")
    # An object's shims are `&self` methods: the fast path takes them.
    assert exports["Bag_hash"]["kind"] == exports["Bag_eq"]["kind"] == "protocol_method"
    assert exports["Bag_eq"]["owner"]["key"].endswith("protocols::Bag")
    assert exports["Version_display"]["free"] == "Version_display_free"
    assert {name for name in exports if name.startswith("Bag_")} >= {
        "Bag_eq", "Bag_hash", "Bag_cmp", "Bag_display", "Bag_debug", "Bag_clone", "Bag_default", "Bag_add",
        "Bag_index", "Bag_pylen", "Bag_pybool"}
    assert not hasattr(any_lib.protocols, "Bag_eq")
    with pytest.raises(AttributeError):
        any_lib.protocols.Version.eq  # noqa: B018 - shims are dunders only


def test_a_subclass_instance_compares_and_a_closed_operand_is_named(m) -> None:
    """Both call paths agree: an instance of a Python subclass is one of
    the type (compared by Rust), and a closed right operand is named."""

    class MyBag(m.Bag):
        pass

    mine = MyBag(["a"])
    assert mine == m.Bag(["a"]) and m.Bag(["a"]) == mine and mine != m.Bag(["b"])
    assert m.Bag([]) < mine and not mine < m.Bag(["a"])
    closed = m.Bag(["a"])
    closed.close()
    for use in (lambda: m.Bag(["a"]) == closed, lambda: m.Bag(["a"]) < closed):
        with pytest.raises(ValueError) as raised:
            use()
        assert str(raised.value) == "argument 'other': this Bag is closed"
