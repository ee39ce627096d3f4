"""The build backend of the helper's own package (``pip install
./ffi-export-runtime/python``): a PEP 517 backend with no requirements that
packs ``ffi_export.py`` and ``ffi_export_tools.py`` into one pure wheel with
the wheel writer of ``ffi-export wheel``."""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ffi_export
import ffi_export_tools

__all__ = ["build_wheel"]

_HERE = os.path.dirname(os.path.abspath(__file__))


def build_wheel(wheel_directory: str, config_settings: Optional[Dict[str, Any]] = None,
                metadata_directory: Optional[str] = None) -> str:
    """PEP 517: writes the wheel into ``wheel_directory``; its file name."""
    files = {}
    for name in ("ffi_export.py", "ffi_export_tools.py"):
        with open(os.path.join(_HERE, name), "rb") as f:
            files[name] = f.read()
    path = ffi_export_tools.write_wheel(
        wheel_directory, "ffi-export", ffi_export.__version__, files, "py3-none-any",
        "The Python helper of ffi-export: binds libraries built with #[ffi_export::export]", pure=True)
    return os.path.basename(path)
