"""examples/packaging: the recipe's wheel (cdylib + helper + typed module +
stubs, built by setuptools with a cargo build step) installs into a fresh
venv, imports by package name without any .so path, and type-checks."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, TARGET

TEMPLATE = os.path.join(ROOT, "examples", "packaging")


def copy_project(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of examples/packaging depending on this checkout, with the
    workspace's lock file (with the workspace's target directory, the same
    dependency builds are reused: seconds, no network)."""
    project = str(tmp_path_factory.mktemp("project") / "greeter")
    shutil.copytree(TEMPLATE, project, ignore=shutil.ignore_patterns("build", "dist", "*.egg-info", "target"))
    manifest = os.path.join(project, "Cargo.toml")
    with open(manifest) as f:
        text = f.read()
    assert '"../../ffi-export"' in text
    with open(manifest, "w") as f:
        f.write(text.replace('"../../ffi-export"', '"' + os.path.join(ROOT, "ffi-export") + '"'))
    shutil.copy(os.path.join(ROOT, "Cargo.lock"), project)
    return project


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> str:
    project = copy_project(tmp_path_factory)
    env = dict(os.environ, CARGO_TARGET_DIR=TARGET, CARGO_PROFILE="dev", CARGO_NET_OFFLINE="true")
    dist = os.path.join(project, "dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
                    "--no-build-isolation", "--no-deps", "-w", dist, project],
                   check=True, env=env, timeout=900)
    (path,) = glob.glob(os.path.join(dist, "greeter-0.1.0-py3-none-*.whl"))
    return path


@pytest.fixture(scope="module")
def venv(wheel: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    directory = str(tmp_path_factory.mktemp("venv") / "fresh")
    subprocess.run([sys.executable, "-m", "venv", directory], check=True, timeout=300)
    python = os.path.join(directory, "bin", "python")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index", wheel],
                   check=True, timeout=300)
    return python


def test_wheel_contents(wheel: str) -> None:
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"greeter/__init__.py", "greeter/__init__.pyi", "greeter/ffi_export.py", "greeter/ffi_export.pyi",
            "greeter/py.typed", "greeter/libgreeter.so"} <= names


def run(python: str, cwd: str, code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FFI_EXPORT_TARGET_DIR")}
    result = subprocess.run([python, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_installed_package_imports_by_name(venv: str, tmp_path) -> None:
    out = run(venv, str(tmp_path), """
import os, greeter
from greeter import ffi_export
print(greeter.greet("Ada"))
print(os.path.dirname(greeter.library.path) == os.path.dirname(greeter.__file__))
with greeter.Guestbook() as book:
    book.sign("Bo")
    print(book.sign("Bo"), book.visits())
    try:
        book.sign("")
    except greeter.errors.EmptyName as error:
        print("EmptyName:", error, isinstance(error, ffi_export.FfiError))
print(ffi_export.load_package("greeter").greet("Cy"))
print(greeter.greet.__doc__.splitlines()[0])
""")
    assert out.splitlines() == [
        "Hello, Ada!",
        "True",
        "Visit(name='Bo', times=2) [Visit(name='Bo', times=2)]",
        "EmptyName: the name is empty True",
        "Hello, Cy!",
        "Greets `name`.",
    ]


def test_installed_package_type_checks(venv: str, tmp_path) -> None:
    client = tmp_path / "client.py"
    client.write_text(
        "import greeter\n\n"
        "text: str = greeter.greet('Ada')\n"
        "with greeter.Guestbook() as book:\n"
        "    visit: greeter.Visit = book.sign('Bo')\n"
        "    times: int = visit.times\n"
    )
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-executable", venv]
    result = subprocess.run([*command, str(client)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    client.write_text("import greeter\n\ngreeter.greet(1)\n")
    result = subprocess.run([*command, str(client)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 1 and 'incompatible type "int"; expected "str"' in result.stdout, result.stdout
