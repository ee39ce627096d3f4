"""Names: where exports and types are reached from Python (same names in
two Rust modules, `lib.geometry.Spot` and `lib.sprites.Spot`), how the
description, `help`, `describe`, the C header and the typed stubs name
them, and that `dir()`, `getattr` and `__module__`/`__qualname__` agree."""

from __future__ import annotations

import ast
import functools
import os
import re
import subprocess
import sys
import textwrap
import warnings

import pytest

import ffi_export
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
    cell = lib.sprites.Cell(sheet=1, tile=2)
    with lib.sprites.Canvas(8) as canvas:
        assert (canvas.place(cell), canvas.place(cell), canvas.width()) == (1, 2, 8)
    assert lib.sprites.Canvas.place.__name__ == "place"
    assert lib.sprites.Canvas.place.__doc__.endswith("Rust: ``fn place(&mut self, cell: &Cell) -> usize``")


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
    cell = ffi.new("sprites_Cell *", {"sheet": 1, "tile": 9})
    assert (c.SpriteCanvas_place(canvas, cell), c.SpriteCanvas_width(canvas)) == (1, 5)
    c.SpriteCanvas_free(canvas)


# -- Same names in two Rust modules: each reached by its module path


def test_same_named_items_are_reached_by_module_path(lib) -> None:
    g, s = lib.geometry, lib.sprites
    assert g.Spot is not s.Spot and g.Spot is not g.solid.Spot
    assert g.Spot(x=1.0, y=2.0).x == 1.0 and s.Spot(px=1, py=2, layer=s.Layer.Air).px == 1
    assert g.solid.lift(g.Spot(x=1.0, y=2.0), 3.0) == g.solid.Spot(x=1.0, y=2.0, z=3.0)
    assert g.distance(g.Spot(x=0.0, y=0.0), b=g.Spot(x=3.0, y=4.0)) == 5.0
    assert g.flip(g.Layer.Back) is g.Layer.Front and [m.name for m in s.Layer] == ["Ground", "Air", "Overlay"]
    assert g.figure_area(g.Figure.Square(side=3.0)) == 9.0 and s.tile_of(s.Figure.Tile(s.Cell(1, 7))) == 7
    assert s.first_cell((s.Cell * 2)(s.Cell(1, 2), s.Cell(3, 4))) == s.Cell(sheet=1, tile=2)
    assert g.cell_of(g.Spot(x=2.5, y=1.5)) == g.Cell(row=1, col=2)
    with g.Canvas() as plane, s.Canvas(4) as screen:
        assert (plane.draw(g.Spot(x=1.0, y=1.0)), plane.last()) == (1, g.Spot(x=1.0, y=1.0))
        assert screen.place(s.Cell(0, 1)) == 1
    # Both modules' types in one signature, at the crate root.
    assert lib.to_screen(g.Spot(x=1.4, y=2.6), s.Layer.Air) == s.Spot(px=1, py=-3, layer=s.Layer.Air)


def test_functions_are_at_their_module_path_and_by_c_name(lib) -> None:
    # Three Rust functions named `area`: C names `area`, `geometry_area`, `sprites_area`.
    assert lib.shapes.area is lib.area and lib.geometry.area is lib.geometry_area
    assert lib.sprites.area is lib.sprites_area
    assert (lib.geometry.area(2, 3), lib.sprites.area(2, 3)) == (6.0, 6)
    assert lib.exports["sprites_area"]["rust_name"] == "area"
    assert lib.sprites.area.__doc__.endswith("Rust: ``fn area(w: u32, h: u32) -> u64``")
    # Every function of a module, and only those, is in its namespace.
    assert {n for n in dir(lib.sprites) if not n.startswith("_") and callable(getattr(lib.sprites, n))
            and not isinstance(getattr(lib.sprites, n), type)} == {"area", "first_cell", "spot", "tile_of"}


def test_a_unique_name_stays_flat_and_a_shared_one_never_picks_one(lib) -> None:
    # Unique: flat and at the module path, the same class.
    assert lib.Person is lib.rich.Person is lib.types.Person
    assert lib.Lonely is lib.unmentioned.Lonely and lib.make_person is lib.rich.make_person
    # The crate root's own `Badge` is `lib.Badge` (its module path is the top).
    assert lib.Badge is not lib.sprites.Badge and lib.badge_twice(lib.Badge(text="ab")) == "abab"
    assert lib.sprites.Badge(icon=3).icon == 3
    # Shared by types of nested modules: no flat name, and saying where they are.
    for name, paths in [("Spot", "lib.geometry.Spot, lib.geometry.solid.Spot, lib.sprites.Spot"),
                        ("Canvas", "lib.geometry.Canvas, lib.sprites.Canvas")]:
        for space in (lib, lib.types):
            with pytest.raises(AttributeError, match=f"'{name}' names .* types of .*: {re.escape(paths)}; "):
                getattr(space, name)
    assert "Spot" not in dir(lib) and "Badge" not in dir(lib.types)


def test_a_type_of_one_module_is_refused_for_the_other(lib) -> None:
    g, s = lib.geometry, lib.sprites
    with pytest.raises(TypeError, match=r"argument 'a' must be a geometry\.Spot, not sprites\.Spot"):
        g.distance(s.Spot(px=1, py=2, layer=s.Layer.Air), g.Spot(x=1.0, y=2.0))
    with pytest.raises(TypeError, match=r"must be a geometry\.Layer or its int value, not sprites\.Layer"):
        g.flip(s.Layer.Air)
    with pytest.raises(TypeError, match=r"must be one of sprites\.Figure\.Blank, sprites\.Figure\.Tile"):
        s.tile_of(g.Figure.Dot())
    assert repr(g.Spot(x=1.0, y=2.0)) == "geometry.Spot(x=1.0, y=2.0)"
    assert repr(s.Figure.Tile(s.Cell(1, 2))) == "sprites.Figure.Tile(_0=sprites.Cell(sheet=1, tile=2))"
    assert repr(lib.Person).startswith("<class") and repr(lib.Address("Paris", None)) == (
        "Address(city='Paris', zip=None)")


def test_every_type_is_present_mentioned_or_not(lib) -> None:
    # `Mood`, `Lonely` and `sprites::Badge` are in no signature.
    description = lib._description
    for key, desc in description["types"].items():
        cls = lib._types.classes[key]
        path = lib._types.named.python_path(key)
        assert functools.reduce(getattr, path.split("."), lib) is cls, key
    assert {"Mood", "Lonely", "Badge"} <= {d["name"] for d in description["types"].values()}
    assert lib.unmentioned.Mood.Calm == 0


# -- dir() lists exactly what getattr returns


@pytest.mark.parametrize("where", ["lib", "lib.geometry", "lib.geometry.solid", "lib.types"])
def test_dir_lists_what_getattr_returns(lib, where: str) -> None:
    space = functools.reduce(getattr, where.split(".")[1:], lib)
    listed = set(dir(space))
    for name in listed:
        getattr(space, name)  # raises if listed but missing
    public = {name for name in vars(space) if not name.startswith("_")}
    public |= {name for name in vars(type(space)) if not name.startswith("_")}
    assert public <= listed


def test_method_symbols_are_not_library_attributes(lib) -> None:
    methods = [name for name, export in lib.exports.items() if export["owner"]]
    assert "Counter_get" in methods and "SpriteCanvas_place" in methods
    assert not set(methods) & set(dir(lib))
    with pytest.raises(AttributeError, match="'Counter_get' is the C symbol of the method Counter.get: "
                                             "call it on lib.Counter"):
        lib.Counter_get
    with pytest.raises(AttributeError, match="'SpriteCanvas_place' is the C symbol of the method "
                                             r"sprites\.Canvas\.place"):
        lib.SpriteCanvas_place
    with pytest.raises(AttributeError, match=r"lib\.geometry \(ffi_export_tests::geometry in .*\) has no 'nope'; "
                                             "it has: Canvas, Cell, Figure, Layer, Spot, area, cell_of, "):
        lib.geometry.nope


# -- One module name: __module__ and __qualname__ say where each object is


def everything(lib) -> list:
    """Every class, variant, function, method and exception class of a library."""
    errors = list(vars(lib.errors).values())
    objects = list(lib._types.made) + list(lib._functions.values()) + errors
    objects += [variant for error in errors for variant in error._variants]
    return objects


def test_module_and_qualname_locate_every_object(lib) -> None:
    objects = everything(lib)
    assert {obj.__module__ for obj in objects} == {"libffi_export_tests"}
    for obj in objects:
        found = functools.reduce(getattr, obj.__qualname__.split("."), lib)
        assert found is obj or getattr(found, "__func__", None) is obj, obj.__qualname__
    assert lib.errors.ParseIntError.__qualname__ == "errors.ParseIntError"
    assert lib.errors.ArithmeticError.DivisionByZero.__qualname__ == "errors.ArithmeticError.DivisionByZero"
    assert lib.geometry.Figure.Square.__qualname__ == "geometry.Figure.Square"
    assert lib.geometry.Canvas.draw.__qualname__ == "geometry.Canvas.draw"
    assert lib.Shape.Circle.__qualname__ == "Shape.Circle" and lib.Counter.add.__qualname__ == "Counter.add"


def test_the_typed_module_is_the_module_of_everything(lib, tmp_path) -> None:
    description = lib._description
    (tmp_path / "names_typed.py").write_text(
        ffi_export_tools.generate_module(description, library_path("ffi_export_tests"), "names_typed"))
    script = textwrap.dedent("""
        import functools, sys
        import names_typed as t
        lib = t.library
        errors = list(vars(lib.errors).values())
        objects = list(lib._types.made) + list(lib._functions.values()) + errors
        objects += [variant for error in errors for variant in error._variants]
        assert {obj.__module__ for obj in objects} == {"names_typed"}
        for obj in objects:
            found = functools.reduce(getattr, obj.__qualname__.split("."), sys.modules[obj.__module__])
            assert found is obj or getattr(found, "__func__", None) is obj, obj.__qualname__
        try:
            t.parse_int("x")
        except t.errors.ParseIntError as error:
            print(type(error).__module__, type(error).__qualname__)
        print(t.geometry.Spot.__module__, t.geometry.Spot.__qualname__, t.Person.__qualname__)
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.path.dirname(ffi_export.__file__)]))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["names_typed errors.ParseIntError", "names_typed geometry.Spot Person"]


# -- The typed stubs have the library's structure


def stub_names(body: list) -> set:
    """The public names a .pyi class body or module defines."""
    names = set()
    for node in body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_")}


def test_the_stubs_have_the_librarys_structure(lib) -> None:
    description = lib._description
    stub = ast.parse(ffi_export_tools.generate_stub(description, "names_typed"))
    typed = ffi_export_tools.generate_module(description, library_path("ffi_export_tests"), "names_typed")
    exported = ast.literal_eval(typed.split("__all__ = ", 1)[1])
    top = {name for name in dir(lib) if not name.startswith("_")} - {"exports", "path", "types"}
    assert set(exported) == top | {"library"}
    assert stub_names(stub.body) >= top - {"match"}  # keywords are comments

    def compare(body: list, space: object, where: str) -> None:
        public = {name for name in vars(space) if not name.startswith("_")}
        assert stub_names(body) == public, where
        for node in body:
            value = getattr(space, getattr(node, "name", ""), None)
            if isinstance(node, ast.ClassDef) and isinstance(value, ffi_export._Namespace):
                compare(node.body, value, f"{where}.{node.name}")

    modules = [node for node in stub.body if isinstance(node, ast.ClassDef)
               and isinstance(getattr(lib, node.name, None), ffi_export._Namespace)]
    assert {node.name for node in modules} >= {"geometry", "sprites", "rich", "unmentioned"}
    for node in modules:
        compare(node.body, getattr(lib, node.name), f"lib.{node.name}")


def test_stub_lines_for_shared_names(lib) -> None:
    stub = ffi_export_tools.generate_stub(lib._description, "names_typed").splitlines()
    for line in [
        "class geometry:",
        "    class Spot(_Record):",
        "    class solid:",
        "        class Spot(_Record):",
        "        def lift(spot: _ns_geometry.Spot, z: float) -> _ns_geometry.solid.Spot:",
        "        class Tile(_ns_sprites.Figure):",
        "    def area(w: int, h: int) -> int:",
        "def sprites_area(w: int, h: int) -> int:",
        "def to_screen(spot: _ns_geometry.Spot, layer: _ns_sprites.Layer | int) -> _ns_sprites.Spot:",
        "def badge_twice(badge: _ty_Badge) -> str:",
        "    Person: TypeAlias = Person",
        "    Lonely: TypeAlias = Lonely",
        "_ns_geometry: TypeAlias = geometry",
        "_ty_Badge: TypeAlias = Badge",
    ]:
        assert line in stub, line


# -- The C header: shared names are qualified by their module path


def test_header_names_shared_types_by_module_path(lib) -> None:
    header = ffi_export_tools.generate_header(lib._description, "libffi_export_tests.so", cdef=True)
    types = re.findall(r"^typedef .*?\b(\w+);$", header, re.M)
    types += re.findall(r"^} (\w+);$", header, re.M)
    assert len(types) == len(set(types)), sorted(t for t in types if types.count(t) > 1)
    assert {"geometry_Spot_repr", "sprites_Spot_repr", "geometry_solid_Spot_repr", "geometry_Cell", "sprites_Cell",
            "geometry_Layer", "sprites_Layer", "geometry_Figure_repr", "sprites_Figure_repr",
            "Badge_repr", "sprites_Badge_repr", "Canvas_handle", "SpriteCanvas_handle",
            "Person_repr", "Point", "Kind"} <= set(types)
    lines = header.splitlines()
    assert "    geometry_Layer_Back = 0," in lines and "    sprites_Figure_Tile_tag = 1" in lines
    assert "    sprites_Layer layer; /* Layer */" in lines


def test_cffi_calls_both_modules(lib) -> None:
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(ffi_export_tools.generate_header(lib._description, "libffi_export_tests.so", cdef=True))
    c = ffi.dlopen(library_path("ffi_export_tests"))
    assert (c.geometry_area(2.0, 3.0), c.sprites_area(2, 3)) == (6.0, 6)
    a = ffi.new("geometry_Spot_repr *", {"x": 0.0, "y": 0.0})
    b = ffi.new("geometry_Spot_repr *", {"x": 3.0, "y": 4.0})
    assert c.distance(a, b) == 5.0
    assert c.flip(c.geometry_Layer_Back) == c.geometry_Layer_Front
    screen = ffi.new("sprites_Spot_repr *", c.spot(1, 2, c.sprites_Layer_Overlay))
    assert (screen.px, screen.layer) == (1, c.sprites_Layer_Overlay)


# -- Names taken twice in one namespace get a trailing `_`


def desc_of(module: str, name: str, kind: str = "record") -> dict:
    return {"kind": kind, "name": name, "module": module, "doc": "", "pod": False, "fields": [], "size": 0,
            "align": 1}


def fn_of(module: str, name: str, rust: str | None = None) -> dict:
    return {"name": name, "rust_name": rust or name, "module": module, "owner": None}


def test_names_taken_twice_get_a_trailing_underscore() -> None:
    types = {f"c::{n}": desc_of("c", n) for n in ("Node", "errors_thing")}
    types["c::errors::Failure"] = desc_of("c::errors", "Failure")
    types["c::tree::Node"] = desc_of("c::tree", "Node")
    exports = [fn_of("c", "path"), fn_of("c", "tree"), fn_of("c::errors", "errors_fail", "fail"),
               fn_of("c::tree", "tree_Node", "Node")]
    named = ffi_export._Named(types, exports)
    top = named.tree[()]
    # The library's own attributes first, then functions, types, modules.
    assert top["path"] == ("reserved", "path") and top["path_"][0] == "function"
    assert top["tree"][0] == "function" and top["tree_"] == ("module", ("tree",))
    assert top["errors_"] == ("module", ("errors",)) and top["errors_thing"] == ("type", "c::errors_thing")
    # A Rust function named like a type of its module (Rust allows it).
    assert named.tree[("tree",)]["Node"][0] == "function" and named.tree[("tree",)]["Node_"] == ("type", "c::tree::Node")
    assert named.python_path("c::tree::Node") == "tree_.Node_"
    assert named.python_path("c::errors::Failure") == "Failure" and named.python_path("c::Node") == "Node"
    assert named.c_names["c::tree::Node"] == "tree_Node" and named.c_names["c::Node"] == "Node"


def test_items_of_another_crate_keep_their_crate_and_c_names_stay_unique() -> None:
    types = {"app::Point": desc_of("app", "Point"), "app::geo::Point": desc_of("app::geo", "Point"),
             "app::geo_Point": desc_of("app", "geo_Point"), "dep::Point": desc_of("dep", "Point")}
    exports = [fn_of("app", "run"), fn_of("app::geo", "scale")]
    named = ffi_export._Named(types, exports)
    assert named.crate == ("app",)
    assert named.python_path("dep::Point") == "dep.Point" and named.python_path("app::Point") == "Point"
    # `geo_Point` is a type's own name: the shared `Point`s take their full paths.
    assert named.c_names == {"app::Point": "Point", "app::geo::Point": "app_geo_Point",
                             "app::geo_Point": "geo_Point", "dep::Point": "dep_Point"}
    # Joining with `_` is ambiguous: a number makes the last one unique.
    named = ffi_export._Named({"a::b_c::X": desc_of("a::b_c", "X"), "a::b::c_X": desc_of("a::b", "c_X"),
                               "a::b::c::X": desc_of("a::b::c", "X")}, [fn_of("a", "f")])
    assert named.c_names == {"a::b::c_X": "c_X", "a::b::c::X": "a_b_c_X", "a::b_c::X": "a_b_c_X_2"}


def test_the_test_library_loads_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ffi_export.Library(library_path("ffi_export_tests"))
