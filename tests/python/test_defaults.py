"""Default values (`#[ffi(default ..)]`) of parameters, methods and record
fields: Python signatures, `help()`, calls that omit them on both call
paths, typed record constructors, and Option fields defaulting to None."""

from __future__ import annotations

import inspect

import pytest

from paths import any_lib  # noqa: F401 (fixture)


def test_signatures_show_defaults(lib) -> None:
    assert str(inspect.signature(lib.greet_times)) == "(name: str, times: int = 1, end: str = '!') -> str"
    scaled = inspect.signature(lib.scaled).parameters
    assert [p.default for p in scaled.values()] == [inspect.Parameter.empty, 1.0, None, False]
    every = inspect.signature(lib.every_default).parameters
    assert {name: p.default for name, p in every.items()} == {
        "tags": [], "counts": {}, "kind": lib.Kind.User, "pair": (1, "a"), "shift": -5,
        "names": ["x", "y"], "big": 2**128 - 1, "text": 'tab\there "quoted" */',
    }
    assert str(inspect.signature(lib.Greeter.greet)) == "(self, name: str, times: int = 1) -> str"
    assert str(inspect.signature(lib.Greeter)) == "(greeting: str = 'Hello') -> None"


def test_calls_fill_in_defaults(any_lib) -> None:
    assert any_lib.greet_times("bo") == "hello bo!"
    assert any_lib.greet_times("bo", 2) == "hello bo hello bo!"
    assert any_lib.greet_times("bo", end="?") == "hello bo?"
    assert any_lib.greet_times(name="bo", times=0, end=".") == "."
    assert list(any_lib.scaled([0.5, 2.0])) == [0.5, 2.0]
    assert list(any_lib.scaled([0.5, 2.0], clamp=True)) == [0.5, 1.0]
    assert list(any_lib.scaled([1.0], 2.0, 0.5)) == [2.5]
    assert any_lib.every_default() == '[] [] User (1, "a") -5 ["x", "y"] 340282366920938463463374607431768211455 ' \
                                      '"tab\\there \\"quoted\\" */"'
    assert any_lib.every_default(["t"], {"b": 2, "a": 1}, any_lib.Kind.Admin, (2, "b"), 0, [], 0, "") == \
        '["t"] [("a", 1), ("b", 2)] Admin (2, "b") 0 [] 0 ""'


def test_defaults_are_checked_like_arguments(any_lib) -> None:
    with pytest.raises(TypeError, match=r"argument 'times' \(u32\) must be an int, not str"):
        any_lib.greet_times("bo", "x")
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'name'"):
        any_lib.greet_times()
    with pytest.raises(TypeError, match="unexpected keyword argument 'time'"):
        any_lib.greet_times("bo", time=2)


def test_default_lists_are_not_shared_state(any_lib) -> None:
    # A default list is never handed to Rust by reference nor changed.
    before = inspect.signature(any_lib.every_default).parameters["names"].default
    assert any_lib.every_default().count('["x", "y"]') == 1
    assert before == ["x", "y"]


def test_methods_and_constructors_take_defaults(any_lib) -> None:
    assert any_lib.Greeter().greet("x") == "Hello x"
    assert any_lib.Greeter("Hi").greet("y", 2) == "Hi y, Hi y"
    assert any_lib.Greeter(greeting="Yo").greet(name="z", times=0) == ""


def test_record_fields_take_defaults(any_lib) -> None:
    Settings, Kind = any_lib.Settings, any_lib.Kind
    settings = Settings("api")
    assert (settings.name, settings.port, settings.role, settings.note, settings.tags) == \
        ("api", 8080, Kind.Guest, None, [])
    assert any_lib.describe_settings(settings) == \
        'Settings { name: "api", port: 8080, role: Guest, note: None, tags: [] }'
    assert Settings("a", 1, Kind.Admin, "n", ["t"]) == Settings(name="a", port=1, role=Kind.Admin, note="n", tags=["t"])
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'name'"):
        Settings()
    with pytest.raises(TypeError, match="unexpected keyword argument 'portt'"):
        Settings("a", portt=1)
    with pytest.raises(TypeError, match="takes from 2 to 6 positional arguments but 7 were given"):
        Settings("a", 1, Kind.Admin, None, [], "extra")


def test_mutable_field_defaults_are_per_instance(any_lib) -> None:
    first, second = any_lib.Settings("a"), any_lib.Settings("b")
    first.tags.append("mine")
    assert second.tags == [] and any_lib.Settings("c").tags == []


def test_trailing_option_fields_default_to_none(any_lib) -> None:
    assert any_lib.Contact("ann") == any_lib.Contact("ann", None, None)
    assert any_lib.describe_contact(any_lib.Contact("ann", phone="1")) == \
        'Contact { name: "ann", email: None, phone: Some("1") }'
    # An Option field followed by a required one has no default: Python's
    # own rule for signatures (reorder the Rust fields to give it one).
    person = inspect.signature(any_lib.Person).parameters
    assert person["email"].default is inspect.Parameter.empty


def test_help_shows_typed_fields(lib) -> None:
    assert str(inspect.signature(lib.Settings)).startswith(
        "(name: str, port: int = 8080, role: ")
    assert lib.Settings.__annotations__["port"] is int
    assert lib.Person.__annotations__["address"] is lib.Address
    text = inspect.getdoc(lib.Settings) or ""
    assert "Settings with defaults." in text
    signature = inspect.signature(lib.Shape.Rect)
    assert list(signature.parameters) == ["width", "height"]
    assert str(inspect.signature(lib.Point)) == "(x: float = 0.0, y: float = 0.0) -> None"
