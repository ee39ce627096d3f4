"""Owned parameters (`String`, `Vec<T>`, `Option<Vec<T>>`), slices of
values copied in (`&[Record]`, `&[Enum]`, `&[String]`), maps, sets, tuples,
128-bit integers and `Vec<u8>` as bytes: values round-trip on both call
paths, and bad input names the path inside the argument."""

from __future__ import annotations

import array
import collections
import gc

import numpy
import pytest

import ffi_export

from paths import any_lib  # noqa: F401 (fixture)


def person(lib, name: str = "Ann", age: int = 30):
    return lib.Person(name, age, None, [], [], lib.Address("Paris", None), lib.Kind.User, True)


# ---------------------------------------------------------------------------
# Vec<T> and String parameters


def test_vec_params_take_any_sequence_or_iterable(any_lib) -> None:
    assert any_lib.sum_owned([1, 2, 3]) == 6
    assert any_lib.sum_owned((1, 2, 3)) == 6
    assert any_lib.sum_owned(range(5)) == 10
    assert any_lib.sum_owned(x * 2 for x in range(3)) == 6
    assert any_lib.sum_owned(collections.deque([4, 5])) == 9
    assert any_lib.sum_owned([]) == 0
    # Buffers of the element type are read without a Python-side copy.
    assert any_lib.sum_owned(array.array("q", [1, 2])) == 3
    assert any_lib.sum_owned(numpy.arange(4, dtype=numpy.int64)) == 6


def test_vec_params_of_every_element_kind(any_lib) -> None:
    assert any_lib.hyphenate(["a", "b", "c"]) == "a-b-c"
    assert any_lib.hyphenate([]) == ""
    assert any_lib.maybe_total(None) == -1.0
    assert any_lib.maybe_total([1.5, 2]) == 3.5
    assert list(any_lib.lengths([b"ab", [1, 2, 3], bytearray(5), []])) == [2, 3, 5, 0]
    assert any_lib.count_present([1, None, 3, None]) == 2
    ann, bo = person(any_lib, "Ann", 30), person(any_lib, "Bo", 41)
    assert any_lib.oldest([ann, bo]) == bo
    assert any_lib.oldest([]) is None
    assert any_lib.by_length(["ab", "cd", "efg"]) == {2: ["ab", "cd"], 3: ["efg"]}


def test_string_param_is_owned(any_lib) -> None:
    assert any_lib.shout_owned("héllo") == "HÉLLO"
    assert any_lib.shout_owned("") == ""
    assert any_lib.shout_owned("a\0b") == "A\0B"


def test_vec_param_errors_name_the_element(any_lib) -> None:
    with pytest.raises(TypeError, match=r"argument 'values'\[1\] \(i64\) must be an int, not str"):
        any_lib.sum_owned([1, "x"])
    with pytest.raises(OverflowError, match=r"argument 'values'\[2\] \(i64\) must be in"):
        any_lib.sum_owned([1, 2, 2**63])
    with pytest.raises(TypeError, match=r"argument 'values' \(Vec<i64>\) must be a sequence, not int"):
        any_lib.sum_owned(5)
    with pytest.raises(TypeError, match=r"argument 'values' .*buffer of i64"):
        any_lib.sum_owned(numpy.arange(3, dtype=numpy.int32))
    with pytest.raises(TypeError, match=r"argument 'words'\[1\] \(String\) must be a str, not int"):
        any_lib.hyphenate(["a", 2])
    with pytest.raises(TypeError, match=r"argument 'words' \(Vec<String>\) must be a sequence, not str"):
        any_lib.hyphenate("abc")
    with pytest.raises(UnicodeEncodeError):
        any_lib.hyphenate(["ok", "\ud800"])
    with pytest.raises(TypeError, match=r"argument 'rows'\[1\]\[0\] \(u8\) must be an int, not str"):
        any_lib.lengths([[1], ["x"]])
    with pytest.raises(OverflowError, match=r"argument 'rows'\[0\]\[1\] \(u8\) must be in 0\.\.=255, got 256"):
        any_lib.lengths([[1, 256]])
    with pytest.raises(TypeError, match=r"argument 'people'\[1\] must be a Person, not dict"):
        any_lib.oldest([person(any_lib), {"name": "x"}])
    with pytest.raises(TypeError, match=r"argument 'people'\[0\]\.name \(String\) must be a str, not int"):
        any_lib.oldest([person(any_lib, name=3)])
    with pytest.raises(TypeError, match=r"argument 'values'\[1\] \(i32\) must be an int, not str"):
        any_lib.count_present([None, "x"])
    with pytest.raises(TypeError, match=r"argument 'text' \(String\) must be a str, not bytes"):
        any_lib.shout_owned(b"abc")


def test_a_failing_iterable_is_not_swallowed(any_lib) -> None:
    def items():
        yield 1
        raise KeyError("from the generator")

    with pytest.raises(KeyError, match="from the generator"):
        any_lib.sum_owned(items())


def test_huge_lengths_are_lazy_iterables_not_allocations(any_lib) -> None:
    # A range of 10**18 is an iterable; converting it is refused by Python's
    # memory limits before anything crosses, never a crash.
    with pytest.raises((MemoryError, OverflowError)):
        any_lib.sum_owned(range(10**18))


# ---------------------------------------------------------------------------
# Slices of values copied in


def test_slices_of_records_enums_and_strings(any_lib) -> None:
    ann, bo = person(any_lib, "Ann"), person(any_lib, "Bo")
    assert any_lib.names([ann, bo]) == ["Ann", "Bo"]
    assert any_lib.names([]) == []
    assert any_lib.names(p for p in [bo]) == ["Bo"]
    Kind = any_lib.Kind
    assert any_lib.count_admins([Kind.Admin, Kind.User, Kind.Admin]) == 2
    assert any_lib.count_admins([1, 2, 7]) == 1
    Shape = any_lib.Shape
    area = any_lib.total_area([Shape.Rect(width=2, height=3), Shape.Empty(), Shape.Rect(width=1, height=1)])
    assert area == 7.0
    assert any_lib.join_strings(["x", "y", "z"], ", ") == "x, y, z"


def test_slices_of_values_name_bad_elements(any_lib) -> None:
    with pytest.raises(ValueError, match=r"argument 'kinds'\[1\] \(Kind\): 5 is not a Kind"):
        any_lib.count_admins([1, 5])
    with pytest.raises(TypeError, match=r"argument 'shapes'\[0\] must be one of Shape\.Circle"):
        any_lib.total_area([any_lib.Point(1, 2)])
    with pytest.raises(TypeError, match=r"argument 'parts'\[0\] \(String\) must be a str, not bytes"):
        any_lib.join_strings([b"x"], "-")
    with pytest.raises(TypeError, match=r"argument 'people' \(&\[Person\]\) must be a sequence, not Person"):
        any_lib.names(person(any_lib))


# ---------------------------------------------------------------------------
# Maps and sets


def test_maps_round_trip(any_lib) -> None:
    assert any_lib.word_counts("a b a") == {"a": 2, "b": 1}
    assert any_lib.word_counts("") == {}
    assert any_lib.total_count({"a": 1, "b": 5}) == 6
    assert any_lib.total_count({}) == 0
    assert any_lib.total_count(collections.OrderedDict(a=2)) == 2
    # A BTreeMap's keys come back in order.
    grouped = any_lib.by_length(["ccc", "a", "bb", "d"])
    assert list(grouped) == [1, 2, 3]
    assert any_lib.positive_keys({"b": 1, "a": 2, "c": -1}) == ["a", "b"]


def test_map_errors_name_key_and_value(any_lib) -> None:
    with pytest.raises(OverflowError, match=r"argument 'counts'\['b'\] \(u32\) must be in 0\.\.=4294967295, got -5"):
        any_lib.total_count({"a": 1, "b": -5})
    with pytest.raises(TypeError, match=r"argument 'counts' key 3 \(String\) must be a str, not int"):
        any_lib.total_count({"a": 1, 3: 5})
    with pytest.raises(TypeError, match=r"argument 'counts' \(HashMap<String, u32>\) must be a mapping \(a dict\), not list"):
        any_lib.total_count([("a", 1)])
    with pytest.raises(TypeError, match=r"must be a mapping \(a dict\), not str"):
        any_lib.total_count("ab")


def test_sets_round_trip(any_lib) -> None:
    assert any_lib.distinct([3, 1, 3, 2]) == {1, 2, 3}
    assert any_lib.distinct([]) == set()
    assert any_lib.contains_all({"a", "b"}, ["a"]) is True
    assert any_lib.contains_all(frozenset({"a"}), ["a", "b"]) is False
    assert any_lib.contains_all(["a", "a", "b"], ["b"]) is True  # any iterable, duplicates merged
    with pytest.raises(TypeError, match=r"argument 'set'\[\d\] \(String\) must be a str, not int"):
        any_lib.contains_all({"a", 1}, [])
    with pytest.raises(TypeError, match=r"argument 'set' \(HashSet<String>\): unhashable type: 'list'"):
        any_lib.contains_all([["a"]], [])


# ---------------------------------------------------------------------------
# Tuples, 128-bit integers, bytes


def test_tuples_round_trip(any_lib) -> None:
    assert any_lib.min_max([1.0, -3.0, 9.0]) == (-3.0, 9.0)
    assert any_lib.pair_sum((1, 2**40)) == 2**40 + 1
    assert any_lib.pair_sum([1, 2]) == 3  # a list of the right length works too
    assert any_lib.describe_pair(("x", 3)) == "x x3"
    assert any_lib.describe_pair(("x", None)) == "x"


def test_tuple_errors(any_lib) -> None:
    with pytest.raises(TypeError, match=r"argument 'pair' \(\(i32, i64\)\) must be a tuple of 2, not tuple of 3"):
        any_lib.pair_sum((1, 2, 3))
    with pytest.raises(TypeError, match=r"argument 'pair' \(\(i32, i64\)\) must be a tuple of 2, not int"):
        any_lib.pair_sum(1)
    with pytest.raises(OverflowError, match=r"argument 'pair'\[0\] \(i32\) must be in"):
        any_lib.pair_sum((2**31, 0))
    with pytest.raises(TypeError, match=r"argument 'pair'\[1\] \(u8\) must be an int, not str"):
        any_lib.describe_pair(("x", "y"))


@pytest.mark.parametrize("value", [0, 1, -1, 2**64, -(2**64), 2**100 + 7, -(2**126), 2**126 - 1])
def test_i128_round_trips(any_lib, value: int) -> None:
    assert any_lib.wide_add(value, 0) == value
    assert any_lib.wide_add(value, 1) == value + 1


def test_i128_range_and_overflow(any_lib) -> None:
    assert any_lib.wide_max() == 2**128 - 1
    assert any_lib.wide_add(2**127 - 2, 1) == 2**127 - 1
    assert any_lib.wide_add(-(2**127), 0) == -(2**127)
    with pytest.raises(OverflowError, match=r"argument 'a' \(i128\) must be in -170141183460469231731687303715884105728"):
        any_lib.wide_add(2**127, 0)
    with pytest.raises(OverflowError, match=r"argument 'b' \(i128\) must be in"):
        any_lib.wide_add(0, -(2**127) - 1)
    with pytest.raises(TypeError, match=r"argument 'a' \(i128\) must be an int, not float"):
        any_lib.wide_add(1.0, 0)
    with pytest.raises(any_lib.errors.Error, match="overflows"):
        any_lib.wide_add(2**126, 2**126)


def test_vec_u8_is_bytes(any_lib) -> None:
    assert any_lib.repeat_byte(65, 3) == b"AAA"
    assert any_lib.repeat_byte(0, 0) == b""
    assert type(any_lib.repeat_byte(1, 1)) is bytes


# ---------------------------------------------------------------------------
# Records with map, set and tuple fields


def test_record_with_collections_round_trips(any_lib) -> None:
    inventory = any_lib.make_inventory(3)
    assert inventory.counts == {"item0": 0, "item1": 1, "item2": 2}
    assert inventory.tags == {"a", "b"}
    assert inventory.origin == (1.5, -2.0)
    assert any_lib.inventory_total(inventory) == 3
    built = any_lib.Inventory("mine", {"x": 4, "y": 5}, {"t"}, (0.0, 1.0))
    assert any_lib.inventory_total(built) == 9
    with pytest.raises(OverflowError, match=r"argument 'inventory'\.counts\['y'\] \(u32\) must be in"):
        any_lib.inventory_total(any_lib.Inventory("bad", {"x": 1, "y": -1}, set(), (0.0, 0.0)))
    with pytest.raises(TypeError, match=r"argument 'inventory'\.origin\[1\] \(f64\) must be a float, not str"):
        any_lib.inventory_total(any_lib.Inventory("bad", {}, set(), (0.0, "x")))


# ---------------------------------------------------------------------------
# Cycles in Python containers


def test_self_containing_lists_are_refused_cleanly(any_lib) -> None:
    # `Vec<Vec<u8>>` from a list that contains itself: the inner element is
    # a list, not a number, so the conversion stops at the first level.
    cycle: list = [1]
    cycle.append(cycle)
    with pytest.raises(TypeError, match=r"argument 'rows'\[0\]"):
        any_lib.lengths(cycle)
    # A record whose Vec<Tree> field contains the record itself: recursion
    # ends in a clean RecursionError before anything crosses.
    tree = any_lib.Tree("loop", [])
    tree.children.append(tree)
    with pytest.raises(RecursionError):
        any_lib.count_nodes(tree)
    tree.children.clear()
    gc.collect()
    assert any_lib.count_nodes(tree) == 1


# -- The CPython fast path reads owned parameters itself ---------------------
#
# Exact lists, tuples, dicts, str, int, float, bool and None are read in Rust;
# anything else (a subclass, an iterable, an int where a float is expected, a
# value out of range) falls back to the ctypes wrapper, which converts it or
# raises the documented error. Both must give the same answers.

NATIVE_ARGS = [
    (["a", "bc"], {"k": 1}, ("p", None), [[1.0], []], {2: ["x"]}),
    ([], {}, ("", 7), [], {}),
    (("t",), {"k": 2**32 - 1}, ["q", -2**63], [(0.5, 1.5)], {-1: []}),
]


def python_calls(function, *args) -> int:
    """How many Python functions run during ``function(*args)``: the
    wrapper alone when the native code reads the arguments, more when it
    falls back to the ctypes wrapper."""
    import sys

    calls = []
    sys.setprofile(lambda frame, event, arg: calls.append(frame.f_code.co_name) if event == "call" else None)
    try:
        function(*args)
    except Exception:  # noqa: BLE001, S110 (the count is what is measured)
        pass
    finally:
        sys.setprofile(None)
    return len(calls)


def test_native_reading_and_the_ctypes_path_agree(any_lib) -> None:
    for args in NATIVE_ARGS:
        expected = len(args[0]) + len(args[1]) + len(args[2][0]) + len(args[3]) + len(args[4])
        assert any_lib.native_then_panic(*args, False) == expected, args
    assert any_lib.sum_owned([1, -2, 3]) == 2
    assert any_lib.describe_pair(("x", 3)) == "x x3" and any_lib.describe_pair(["x", None]) == "x"
    assert any_lib.total_count({"a": 1, "b": 2}) == 3
    assert any_lib.maybe_total(None) == -1.0 and any_lib.maybe_total([1.5, 2.5]) == 4.0


def test_the_fast_path_reads_exact_containers_itself(lib) -> None:
    from paths import uses_fast_path

    assert uses_fast_path(lib)
    words, counts, pair, rows, ordered = NATIVE_ARGS[0]
    native = python_calls(lib.native_then_panic, words, counts, pair, rows, ordered, False)
    # The same values in shapes only the ctypes wrapper takes.
    for odd in [(iter(words), counts, pair, rows, ordered), (words, collections.OrderedDict(counts), pair, rows, ordered),
                (words, counts, pair, [[1]], ordered), (words, counts, ("p", True), rows, ordered)]:
        assert python_calls(lib.native_then_panic, *odd, False) > native, odd
    assert python_calls(lib.sum_owned, [1, 2]) == python_calls(lib.echo_i64, 1)


def test_native_reading_falls_back_for_what_it_does_not_take(any_lib) -> None:
    class Int(int):
        pass

    class Text(str):
        pass

    assert any_lib.sum_owned([Int(2), True]) == 3
    assert any_lib.hyphenate([Text("a"), "b"]) == "a-b"
    assert any_lib.total_count({Text("a"): Int(4)}) == 4
    assert any_lib.sum_owned([2**62, 2**62 - 1]) == 2**63 - 1
    with pytest.raises(OverflowError, match=r"argument 'values'\[1\] \(i64\)"):
        any_lib.sum_owned([1, 2**63])
    with pytest.raises(TypeError, match=r"argument 'counts'\['a'\] \(u32\) must be an int, not str"):
        any_lib.native_then_panic([], {"a": "x"}, ("p", None), [], {}, False)
    with pytest.raises(TypeError, match=r"argument 'pair'"):
        any_lib.native_then_panic([], {}, ("p", None, 3), [], {}, False)
    with pytest.raises(TypeError, match=r"argument 'rows'\[0\]\[1\]"):
        any_lib.native_then_panic([], {}, ("p", None), [[1.0, "x"]], {}, False)
    with pytest.raises(TypeError, match=r"argument 'ordered'"):
        any_lib.native_then_panic([], {}, ("p", None), [], {"k": []}, False)
    with pytest.raises(ffi_export.RustPanic, match="holding 3 values read natively"):
        any_lib.native_then_panic(["a"], {"k": 1}, ("", None), [[1.0]], {}, True)


def test_a_list_that_contains_itself_is_refused_not_followed(any_lib) -> None:
    rows: list = [[1.0]]
    rows.append(rows)
    with pytest.raises(TypeError, match=r"argument 'rows'\[1\]\[0\] \(f64\) must be a float, not list"):
        any_lib.native_then_panic([], {}, ("p", None), rows, {}, False)


def test_a_finalizer_run_by_a_refused_item_cannot_pull_the_list_away(lib) -> None:
    # Reading a lone surrogate raises inside CPython (an allocation, so the
    # collector may run and a finalizer may change the list being read):
    # native reading stops at the refused item and touches nothing after it.
    words = ["a", "\ud800"] + ["b" * 10] * 1000

    class Clears:
        def __del__(self) -> None:
            words.clear()

    threshold = gc.get_threshold()
    outcomes: set = set()
    gc.disable()
    try:
        for _ in range(20):
            cycle = Clears()
            cycle.self = cycle  # type: ignore[attr-defined]
            del cycle
            gc.set_threshold(1)
            gc.enable()
            try:
                # The list emptied by the finalizer before the ctypes
                # wrapper read it: nothing but "p" is counted.
                outcomes.add(lib.native_then_panic(words, {}, ("p", None), [], {}, False))
            except UnicodeEncodeError:
                outcomes.add("refused")
            gc.disable()
            gc.collect()
            words[:] = ["a", "\ud800"] + ["b" * 10] * 1000
    finally:
        gc.set_threshold(*threshold)
        gc.enable()
    assert outcomes <= {1, "refused"} and 1 in outcomes, outcomes
