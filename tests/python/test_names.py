"""Names: how exports and types are named in the description, in Python
(`help`, signatures) and by the tools (`describe`, the C header)."""

from __future__ import annotations

import os
import subprocess
import sys

import ffi_export_tools
from conftest import ROOT, library_path

TOOLS = os.path.join(ROOT, "ffi-export-runtime", "python", "ffi_export_tools.py")


def describe_lines(stem: str) -> list[str]:
    result = subprocess.run([sys.executable, TOOLS, "describe", library_path(stem)],
                            capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


# -- Borrowed record parameters: `&Person`, not `Person`


def test_the_description_says_which_parameters_are_borrowed(lib) -> None:
    [person] = lib.exports["describe_person"]["params"]
    assert person["borrowed"] is True
    by_value, by_ref = lib.exports["midpoint"]["params"]
    assert "borrowed" not in by_value  # written only when true
    assert by_ref["borrowed"] is True
    # `&str` and slices say so in their type; the flag is for `&R` only.
    assert all("borrowed" not in p for p in lib.exports["add_into"]["params"])


def test_help_and_docstrings_show_the_borrow(lib, capsys) -> None:
    assert lib.describe_person.__doc__.endswith("Rust: ``fn describe_person(person: &Person) -> String``")
    help(lib.midpoint)
    assert "Rust: ``fn midpoint(a: Point, b: &Point) -> Point``" in capsys.readouterr().out
    assert lib.area.__doc__.endswith("Rust: ``fn area(shape: &Shape) -> f64``")


def test_describe_and_the_header_show_the_borrow(lib) -> None:
    lines = describe_lines("ffi_export_tests")
    assert "describe_person: fn describe_person(person: &Person) -> String" in lines
    assert "count_nodes: fn count_nodes(tree: &Tree) -> u32" in lines
    assert "birthday: fn birthday(person: Person) -> Person" in lines
    header = ffi_export_tools.generate_header(lib._description, "libffi_export_tests.so")
    assert "    const Person_repr *person /* &Person: copied in, not NULL */);" in header.splitlines()


# -- Rust names: the signature is the Rust function's, whatever its C name


def test_a_renamed_export_keeps_its_rust_name(lib) -> None:
    export = lib.exports["renamed_export"]
    assert (export["name"], export["rust_name"]) == ("renamed_export", "original_name")
    assert lib.renamed_export.__doc__.endswith("Rust: ``fn original_name() -> u8``")
    assert "renamed_export: fn original_name() -> u8" in describe_lines("ffi_export_tests")
    assert lib.exports["Counter_get"]["rust_name"] == "get"


# -- An object's C prefix: `#[export(name = "SpriteCanvas")] impl Canvas`


def test_a_renamed_object_exports_under_its_prefix(lib) -> None:
    symbols = {name for name in lib.exports if name.startswith(("SpriteCanvas_", "Canvas_"))}
    assert symbols >= {"SpriteCanvas_new", "SpriteCanvas_place", "SpriteCanvas_width"}
    assert hasattr(lib._cdll, "SpriteCanvas_free")
    assert lib.exports["SpriteCanvas_place"]["rust_name"] == "place"
    with lib.Canvas(8) as canvas:
        assert (canvas.place(3), canvas.place(4), canvas.width()) == (1, 2, 8)
    assert lib.Canvas.place.__name__ == "place"
    assert lib.Canvas.place.__doc__.endswith("Rust: ``fn place(&mut self, tile: u16) -> usize``")


def test_a_renamed_object_in_the_header_and_cffi(lib) -> None:
    import cffi

    header = ffi_export_tools.generate_header(lib._description, "libffi_export_tests.so", cdef=True)
    lines = header.splitlines()
    assert "typedef uint64_t SpriteCanvas_handle;" in lines
    assert "void SpriteCanvas_free(SpriteCanvas_handle handle);" in lines
    ffi = cffi.FFI()
    ffi.cdef(header)
    c = ffi.dlopen(library_path("ffi_export_tests"))
    canvas = c.SpriteCanvas_new(5)
    assert (c.SpriteCanvas_place(canvas, 9), c.SpriteCanvas_width(canvas)) == (1, 5)
    c.SpriteCanvas_free(canvas)
