"""`ffi_export.load` refuses what it cannot bind, with a message naming the
missing symbol or both ABI versions: a plain C library, libc, a library
speaking another ABI version, and a file that is no library at all."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys

import pytest

import ffi_export
from conftest import ROOT, library_path

HELPER = os.path.join(ROOT, "ffi-export-runtime", "python", "ffi_export.py")


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
    assert ffi_export.ABI_VERSION == 1


def test_not_a_library_and_missing_file(tmp_path) -> None:
    junk = tmp_path / "libjunk.so"
    junk.write_text("not an ELF file")
    with pytest.raises(ffi_export.LoadError, match=r"cannot load .*libjunk\.so"):
        ffi_export.load(str(junk))
    with pytest.raises(ffi_export.LoadError, match=r"cannot load .*missing\.so"):
        ffi_export.load(str(tmp_path / "missing.so"))


def test_commands_report_load_errors(tmp_path) -> None:
    path = build_so(tmp_path, "plain2", "int one(void) { return 1; }\n")
    for command in (["stubs"], ["header"], []):
        result = subprocess.run([sys.executable, HELPER, *command, path], capture_output=True, text=True)
        assert result.returncode == 1
        assert result.stderr.startswith("ffi_export.py: LoadError: "), result.stderr
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
