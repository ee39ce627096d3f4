"""Shared by the example clients: where the examples library is."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# The helper ships in the runtime crate; a downstream project writes its own
# copy with `cargo run -p ffi-export -- python-helper DIR`.
sys.path.insert(0, os.path.join(ROOT, "ffi-export-runtime", "python"))

import ffi_export  # noqa: E402


def library() -> ffi_export.Library:
    """Loads the examples cdylib (FFI_EXPORT_EXAMPLES_LIB, else the debug build)."""
    path = os.environ.get("FFI_EXPORT_EXAMPLES_LIB") or os.path.join(
        ROOT, "target", "debug", "libexamples.so"
    )
    return ffi_export.load(path)
