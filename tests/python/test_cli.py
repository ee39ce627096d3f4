"""The `ffi-export` command (help, errors, pipes), the helper installed with
pip, and `ffi-export wheel`: one wheel built once, installed into fresh venvs
of CPython 3.9, 3.11, 3.13 and PyPy, each running a client of it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT, TARGET, library_path
from interpreters import find_interpreter
from test_packaging import copy_project

CLI = os.path.join(TARGET, "debug", "ffi-export")
COMMANDS = ("wheel", "describe", "stubs", "header", "python-helper", "help")


@pytest.fixture(scope="module")
def cli() -> str:
    """The command, built by scripts/test.sh (here too when missing)."""
    if not os.path.exists(CLI):
        subprocess.run(["cargo", "build", "--quiet", "-p", "ffi-export"], cwd=ROOT, check=True)
    return CLI


def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=600, **kwargs)  # type: ignore[call-overload, no-any-return]


@pytest.mark.parametrize("flag", ["--help", "-h", "help"])
def test_help_describes_every_command_on_stdout(cli: str, flag: str) -> None:
    result = run(cli, flag)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("ffi-export: the companion command of ffi-export")
    for command in COMMANDS:
        assert f"\n  {command}" in result.stdout, command
    assert "--python PYTHON" in result.stdout and "--version" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    ((), "no command given"),
    (("bogus",), "unknown command `bogus`"),
    (("python-helper", "a", "b"), "python-helper takes one optional DIR"),
    (("describe", "--python"), "--python needs a value"),
])
def test_usage_errors_exit_2_on_stderr_with_a_pointer_to_help(cli: str, args: tuple[str, ...], message: str) -> None:
    result = run(cli, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"ffi-export: {message}\nRun `ffi-export --help` for the commands.\n"


def test_a_subcommands_own_help(cli: str) -> None:
    result = run(cli, "stubs", "--help", "--python", sys.executable)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ffi-export stubs")


def test_describe_through_the_command(cli: str) -> None:
    result = run(cli, "describe", library_path("ffi_export_tests"), "--python", sys.executable)
    assert result.returncode == 0, result.stderr
    assert "add_into: fn add_into(a: &[i32], b: &[i32], out: &mut [i32]) -> Result<(), Error>\n" in result.stdout


def test_a_load_error_is_one_line_and_exit_1(cli: str, tmp_path: object) -> None:
    result = run(cli, "describe", "/nonexistent/libnothing.so", "--python", sys.executable)
    assert result.returncode == 1
    assert result.stderr.startswith("ffi-export: LoadError: ") and result.stderr.count("\n") == 1, result.stderr


@pytest.mark.parametrize("command", [
    [CLI, "describe", "{lib}", "--python", sys.executable],
    [sys.executable, os.path.join(ROOT, "ffi-export-runtime", "python", "ffi_export.py"), "describe", "{lib}"],
    [CLI, "--help"],
])
def test_a_closed_pipe_ends_quietly(cli: str, command: list[str]) -> None:
    argv = [part.replace("{lib}", library_path("ffi_export_tests")) for part in command]
    # `... | head -1`: the reader leaves after one line.
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        errors = process.stderr.read()
        status = process.wait(timeout=120)
    assert first
    assert errors == b""
    assert status == 0


def test_python_helper_writes_both_files(cli: str, tmp_path: object) -> None:
    target = os.path.join(str(tmp_path), "vendored")
    result = run(cli, "python-helper", target)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(target)) == ["ffi_export.py", "ffi_export_tools.py"]
    with open(os.path.join(target, "ffi_export.py")) as f, \
            open(os.path.join(ROOT, "ffi-export-runtime", "python", "ffi_export.py")) as original:
        assert f.read() == original.read()


#: A fresh venv's own environment: no PYTHONPATH (the test command points it
#: at the checkout's helper, which would shadow the installed one).
CLEAN_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


def fresh_venv(python: str, directory: str) -> str:
    """A new venv of ``python``; its interpreter."""
    subprocess.run([python, "-m", "venv", directory], check=True, timeout=300, capture_output=True, env=CLEAN_ENV)
    return os.path.join(directory, "bin", "python")


def pip_install(venv_python: str, what: str) -> None:
    subprocess.run([venv_python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index",
                    what], check=True, timeout=300, env=CLEAN_ENV)


def test_the_helper_installs_with_pip(tmp_path: object) -> None:
    python = fresh_venv(sys.executable, os.path.join(str(tmp_path), "venv"))
    source = os.path.join(str(tmp_path), "helper")
    # A copy: building must not write into the checkout.
    shutil.copytree(os.path.join(ROOT, "ffi-export-runtime", "python"), source,
                    ignore=shutil.ignore_patterns("__pycache__", "build"))
    pip_install(python, source)
    elsewhere = str(tmp_path)
    result = run(python, "-c", "import ffi_export, ffi_export_tools; print(ffi_export.__file__)", cwd=elsewhere,
                 env=CLEAN_ENV)
    assert result.returncode == 0, result.stderr
    assert "site-packages" in result.stdout
    result = run(python, "-m", "ffi_export", "describe", library_path("ffi_export_tests"), cwd=elsewhere,
                 env=CLEAN_ENV)
    assert result.returncode == 0, result.stderr
    assert "add_into: fn add_into(a: &[i32], b: &[i32], out: &mut [i32]) -> Result<(), Error>\n" in result.stdout


@pytest.fixture(scope="module")
def wheel(cli: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """`ffi-export wheel` of examples/packaging (a crate of its own), built once."""
    project = copy_project(tmp_path_factory)
    out = str(tmp_path_factory.mktemp("dist"))
    # The workspace's target directory and dev profile: the dependency
    # builds are reused, so this takes seconds and needs no network.
    env = dict(os.environ, CARGO_TARGET_DIR=TARGET, CARGO_NET_OFFLINE="true")
    result = run(cli, "wheel", project, "-o", out, "--profile", "dev", "--name", "greeter_app",
                 "--python", sys.executable, env=env)
    assert result.returncode == 0, result.stderr
    path = result.stdout.strip()
    assert path == os.path.join(out, "greeter_app-0.1.0-py3-none-linux_x86_64.whl")
    return path


def test_the_wheel_holds_the_package(wheel: str) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    package = {"__init__.py", "__init__.pyi", "ffi_export.py", "ffi_export.pyi", "py.typed", "libgreeter.so"}
    info = {"METADATA", "WHEEL", "RECORD"}
    assert names == {f"greeter_app/{n}" for n in package} | {f"greeter_app-0.1.0.dist-info/{n}" for n in info}
    wheel_file = zipfile.ZipFile(wheel).read("greeter_app-0.1.0.dist-info/WHEEL").decode()
    assert "Root-Is-Purelib: false\nTag: py3-none-linux_x86_64\n" in wheel_file


CLIENT = """
import greeter_app
print(greeter_app.greet("Ada"))
with greeter_app.Guestbook() as book:
    print(book.sign("Bo"))
print(greeter_app.__file__.endswith("site-packages/greeter_app/__init__.py"))
"""


@pytest.mark.parametrize("version", ["3.9", "3.11", "3.13", "pypy3"])
def test_one_wheel_installs_and_runs_under_every_python(wheel: str, version: str, tmp_path: object) -> None:
    python = fresh_venv(find_interpreter(version), os.path.join(str(tmp_path), "venv"))
    pip_install(python, wheel)
    result = run(python, "-c", CLIENT, cwd=str(tmp_path), env=CLEAN_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello, Ada!\nVisit(name='Bo', times=1)\nTrue\n"


def test_wheel_refuses_a_crate_without_a_cdylib(cli: str, tmp_path: object) -> None:
    result = run(cli, "wheel", os.path.join(ROOT, "ffi-export-macros"), "--python", sys.executable)
    assert result.returncode == 1
    assert "builds no cdylib" in result.stderr
