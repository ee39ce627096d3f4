"""Records, enums, plain-data structs, string lists and Option parameters
(``pub mod rich`` in tests/src/lib.rs) cross the boundary through the Python
helper: values, classes, bad input, the raw C ABI, and memory."""

from __future__ import annotations

import ctypes
import enum
import inspect

import numpy
import pytest

import ffi_export
from test_memory import MiB, growth

POINT_DTYPE = numpy.dtype([("x", "f8"), ("y", "f8")])
ANN_LINE = 'Ann (30, User) in Paris [new,age30] Some("ann@example.com") [1.5, 2.5] true'


def person(lib, **changes):
    """A hand-built Person (not from Rust), with ``changes`` applied."""
    fields = dict(
        name="Ann", age=30, email="ann@example.com", tags=["new", "age30"], scores=[1.5, 2.5],
        address=lib.Address(city="Paris", zip=75001), kind=lib.Kind.User, active=True,
    )
    fields.update(changes)
    return lib.Person(**fields)


# ---------------------------------------------------------------------------
# Records through functions


def test_record_returned_by_value(lib) -> None:
    p = lib.make_person("Ann", 30)
    assert type(p) is lib.Person
    assert p.name == "Ann" and p.age == 30 and type(p.age) is int
    assert p.email == "ann@example.com"
    assert p.tags == ["new", "age30"] and all(type(t) is str for t in p.tags)
    assert p.scores == [1.5, 2.5] and all(type(s) is float for s in p.scores)
    assert type(p.address) is lib.Address
    assert p.address.city == "Paris" and p.address.zip == 75001
    assert p.kind is lib.Kind.User
    assert p.active is True
    assert p == person(lib)

    kid = lib.make_person("Kid", 7)  # under 18: no email, Guest; odd age: no zip
    assert kid.email is None
    assert kid.address.zip is None
    assert kid.kind is lib.Kind.Guest
    assert kid.tags == ["new", "age7"]

    # Non-ASCII and NUL survive both ways.
    zoe = lib.make_person("Zoë\0🦀", 18)
    assert zoe.name == "Zoë\0🦀" and zoe.email == "zoë\0🦀@example.com"
    assert inspect.signature(lib.make_person).return_annotation is lib.Person


def test_record_passed_by_reference(lib) -> None:
    p = lib.make_person("Ann", 30)
    assert lib.describe_person(p) == ANN_LINE
    assert p == lib.make_person("Ann", 30)  # borrowed: untouched
    built = lib.Person("Zoë", 0, None, [], [], lib.Address("Köln", None), lib.Kind.Admin, False)
    assert lib.describe_person(built) == "Zoë (0, Admin) in Köln [] None [] false"
    assert lib.describe_person(person=person(lib, tags=("a", "b"), scores=numpy.array([1.0, 0.25]))) == (
        'Ann (30, User) in Paris [a,b] Some("ann@example.com") [1.0, 0.25] true'
    )
    # Fields are plain attributes: a change is what Rust sees.
    p.age = 41
    p.kind = 1  # an int value of the enum is accepted
    assert lib.describe_person(p).startswith("Ann (41, Admin) in Paris")
    # The largest u32 fits.
    assert lib.describe_person(person(lib, age=2**32 - 1)).startswith(f"Ann ({2**32 - 1}, User)")


def test_record_by_value_in_and_out(lib) -> None:
    p = lib.make_person("Ann", 30)
    older = lib.birthday(p)
    assert type(older) is lib.Person
    assert older.age == 31
    assert older.tags == ["new", "age30", "birthday"]
    assert older.name == "Ann" and older.address == p.address and older.kind is lib.Kind.User
    assert p.age == 30 and p.tags == ["new", "age30"]  # the Python value is a copy: untouched
    assert lib.birthday(lib.birthday(older)).age == 33
    hand = person(lib, email=None, tags=[], scores=[], address=lib.Address("Oslo", None))
    assert lib.birthday(hand) == person(
        lib, age=31, email=None, tags=["birthday"], scores=[], address=lib.Address("Oslo", None)
    )


def test_panic_in_a_record_function_is_an_exception(lib) -> None:
    # `person.age += 1` overflows: a panic in the (debug) test library.
    with pytest.raises(ffi_export.RustPanic, match="overflow"):
        lib.birthday(person(lib, age=2**32 - 1))
    assert lib.birthday(person(lib)).age == 31


def test_vec_of_records(lib) -> None:
    people = lib.people(3)
    assert type(people) is list and len(people) == 3
    assert [p.name for p in people] == ["P0", "P1", "P2"]
    assert [p.age for p in people] == [10, 11, 12]
    assert [p.address.zip for p in people] == [75001, None, 75001]
    assert all(p.kind is lib.Kind.Guest for p in people)
    assert people == [lib.make_person(f"P{i}", 10 + i) for i in range(3)]
    assert lib.people(0) == []
    many = lib.people(500)
    assert len(many) == 500 and many[499].name == "P499" and many[499].tags == ["new", "age509"]


def test_option_record(lib) -> None:
    some = lib.maybe_person(True)
    assert type(some) is lib.Person
    assert some == lib.make_person("Maybe", 30)
    assert lib.maybe_person(False) is None


def test_result_record(lib) -> None:
    assert lib.parse_person("Bob:40") == lib.make_person("Bob", 40)
    with pytest.raises(lib.errors.Error, match="^expected name:age$") as info:
        lib.parse_person("Bob")
    assert isinstance(info.value, ffi_export.FfiError)
    assert info.value.rust_type == "Error"
    with pytest.raises(lib.errors.Error, match="^bad age: invalid digit found in string$"):
        lib.parse_person("Bob:x")
    with pytest.raises(lib.errors.Error, match="^bad age: number too large"):
        lib.parse_person(f"Bob:{2**32}")
    assert lib.parse_person("Bob:7").kind is lib.Kind.Guest  # works again after errors


def test_recursive_record(lib) -> None:
    Tree = lib.Tree
    assert lib.tree(0) == Tree("d0", [])
    assert lib.tree(1) == Tree("d1", [Tree("d0", []), Tree("d0", [])])
    t = lib.tree(2)
    assert type(t) is Tree and type(t.children) is list and type(t.children[0]) is Tree
    assert [c.label for c in t.children] == ["d1", "d1"]
    assert [g.label for c in t.children for g in c.children] == ["d0"] * 4
    for depth in range(7):
        assert lib.count_nodes(lib.tree(depth)) == 2 ** (depth + 1) - 1
    assert lib.count_nodes(lib.tree(10)) == 2047
    lopsided = Tree("a", [Tree("b", []), Tree(label="c", children=[Tree("d", [Tree("e", [])])])])
    assert lib.count_nodes(lopsided) == 5
    assert lib.count_nodes(tree=Tree("alone", [])) == 1


def test_deep_recursive_record_can_be_passed(lib) -> None:
    # The helper converts nested records recursively (a few Python frames per
    # level): 150 levels work; far deeper input is a clean RecursionError
    # raised before anything crosses, never a crash.
    chain = lib.Tree("leaf", [])
    for i in range(149):
        chain = lib.Tree(f"n{i}", [chain])
    assert lib.count_nodes(chain) == 150
    for i in range(10_000):
        chain = lib.Tree(f"m{i}", [chain])
    with pytest.raises(RecursionError):
        lib.count_nodes(chain)
    assert lib.count_nodes(lib.tree(3)) == 15


# ---------------------------------------------------------------------------
# Record classes


def test_record_classes_fields_eq_repr(lib) -> None:
    a = lib.Address("Paris", 75001)
    assert a.city == "Paris" and a.zip == 75001
    assert a == lib.Address(city="Paris", zip=75001)
    assert a == lib.Address("Paris", zip=75001)
    assert a != lib.Address("Paris", None)
    assert a != lib.Address("Lyon", 75001)
    assert a != ("Paris", 75001)
    assert repr(a) == "Address(city='Paris', zip=75001)"
    assert repr(lib.Address("Köln", None)) == "Address(city='Köln', zip=None)"
    p = lib.make_person("Ann", 30)
    assert repr(p) == (
        "Person(name='Ann', age=30, email='ann@example.com', tags=['new', 'age30'], "
        "scores=[1.5, 2.5], address=Address(city='Paris', zip=75001), kind=<Kind.User: 2>, active=True)"
    )
    assert p != lib.make_person("Ann", 31)
    assert p != person(lib, scores=[1.5, 2.6])
    assert p != person(lib, address=lib.Address("Paris", None))
    assert p != a
    assert repr(lib.tree(1)) == (
        "Tree(label='d1', children=[Tree(label='d0', children=[]), Tree(label='d0', children=[])])"
    )
    with pytest.raises(TypeError):
        hash(a)  # mutable and compared by value: unhashable
    with pytest.raises(AttributeError):
        a.cty = "typo"  # no attributes beyond the fields


def test_record_construction_errors(lib) -> None:
    # Records have a real __init__: Python's own messages name the class and
    # the fields; a trailing Option field defaults to None.
    assert lib.Address("Paris") == lib.Address("Paris", None)
    with pytest.raises(TypeError, match=r"(Address\.)?__init__.. missing 1 required positional argument: 'city'"):
        lib.Address()
    with pytest.raises(TypeError, match=r"(Person\.)?__init__.. missing 7 required positional arguments: 'age', "
                                        r"'email', 'tags', 'scores', 'address', 'kind', and 'active'"):
        lib.Person(name="Ann")
    with pytest.raises(TypeError, match=r"(Address\.)?__init__.. got an unexpected keyword argument 'country'"):
        lib.Address("Paris", None, country="FR")
    with pytest.raises(TypeError, match=r"(Address\.)?__init__.. takes from 2 to 3 positional arguments but 4 were given"):
        lib.Address("Paris", None, "FR")
    with pytest.raises(TypeError, match=r"(Address\.)?__init__.. got multiple values for argument 'city'"):
        lib.Address("Paris", city="Lyon", zip=None)


def test_record_classes_are_reachable_and_documented(lib) -> None:
    for name in ("Person", "Address", "Tree", "Point", "Kind"):
        assert getattr(lib, name) is getattr(lib.types, name)
    assert lib.Person.__doc__ == "A person, with every kind of field."
    assert lib.Address.__doc__ == "Where someone lives."
    assert lib.Tree.__doc__ == "A tree of labels (a recursive record)."
    assert lib.Point.__doc__ == "A point in the plane: plain data, crosses as itself."
    assert lib.Kind.__doc__ == "What someone may do."
    assert "fn describe_person(person: &Person) -> String" in lib.describe_person.__doc__
    assert "fn maybe_person(some: bool) -> Option<Person>" in lib.maybe_person.__doc__
    assert "fn parse_person(text: &str) -> Result<Person, Error>" in lib.parse_person.__doc__


# ---------------------------------------------------------------------------
# Enums


def test_enum_is_an_int_enum_with_rust_discriminants(lib) -> None:
    Kind = lib.Kind
    assert issubclass(Kind, enum.IntEnum)
    assert [(m.name, m.value) for m in Kind] == [("Admin", 1), ("User", 2), ("Guest", 7)]
    assert Kind.Guest == 7 and Kind(2) is Kind.User


def test_enum_param_takes_members_and_ints(lib) -> None:
    Kind = lib.Kind
    assert lib.next_kind(Kind.Admin) is Kind.User
    assert lib.next_kind(Kind.User) is Kind.Guest
    assert lib.next_kind(Kind.Guest) is Kind.Admin
    assert lib.next_kind(1) is Kind.User
    assert lib.next_kind(2) is Kind.Guest
    assert lib.next_kind(7) is Kind.Admin
    assert lib.next_kind(numpy.uint8(7)) is Kind.Admin
    assert lib.next_kind(kind=lib.next_kind(Kind.User)) is Kind.Admin


def test_enum_param_refuses_unknown_values_and_other_types(lib) -> None:
    for bad in (0, 3, 6, 8, 255, 256, -1, 2**70):
        with pytest.raises(ValueError, match=rf"argument 'kind' \(Kind\): {bad} is not a Kind "
                                             r"\(variants: Admin=1, User=2, Guest=7\)"):
            lib.next_kind(bad)
    for bad in (1.0, 7.0, "Admin", b"\x01", None, True, [1]):
        with pytest.raises(TypeError, match=r"argument 'kind' \(Kind\) must be a Kind or its int value"):
            lib.next_kind(bad)

    class Other(enum.IntEnum):
        Admin = 1

    with pytest.raises(TypeError, match="must be a Kind"):
        lib.next_kind(Other.Admin)  # a foreign enum is not silently its int


def test_vec_of_enums(lib) -> None:
    kinds = lib.kinds()
    assert list(kinds) == [lib.Kind.Admin, lib.Kind.User, lib.Kind.Guest]
    assert all(type(k) is lib.Kind for k in kinds)
    assert [lib.next_kind(k) for k in kinds] == [lib.Kind.User, lib.Kind.Guest, lib.Kind.Admin]


# ---------------------------------------------------------------------------
# Plain-data records


def test_point_is_a_ctypes_structure(lib) -> None:
    Point = lib.Point
    assert issubclass(Point, ctypes.Structure)
    assert [(name, t) for name, t in Point._fields_] == [("x", ctypes.c_double), ("y", ctypes.c_double)]
    assert ctypes.sizeof(Point) == 16
    p = Point(1.5, y=-2)
    assert (p.x, p.y) == (1.5, -2.0)
    assert repr(p) == "Point(x=1.5, y=-2.0)"
    assert p == Point(1.5, -2.0) and p != Point(1.5, 2.0) and p != (1.5, -2.0)


def test_point_by_value_and_by_reference(lib) -> None:
    Point = lib.Point
    a, b = Point(0, 0), Point(2, 4)
    mid = lib.midpoint(a, b)
    assert type(mid) is Point
    assert mid == Point(1, 2)
    assert (a, b) == (Point(0, 0), Point(2, 4))  # neither argument is written
    assert lib.midpoint(b=Point(-1, 10), a=Point(3, 0)) == Point(1, 5)

    class Lookalike(ctypes.Structure):
        _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double)]

    for bad in ((0.0, 0.0), None, Lookalike(0, 0), [0.0, 0.0]):
        with pytest.raises(TypeError, match="argument 'a' must be a Point"):
            lib.midpoint(bad, b)
    with pytest.raises(TypeError, match="argument 'b' must be a Point"):
        lib.midpoint(a, {"x": 1, "y": 2})


def test_centroid_over_ctypes_and_numpy(lib) -> None:
    Point = lib.Point
    points = (Point * 3)(Point(0, 0), Point(2, 0), Point(4, 6))
    assert lib.centroid(points) == Point(2, 2)
    assert lib.centroid((Point * 0)()) == Point(0, 0)
    structured = numpy.array([(0, 0), (2, 0), (4, 6)], dtype=POINT_DTYPE)
    assert lib.centroid(structured) == Point(2, 2)
    assert lib.centroid(structured[1:]) == Point(3, 3)  # a contiguous view
    assert lib.centroid(numpy.zeros(0, dtype=POINT_DTYPE)) == Point(0, 0)
    frozen = structured.copy()
    frozen.flags.writeable = False
    assert lib.centroid(frozen) == Point(2, 2)  # read-only is fine for &[Point]
    # numpy and ctypes share the same memory both ways.
    assert lib.centroid(numpy.ctypeslib.as_array(points)) == Point(2, 2)
    assert lib.centroid((Point * 3).from_buffer(structured)) == Point(2, 2)


def test_scale_mutates_in_place_zero_copy(lib) -> None:
    Point = lib.Point
    points = (Point * 2)(Point(1, 2), Point(-3, 0.5))
    assert lib.scale(points, 2) is None
    assert list(points) == [Point(2, 4), Point(-6, 1)]

    structured = numpy.array([(1, 2), (3, 4), (5, 6)], dtype=POINT_DTYPE)
    lib.scale(structured, 10.0)
    assert structured.tolist() == [(10, 20), (30, 40), (50, 60)]
    lib.scale(structured[1:2], 0.5)  # a view writes through to its base, and only there
    assert structured.tolist() == [(10, 20), (15, 20), (50, 60)]

    shared = (Point * 2)(Point(1, 1), Point(2, 2))
    lib.scale(numpy.ctypeslib.as_array(shared), 3)  # numpy view of a ctypes array
    assert list(shared) == [Point(3, 3), Point(6, 6)]
    lib.scale(numpy.zeros(0, dtype=POINT_DTYPE), 2.0)


def test_plain_record_slices_refuse_wrong_layouts(lib) -> None:
    ints = numpy.zeros(3, dtype=[("x", "i8"), ("y", "i8")])
    with pytest.raises(TypeError, match=r"argument 'points' \(&\[Point\]\) needs a buffer of Point \(x: d, y: d\)"):
        lib.centroid(ints)
    with pytest.raises(TypeError, match=r"\(&mut \[Point\]\) needs a buffer of Point"):
        lib.scale(ints, 2.0)
    wrong = [
        numpy.zeros(3, dtype=[("x", "f8"), ("y", "f8"), ("z", "f8")]),
        numpy.zeros(3, dtype=[("x", "f4"), ("y", "f4")]),
        numpy.zeros(3, dtype=[("x", ">f8"), ("y", ">f8")]) if numpy.little_endian else
        numpy.zeros(3, dtype=[("x", "<f8"), ("y", "<f8")]),
        numpy.zeros(3, dtype=[("x", "f8")]),
        numpy.zeros(6),  # plain doubles are not Points
        numpy.zeros(3, dtype=numpy.dtype({"names": ["x", "y"], "formats": ["f8", "f8"], "itemsize": 24})),
        b"\0" * 32,
    ]
    for bad in wrong:
        with pytest.raises(TypeError, match="needs a buffer of Point"):
            lib.centroid(bad)
        if not isinstance(bad, bytes):
            before = bad.tobytes()
            with pytest.raises(TypeError, match="needs a buffer of Point"):
                lib.scale(bad, 2.0)
            assert bad.tobytes() == before
    for bad in (None, 3.0):
        with pytest.raises(TypeError, match=r"must be a buffer of Point, e\.g\. \(Point \* n\)\(\)"):
            lib.centroid(bad)
    # A list of records is copied in (not for `&mut`: Rust writes in place).
    assert lib.centroid([lib.Point(1, 2), lib.Point(3, 4)]) == lib.Point(2, 3)
    with pytest.raises(TypeError, match=r"argument 'points'\[1\] must be a Point, not tuple"):
        lib.centroid([lib.Point(1, 2), (3, 4)])
    with pytest.raises(TypeError, match=r"\(&mut \[Point\]\) must be a buffer of Point"):
        lib.scale([lib.Point(1, 2)], 2.0)


def test_plain_record_slices_refuse_read_only_and_strided(lib) -> None:
    frozen = numpy.array([(1, 2)], dtype=POINT_DTYPE)
    frozen.flags.writeable = False
    with pytest.raises(BufferError, match="must be writable"):
        lib.scale(frozen, 2.0)
    assert frozen.tolist() == [(1, 2)]
    strided = numpy.zeros(6, dtype=POINT_DTYPE)[::2]
    with pytest.raises(BufferError, match="C-contiguous"):
        lib.centroid(strided)
    with pytest.raises(BufferError, match="C-contiguous"):
        lib.scale(strided, 2.0)


def test_plain_record_equality_compares_fields_as_numbers(lib) -> None:
    # 0.0 == -0.0 in Python, Rust (derived PartialEq) and C; records compare
    # field by field (as Person does), so points with equal fields are equal.
    Point = lib.Point
    assert Point(0.0, 1.0) == Point(-0.0, 1.0)
    points = (Point * 1)(Point(0.0, 1.0))
    lib.scale(points, -1.0)  # x becomes -0.0
    assert points[0] == Point(0.0, -1.0)


# ---------------------------------------------------------------------------
# String lists


def test_string_list_param(lib) -> None:
    assert lib.join(["a", "b"], "-") == "a-b"
    assert lib.join([], "-") == ""
    assert lib.join(["only"], ", ") == "only"
    assert lib.join(("x", "y", "z"), "") == "xyz"
    assert lib.join(["", ""], "|") == "|"
    assert lib.join(["héllo", "🦀", "a\0b"], " ") == "héllo 🦀 a\0b"
    assert lib.join(words=["w"] * 1000, separator=".") == ".".join(["w"] * 1000)


def test_string_list_refuses_non_str(lib) -> None:
    for index, words in ((1, ["a", 1]), (0, [b"a"]), (2, ["a", "b", None])):
        with pytest.raises(TypeError, match=rf"argument 'words'\[{index}\] \(&str\) must be a str"):
            lib.join(words, "-")
    for bad in ("ab", b"ab", None, 3):
        with pytest.raises(TypeError, match=r"argument 'words' \(&\[&str\]\) must be a list of str"):
            lib.join(bad, "-")
    with pytest.raises(TypeError, match=r"argument 'separator' \(&str\) must be a str"):
        lib.join(["a"], None)
    with pytest.raises(UnicodeEncodeError):
        lib.join(["ok", "\ud800"], "-")


def test_vec_of_strings_return(lib) -> None:
    words = lib.split_words("  a bb\tccc\n dé 🦀 ")
    assert type(words) is list
    assert words == ["a", "bb", "ccc", "dé", "🦀"]
    assert all(type(w) is str for w in words)
    assert lib.split_words("") == []
    assert lib.split_words("   ") == []
    assert lib.join(lib.split_words("one two  three"), "+") == "one+two+three"


# ---------------------------------------------------------------------------
# Option parameters


def test_option_params(lib) -> None:
    assert lib.greet_opt(None, None) == "hi stranger"
    assert lib.greet_opt("Bo", 2) == "hi Bo hi Bo"
    assert lib.greet_opt("Bo", None) == "hi Bo"
    assert lib.greet_opt(None, 3) == "hi stranger hi stranger hi stranger"
    assert lib.greet_opt("", 1) == "hi "  # Some("") is not None
    assert lib.greet_opt("Bo", 0) == ""  # Some(0) is not None
    assert lib.greet_opt(times=2, name="Zoë") == "hi Zoë hi Zoë"


def test_option_params_refuse_bad_values(lib) -> None:
    for bad in (2**32, -1, 2**70):
        with pytest.raises(OverflowError, match=r"argument 'times' \(u32\) must be in 0\.\.=4294967295"):
            lib.greet_opt("Bo", bad)
    with pytest.raises(TypeError, match=r"argument 'times' \(u32\) must be an int"):
        lib.greet_opt("Bo", "2")
    with pytest.raises(TypeError, match=r"argument 'times' \(u32\) must be an int"):
        lib.greet_opt("Bo", 2.0)
    with pytest.raises(TypeError, match=r"argument 'name' \(String\) must be a str"):
        lib.greet_opt(b"Bo", None)


# ---------------------------------------------------------------------------
# Bad input inside records


@pytest.mark.parametrize("function", ["describe_person", "birthday"])
def test_bad_fields_name_their_path(lib, function: str) -> None:
    call = getattr(lib, function)
    cases = [
        (dict(age="x"), TypeError, r"argument 'person'\.age \(u32\) must be an int, not str"),
        (dict(age=1.0), TypeError, r"argument 'person'\.age \(u32\) must be an int, not float"),
        (dict(age=2**32), OverflowError, r"argument 'person'\.age \(u32\) must be in 0\.\.=4294967295, got 4294967296"),
        (dict(age=-1), OverflowError, r"argument 'person'\.age \(u32\) must be in 0\.\.=4294967295, got -1"),
        (dict(name=None), TypeError, r"argument 'person'\.name \(String\) must be a str"),
        (dict(email=5), TypeError, r"argument 'person'\.email \(String\) must be a str"),
        (dict(tags=[1]), TypeError, r"argument 'person'\.tags\[0\] \(String\) must be a str, not int"),
        (dict(tags=["ok", b"x"]), TypeError, r"argument 'person'\.tags\[1\] \(String\) must be a str"),
        (dict(tags="ab"), TypeError, r"argument 'person'\.tags \(Vec<String>\) must be a sequence, not str"),
        (dict(tags=None), TypeError, r"argument 'person'\.tags \(Vec<String>\) must be a sequence"),
        (dict(scores=[1.0, "a"]), TypeError, r"argument 'person'\.scores\[1\] \(f64\) must be a float"),
        (dict(address="Paris"), TypeError, r"argument 'person'\.address must be a Address, not str"),
        (dict(address=lib.Address("Paris", 2**40)), OverflowError, r"argument 'person'\.address\.zip \(u32\)"),
        (dict(address=lib.Address(3, None)), TypeError, r"argument 'person'\.address\.city \(String\)"),
        (dict(kind=9), ValueError, r"argument 'person'\.kind \(Kind\): 9 is not a Kind"),
        (dict(kind="User"), TypeError, r"argument 'person'\.kind \(Kind\) must be a Kind"),
        (dict(active=1), TypeError, r"argument 'person'\.active \(bool\) must be a bool, not int"),
    ]
    for changes, error, message in cases:
        with pytest.raises(error, match=message):
            call(person(lib, **changes))
    good = call(person(lib))  # nothing was left half-done
    expected = ANN_LINE if function == "describe_person" else person(lib, age=31, tags=["new", "age30", "birthday"])
    assert good == expected


def test_wrong_class_for_a_record_param(lib) -> None:
    for bad in (lib.Address("Paris", None), None, ("Ann", 30), {"name": "Ann"}, lib.Tree("t", [])):
        with pytest.raises(TypeError, match=rf"argument 'person' must be a Person, not {type(bad).__name__}"):
            lib.describe_person(bad)
        with pytest.raises(TypeError, match="argument 'person' must be a Person"):
            lib.birthday(bad)
    with pytest.raises(TypeError, match=r"argument 'tree'\.children\[0\]\.children\[0\] must be a Tree, not int"):
        lib.count_nodes(lib.Tree("a", [lib.Tree("b", [1])]))
    with pytest.raises(TypeError, match=r"argument 'tree'\.children \(Vec<Tree>\) must be a sequence"):
        lib.count_nodes(lib.Tree("a", None))
    with pytest.raises(TypeError, match="argument 'tree' must be a Tree, not Person"):
        lib.count_nodes(person(lib))


# ---------------------------------------------------------------------------
# The raw C ABI


def _raw(lib, name: str, argtypes: list, restype):
    """A private function object (``cdll[name]``), so other users of the
    library keep their own argtypes."""
    function = lib._cdll[name]
    function.argtypes = argtypes
    function.restype = restype
    return function


def _last_error(lib):
    take = _raw(lib, "ffi_export_error_take", [ctypes.POINTER(ffi_export._FfiError)], ctypes.c_bool)
    free = _raw(lib, "ffi_export_error_free", [ctypes.POINTER(ffi_export._FfiError)], None)
    err = ffi_export._FfiError()
    if not take(err):
        return None
    try:
        return err.code, ctypes.string_at(err.message.ptr, err.message.len).decode()
    finally:
        free(err)


def _person_repr(lib):
    return lib._types.repr_type(lib.exports["make_person"]["returns"])


def test_raw_null_record_pointers_are_invalid_arguments(lib) -> None:
    faults = ctypes.c_uint64.in_dll(lib._cdll, "FFI_EXPORT_FAULTS")
    PersonRepr = _person_repr(lib)
    TreeRepr = lib._types.repr_type(lib.exports["tree"]["returns"])
    describe = _raw(lib, "describe_person", [ctypes.POINTER(PersonRepr)], ffi_export._FfiBuffer)
    before = faults.value
    result = describe(None)
    assert result.ptr is None and result.len == 0
    assert faults.value == before + 1
    assert _last_error(lib) == (3, "argument `person`: NULL pointer")

    birthday = _raw(lib, "birthday", [ctypes.POINTER(PersonRepr)], PersonRepr)
    older = birthday(None)
    assert older.name.ptr is None and older.tags.ptr is None  # the zeroed, nothing-to-free value
    assert _last_error(lib) == (3, "argument `person`: NULL pointer")

    count_nodes = _raw(lib, "count_nodes", [ctypes.POINTER(TreeRepr)], ctypes.c_uint32)
    assert count_nodes(None) == 0
    assert _last_error(lib) == (3, "argument `tree`: NULL pointer")

    # The process is fine and the next call succeeds with no error recorded.
    assert lib.count_nodes(lib.tree(2)) == 7
    assert _last_error(lib) is None


def test_raw_invalid_enum_discriminant_is_an_invalid_argument(lib) -> None:
    next_kind = _raw(lib, "next_kind", [ctypes.c_uint8], ctypes.c_uint8)
    for bad in (0, 3, 6, 8, 255):
        assert next_kind(bad) == 0
        assert _last_error(lib) == (3, f"argument `kind`: {bad} is not a `Kind` (variants: Admin, User, Guest)")
    assert next_kind(7) == 1  # Guest -> Admin
    assert _last_error(lib) is None
    assert next_kind(2) == 7
    assert _last_error(lib) is None


def test_raw_invalid_record_contents_are_invalid_arguments(lib) -> None:
    """A C caller building a Person with bad bytes inside gets code 3 naming
    the field, never undefined behaviour."""
    PersonRepr = _person_repr(lib)
    make = _raw(lib, "make_person", [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32], PersonRepr)
    free = _raw(lib, "make_person_free", [ctypes.POINTER(PersonRepr)], None)
    describe = _raw(lib, "describe_person", [ctypes.POINTER(PersonRepr)], ffi_export._FfiBuffer)
    describe_free = _raw(lib, "describe_person_free", [ctypes.POINTER(ffi_export._FfiBuffer)], None)
    raw = make(b"Ann", 3, 30)
    assert _last_error(lib) is None
    assert raw.age == 30 and raw.kind == 2
    base = ctypes.addressof(raw)

    def poke(field: str, byte: int) -> None:
        ctypes.memset(base + getattr(PersonRepr, field).offset, byte, 1)

    try:
        poke("kind", 9)
        assert describe(raw).ptr is None
        assert _last_error(lib) == (
            3, "argument `person`: field `kind`: 9 is not a `Kind` (variants: Admin, User, Guest)"
        )
        poke("kind", 2)
        poke("active", 2)  # a bool byte that is neither 0 nor 1
        assert describe(raw).ptr is None
        assert _last_error(lib) == (3, "argument `person`: field `active`: 2 is not a bool (0 or 1)")
        poke("active", 1)

        name = raw.name.ptr, raw.name.len
        bad_utf8 = ctypes.create_string_buffer(b"\xff\xfe")
        raw.name.ptr, raw.name.len = ctypes.addressof(bad_utf8), 2
        assert describe(raw).ptr is None
        code, message = _last_error(lib)
        assert code == 3 and message.startswith("argument `person`: field `name`: invalid UTF-8")
        raw.name.ptr, raw.name.len = name

        scores = raw.scores.ptr
        raw.scores.ptr = None  # NULL with length 2
        assert describe(raw).ptr is None
        assert _last_error(lib) == (3, "argument `person`: field `scores`: NULL pointer with length 2")
        raw.scores.ptr = scores

        line = describe(raw)  # restored: valid again
        assert ctypes.string_at(line.ptr, line.len).decode() == ANN_LINE
        describe_free(line)
    finally:
        free(raw)
    assert raw.name.ptr is None and raw.tags.ptr is None and raw.scores.ptr is None
    free(raw)  # a second free is a no-op
    free(None)


# ---------------------------------------------------------------------------
# Memory (RSS loops as in test_memory.py)

NAME_1K = "n" * 1024
WORDS_1K = " ".join(["w" * 100] * 10)

# Each loop would grow RSS by 30-90 MiB if the paired free were skipped
# (measured through the raw ABI). maybe_person(True) returns a small Person
# (~250 bytes of allocations, so 30,000 leaked calls stay under 8 MiB): it
# runs 120,000 times.
LOOPS = {
    "make_person": (30_000, lambda lib: lib.make_person(NAME_1K, 30).name == NAME_1K),
    "people": (30_000, lambda lib: len(lib.people(3)) == 3),
    "split_words": (30_000, lambda lib: len(lib.split_words(WORDS_1K)) == 10),
    "tree": (30_000, lambda lib: len(lib.tree(3).children) == 2),
    "maybe_person": (120_000, lambda lib: lib.maybe_person(True).age == 30),
    "birthday": (30_000, lambda lib: lib.birthday(lib.make_person(NAME_1K, 30)).age == 31),
}


@pytest.mark.parametrize("name", list(LOOPS))
def test_rich_owned_returns_do_not_leak(lib, name: str) -> None:
    calls, call = LOOPS[name]

    def loop(n):
        for _ in range(n or calls):
            assert call(lib)
    assert growth(loop) < 8 * MiB


def test_rich_leak_control_skipping_the_free_grows(lib) -> None:
    """Control: the same loop through the raw ABI, once with the paired free
    and once without it; only the second grows."""
    PersonRepr = _person_repr(lib)
    make = _raw(lib, "make_person", [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32], PersonRepr)
    free = _raw(lib, "make_person_free", [ctypes.POINTER(PersonRepr)], None)
    name = b"x" * 4096  # name and email: ~8 KiB per Person

    def freed(n):
        for _ in range(n or 2_500):
            person = make(name, len(name), 30)
            assert person.name.len == 4096
            free(person)

    def leaked(n):
        for _ in range(n or 2_500):
            assert make(name, len(name), 30).name.len == 4096

    assert growth(freed, warmup=10) < 8 * MiB
    assert growth(leaked, warmup=10) > 16 * MiB


def test_plain_record_slices_check_field_names(lib) -> None:
    swapped = numpy.zeros(2, dtype=[("y", "f8"), ("x", "f8")])
    with pytest.raises(TypeError, match=r"needs a buffer of Point \(x: d, y: d\), got format 'T\{d:y:d:x:\}'"):
        lib.centroid(swapped)


# ---------------------------------------------------------------------------
# Enums with data: a tagged union in C, a class hierarchy in Python


def test_data_enum_classes_and_round_trips(lib) -> None:
    Shape = lib.Shape
    shapes = lib.all_shapes()
    assert shapes == [Shape.Circle(radius=1.0), Shape.Rect(width=2.0, height=3.0),
                      Shape.Polygon("tri", [1.0, 2.0, 3.0]), Shape.Empty()]
    assert all(isinstance(s, Shape) for s in shapes)
    assert [type(s).__name__ for s in shapes] == ["Circle", "Rect", "Polygon", "Empty"]
    assert repr(shapes[2]) == "Shape.Polygon(_0='tri', _1=[1.0, 2.0, 3.0])"
    assert [round(lib.area(s), 6) for s in shapes] == [3.141593, 6.0, 6.0, 0.0]
    assert lib.grow(Shape.Polygon("sq", [1.0, 1.5])) == Shape.Polygon("sq+", [2.0, 3.0])
    assert lib.grow(Shape.Rect(width=1, height=2)) == Shape.Rect(width=2.0, height=4.0)
    assert lib.grow(Shape.Empty()) == Shape.Empty()
    assert Shape.Circle(1.0) != Shape.Rect(1.0, 1.0)


def test_data_enum_bad_input(lib) -> None:
    Shape = lib.Shape
    with pytest.raises(TypeError, match=r"argument 'shape' must be one of Shape\.Circle, Shape\.Rect"):
        lib.area(lib.Point(0, 0))
    with pytest.raises(TypeError, match=r"argument 'shape'\.radius \(f64\) must be a float"):
        lib.area(Shape.Circle(radius="x"))
    with pytest.raises(TypeError, match=r"argument 'shape'\._1\[1\] \(f64\) must be a float"):
        lib.area(Shape.Polygon("p", [1.0, None]))
    with pytest.raises(TypeError):
        Shape.Rect(1.0)  # missing field


def test_data_enum_raw_tag_is_checked(lib) -> None:
    key = next(k for k in lib._types.named if k.endswith("::Shape"))
    repr_type = lib._types.repr_type({"kind": "data_enum", "key": key})
    raw = lib._cdll["area"]
    raw.argtypes = [ctypes.POINTER(repr_type)]
    raw.restype = ctypes.c_double
    bad = repr_type()
    bad.tag = 9
    assert raw(bad) == 0.0
    error = ffi_export._FfiError()
    assert lib._cdll.ffi_export_error_take(ctypes.byref(error))
    message = ctypes.string_at(error.message.ptr, error.message.len).decode()
    code = error.code
    lib._cdll.ffi_export_error_free(ctypes.byref(error))
    assert code == 3 and message == "argument `shape`: tag 9 is not a `Shape` variant (0..4)"


def test_data_enum_returns_do_not_leak(lib) -> None:
    def loop(n):
        for _ in range(n or 30_000):
            assert len(lib.all_shapes()) == 4
            lib.grow(lib.Shape.Polygon("x" * 512, [1.0] * 64))
    assert growth(loop) < 8 * MiB
