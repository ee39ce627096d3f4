"""Every `#[export]` type is in the library's description, whether or not
an export mentions it (the runtime's TYPES registry)."""

from __future__ import annotations


def test_types_no_export_mentions_are_present(lib) -> None:
    keys = {desc["name"] for desc in lib._description["types"].values()}
    assert {"Lonely", "Mood"} <= keys
    assert lib.Lonely(label="x").label == "x"
    assert [member.name for member in lib.Mood] == ["Calm", "Cross"]
