"""Build step of the greeter wheel: builds the cdylib with cargo and puts it
in the package with the ffi-export helper, a typed module and its stubs.

Environment:
  FFI_EXPORT_LIB   a library built beforehand: package it, do not run cargo
  CARGO_PROFILE    the cargo profile (default "release"; "dev" for debug builds)
  CARGO_TARGET_DIR where cargo builds (cargo's own variable)
"""

import json
import os
import shutil
import subprocess
import sys

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py
from setuptools.command.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "greeter"  # the Python package (a directory holding py.typed)
LIBRARY = {"linux": "libgreeter.so", "darwin": "libgreeter.dylib", "win32": "greeter.dll"}.get(
    sys.platform, "libgreeter.so"
)


def cargo(*args):
    return subprocess.run(["cargo", *args], cwd=HERE, check=True, stdout=subprocess.PIPE, text=True).stdout


def built_library():
    """The cdylib: FFI_EXPORT_LIB, or a fresh `cargo build`."""
    if os.environ.get("FFI_EXPORT_LIB"):
        return os.environ["FFI_EXPORT_LIB"]
    profile = os.environ.get("CARGO_PROFILE", "release")
    cargo("build", "--quiet", "--lib", "--profile", profile)
    metadata = json.loads(cargo("metadata", "--format-version", "1", "--no-deps"))
    directory = "debug" if profile == "dev" else profile
    return os.path.join(metadata["target_directory"], directory, LIBRARY)


def helper_dir():
    """The directory of ffi_export.py (and ffi_export_tools.py) in the
    ffi-export-runtime crate this crate builds with (a path, git or
    crates.io dependency: cargo metadata knows where it is), so the helper
    always matches the library's ABI."""
    metadata = json.loads(cargo("metadata", "--format-version", "1"))
    for package in metadata["packages"]:
        if package["name"] == "ffi-export-runtime":
            return os.path.join(os.path.dirname(package["manifest_path"]), "python")
    raise SystemExit("greeter: ffi-export-runtime is not among the crate's dependencies")


class BuildWithCargo(build_py):
    def run(self):
        super().run()
        target = os.path.join(self.build_lib, PACKAGE)
        os.makedirs(target, exist_ok=True)
        library = os.path.join(target, LIBRARY)
        shutil.copy(built_library(), library)
        source = helper_dir()
        # The helper (all the package needs at run time) ...
        shutil.copy(os.path.join(source, "ffi_export.py"), os.path.join(target, "ffi_export.py"))
        # ... and, from its tools (not shipped): greeter/__init__.py (typed
        # module loading the library next to it), greeter/__init__.pyi and
        # greeter/ffi_export.pyi.
        subprocess.run(
            [sys.executable, os.path.join(source, "ffi_export_tools.py"), "stubs", library, "--vendored",
             "--module", os.path.join(target, "__init__.py"), "--helper-stub", target],
            check=True,
        )


class PlatformWheel(bdist_wheel):
    """The wheel holds a native library: tag it for this platform (any
    Python 3: the library does not link libpython)."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


class NativeDistribution(Distribution):
    """Holds a native library: installed as platform-specific (platlib)."""

    def has_ext_modules(self):
        return True


setup(distclass=NativeDistribution, cmdclass={"build_py": BuildWithCargo, "bdist_wheel": PlatformWheel})
