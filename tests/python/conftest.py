"""Fixtures: the two cdylibs the Python tests load, built by scripts/test.sh
(built here too when missing, so `pytest tests/python` works alone)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "ffi-export-runtime", "python"))

import ffi_export  # noqa: E402

TARGET = os.environ.get("FFI_EXPORT_TARGET_DIR") or os.path.join(ROOT, "target")


def library_path(stem: str) -> str:
    """The debug build of a workspace cdylib, built on first use."""
    path = os.path.join(TARGET, "debug", f"lib{stem}.so")
    if not os.path.exists(path):
        package = {"examples": "ffi-export-examples", "ffi_export_tests": "ffi-export-tests"}[stem]
        subprocess.run(["cargo", "build", "--quiet", "-p", package], cwd=ROOT, check=True)
    return path


@pytest.fixture(scope="session")
def lib() -> ffi_export.Library:
    """The all-types test library (tests/src/lib.rs)."""
    return ffi_export.load(library_path("ffi_export_tests"))


@pytest.fixture(scope="session")
def examples_lib() -> ffi_export.Library:
    """The examples library (examples/src)."""
    return ffi_export.load(library_path("examples"))
