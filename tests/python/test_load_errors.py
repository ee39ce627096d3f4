"""`ffi_export.load` refuses what it cannot bind, with a message naming the
missing symbol or both ABI versions: a plain C library, libc, a library
speaking another ABI version, and a file that is no library at all."""

from __future__ import annotations

import copy
import ctypes
import ctypes.util
import os
import subprocess
import sys

import pytest

import ffi_export
import ffi_export_tools
from conftest import ROOT, library_path

HELPER = os.path.join(ROOT, "ffi-export-runtime", "python", "ffi_export.py")
TOOLS = os.path.join(ROOT, "ffi-export-runtime", "python", "ffi_export_tools.py")


def build_so(tmp_path, name: str, source: str) -> str:
    c_file = tmp_path / f"{name}.c"
    c_file.write_text(source)
    path = str(tmp_path / f"lib{name}.so")
    subprocess.run(["gcc", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", "-o", path, str(c_file)], check=True)
    return path


def test_plain_c_library_names_the_missing_symbol(tmp_path) -> None:
    path = build_so(tmp_path, "plain", "int add(int a, int b) { return a + b; }\n")
    with pytest.raises(ffi_export.LoadError) as info:
        ffi_export.load(path)
    message = str(info.value)
    assert path in message
    assert "was not built with ffi-export" in message
    assert "'ffi_export_abi_version'" in message
    assert isinstance(info.value, ImportError)


def test_libc_is_refused() -> None:
    libc = ctypes.util.find_library("c")
    assert libc is not None
    with pytest.raises(ffi_export.LoadError, match="no 'ffi_export_abi_version' symbol"):
        ffi_export.load(libc)


def test_other_abi_version_names_both_versions(tmp_path) -> None:
    path = build_so(tmp_path, "future", (
        "#include <stdint.h>\n"
        "uint32_t ffi_export_abi_version(void) { return 99; }\n"
        'const char *ffi_export_describe(void) { return "{}"; }\n'
    ))
    with pytest.raises(ffi_export.LoadError) as info:
        ffi_export.load(path)
    message = str(info.value)
    assert f"speaks ffi-export ABI version 99, but this helper (ffi_export.py {ffi_export.__version__}) " \
           f"speaks version {ffi_export.ABI_VERSION}" in message
    # The helper and the runtime crate this checkout builds speak one version.
    built = ctypes.CDLL(library_path("ffi_export_tests")).ffi_export_abi_version
    built.restype = ctypes.c_uint32
    assert ffi_export.ABI_VERSION == built() == 4


def test_not_a_library_and_missing_file(tmp_path) -> None:
    junk = tmp_path / "libjunk.so"
    junk.write_text("not an ELF file")
    with pytest.raises(ffi_export.LoadError, match=r"cannot load .*libjunk\.so"):
        ffi_export.load(str(junk))
    with pytest.raises(ffi_export.LoadError, match=r"cannot load .*missing\.so"):
        ffi_export.load(str(tmp_path / "missing.so"))


def test_commands_report_load_errors(tmp_path) -> None:
    path = build_so(tmp_path, "plain2", "int one(void) { return 1; }\n")
    for script in (HELPER, TOOLS):
        for command in (["stubs"], ["header"], []):
            result = subprocess.run([sys.executable, script, *command, path], capture_output=True, text=True)
            assert result.returncode == 1
            assert result.stderr.startswith(f"{os.path.basename(script)}: LoadError: "), result.stderr
            assert "no 'ffi_export_abi_version' symbol" in result.stderr and "Traceback" not in result.stderr


def test_load_package_without_a_library(tmp_path) -> None:
    package = tmp_path / "emptypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(ffi_export.LoadError, match="holds no library built with ffi-export"):
            ffi_export.load_package("emptypkg")
        with pytest.raises(ffi_export.LoadError, match="no installed package 'no_such_package_xyz'"):
            ffi_export.load_package("no_such_package_xyz")
        os.symlink(library_path("examples"), package / "libexamples.so")
        assert ffi_export.load_package("emptypkg").add(1, 2) == 3
    finally:
        sys.path.remove(str(tmp_path))


def test_unknown_type_kinds_are_load_errors(monkeypatch) -> None:
    """Every kind is looked up in one registry: an unknown one is a
    LoadError wherever it appears, never a silent fallback."""
    with pytest.raises(ffi_export.LoadError, match="unknown kind 'future'"):
        ffi_export._kind({"kind": "future", "output": {"kind": "unit"}})
    with pytest.raises(ffi_export.LoadError, match="unknown kind None"):
        ffi_export._kind({"name": "i32"})
    with pytest.raises(ffi_export.LoadError, match="unknown scalar type 'i256'"):
        ffi_export._kind({"kind": "scalar", "name": "i256"})
    # A named type of an unknown kind: the library's types cannot be made.
    with pytest.raises(ffi_export.LoadError, match="unknown kind 'union'"):
        ffi_export._Types({"m::U": {"kind": "union", "name": "U", "module": "m", "doc": ""}}, "m")
    with pytest.raises(ffi_export.LoadError, match="'string' is not the kind of a named type"):
        ffi_export._Types({"m::S": {"kind": "string"}}, "m")
    # An export with a parameter of an unknown kind: that export alone is
    # unbound (it raises NotImplementedError), and the tools refuse it.
    real_bind = ffi_export._Binder.bind

    def bind(self: ffi_export._Binder, export: dict) -> object:
        if export["name"] == "reverse":
            export = dict(export, params=[{"name": "text", "type": {"kind": "future"}}])
        return real_bind(self, export)

    monkeypatch.setattr(ffi_export._Binder, "bind", bind)
    with pytest.warns(RuntimeWarning, match="reverse: .*unknown kind 'future'"):
        library = ffi_export.Library(library_path("ffi_export_tests"))
    assert library.echo_i64(3) == 3
    with pytest.raises(NotImplementedError, match="unknown kind 'future'"):
        library.reverse("abc")
    description = dict(library._description)
    description["exports"] = [dict(e, returns={"kind": "future"}) if e["name"] == "reverse" else e
                              for e in description["exports"]]
    with pytest.raises(ffi_export.LoadError, match="unknown kind 'future'"):
        ffi_export_tools.generate_stub(description)
    with pytest.raises(ffi_export.LoadError, match="unknown kind 'future'"):
        ffi_export_tools.generate_header(description)


def test_abi_structs_are_checked_against_the_library(monkeypatch) -> None:
    """The helper's ctypes mirrors of the runtime's ABI structs agree with
    the library's own description of them (`abi_types`), or loading fails;
    the C header's definitions are written from that description."""
    described = ffi_export.load(library_path("ffi_export_tests"))._description["abi_types"]
    # The structs the helper uses (the library may describe more).
    assert {"FfiBuffer", "FfiOption", "FfiError", "FfiCallback", "FfiAllocator"} <= {d["name"] for d in described}
    ffi_export._check_abi_types(described)
    grown = copy.deepcopy(described)
    error = next(d for d in grown if d["name"] == "FfiError")
    error["fields"].append({"name": "backtrace", "c_type": "FfiBuffer", "offset": 64})
    error["size"] = 88
    with pytest.raises(ffi_export.LoadError, match=r"FfiError \(.*FfiBuffer backtrace @64; size 88, align 8\) "
                                                   "differs from this helper's"):
        ffi_export._check_abi_types(grown)
    moved = copy.deepcopy(described)
    next(d for d in moved if d["name"] == "FfiOption")["fields"][1]["offset"] = 4
    with pytest.raises(ffi_export.LoadError, match="FfiOption"):
        ffi_export._check_abi_types(moved)
    retyped = copy.deepcopy(described)
    next(d for d in retyped if d["name"] == "FfiCallback")["fields"][0]["c_type"] = "size_t"
    with pytest.raises(ffi_export.LoadError, match="FfiCallback"):
        ffi_export._check_abi_types(retyped)
    with pytest.raises(ffi_export.LoadError, match="does not describe the ABI struct FfiBuffer"):
        ffi_export._check_abi_types([d for d in described if d["name"] != "FfiBuffer"])
    # The header defines every struct the library describes, checking each
    # layout, and follows the description (here, the grown FfiError).
    description = ffi_export.load(library_path("ffi_export_tests"))._description
    header = ffi_export_tools.generate_header(description)
    for desc in described:
        if not desc["generic"]:
            assert f"typedef struct {desc['name']} {{ " in header
            assert f"FFI_EXPORT_LAYOUT(sizeof({desc['name']}) == {desc['size']}, {desc['name']}_size);" in header
    header = ffi_export_tools.generate_header(dict(description, abi_types=grown))
    assert "typedef struct FfiError { int32_t code; int32_t variant; FfiBuffer message; FfiBuffer type_name; " \
           "void *value; FfiBuffer backtrace; } FfiError;" in header
    assert "FFI_EXPORT_LAYOUT(sizeof(FfiError) == 88, FfiError_size);" in header
    # Loading checks: a helper whose struct disagrees with the library's is
    # refused, naming both layouts.
    monkeypatch.setitem(ffi_export._ABI_STRUCTS, "FfiCallback",
                        [("call", "void *"), ("context", "void *"), ("flags", "uint32_t")])
    with pytest.raises(ffi_export.LoadError, match=r"ffi_export_tests\.so: the library's FfiCallback "
                                                   r"\(void \* call @0, void \* context @8; size 16, align 8\) "
                                                   r"differs from this helper's \(.*uint32_t flags @16; size 24"):
        ffi_export.Library(library_path("ffi_export_tests"))
