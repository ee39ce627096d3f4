"""A crate written from the README alone, outside this repository, builds
against `ffi-export` and is called from Python with nothing hand-written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT


def readme_files() -> dict:
    """The files the README's quickstart shows, by name."""
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    blocks = re.findall(r"<!-- quickstart:(\S+) -->\n```\w*\n(.*?)```", readme, re.S)
    return dict(blocks)


def extra_dependencies() -> list:
    """The dependencies of the tests crate other than ffi-export, as lines
    of its Cargo.toml."""
    with open(os.path.join(ROOT, "tests", "Cargo.toml")) as f:
        section = f.read().split("[dependencies]\n", 1)[1].split("\n[", 1)[0]
    lines = [line for line in section.splitlines() if line.strip() and not line.startswith("ffi-export")]
    assert lines, section
    return lines


@pytest.fixture(scope="module")
def downstream(tmp_path_factory) -> str:
    crate = str(tmp_path_factory.mktemp("mylib"))
    files = readme_files()
    assert set(files) == {"Cargo.toml", "src/lib.rs", "main.py"}
    facade = os.path.join(ROOT, "ffi-export")
    files["Cargo.toml"] = files["Cargo.toml"].replace('"../ffi-export/ffi-export"', repr(facade).replace("'", '"'))
    assert facade in files["Cargo.toml"]
    # Beyond the README: every supported type, through the public API only
    # (with the other crates the tests' exports use: anyhow, thiserror).
    files["src/lib.rs"] += "\npub mod all_types;\n"
    assert files["Cargo.toml"].rstrip().splitlines()[-2] == "[dependencies]"
    files["Cargo.toml"] = files["Cargo.toml"].rstrip() + "\n" + "".join(f"{line}\n" for line in extra_dependencies())
    shutil.copy(os.path.join(ROOT, "tests", "src", "lib.rs"), os.path.join(crate, "all_types.rs.tmp"))
    os.makedirs(os.path.join(crate, "src"))
    os.replace(os.path.join(crate, "all_types.rs.tmp"), os.path.join(crate, "src", "all_types.rs"))
    for name, text in files.items():
        with open(os.path.join(crate, name), "w") as f:
            f.write(text)
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(crate, "target"))
    subprocess.run(["cargo", "build", "--quiet", "--release"], cwd=crate, env=env, check=True, timeout=1500)
    # The README's command that writes the helper next to the code.
    subprocess.run(
        ["cargo", "run", "--quiet", "--manifest-path", os.path.join(ROOT, "Cargo.toml"),
         "-p", "ffi-export", "--", "python-helper", "."],
        cwd=crate, check=True, timeout=1500,
    )
    return crate


def run_python(crate: str, code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only the written helper
    result = subprocess.run([sys.executable, "-c", code], cwd=crate, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_readme_quickstart_runs(downstream: str) -> None:
    assert os.path.exists(os.path.join(downstream, "ffi_export.py"))
    assert os.path.exists(os.path.join(downstream, "ffi_export_tools.py"))
    result = subprocess.run([sys.executable, "main.py"], cwd=downstream, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "5 ababab\n"


def test_readme_claims_hold(downstream: str) -> None:
    out = run_python(downstream, """
import inspect, ffi_export
lib = ffi_export.load("target/release/libmylib.so")
try:
    lib.parse("x")
except lib.errors.ParseIntError as e:
    print(type(e).__name__, isinstance(e, ffi_export.FfiError), e)
print(inspect.signature(lib.repeat))
print(lib.repeat.__doc__.splitlines()[0])
""")
    assert out == (
        "ParseIntError True invalid digit found in string\n"
        "(text: str, times: int) -> str\n"
        "Repeats `text` `times` times.\n"
    )


def test_every_type_works_downstream(downstream: str) -> None:
    out = run_python(downstream, """
import array, ffi_export
lib = ffi_export.load("target/release/libmylib.so")
checks = [
    lib.echo_u64(2**64 - 1) == 2**64 - 1, lib.echo_i8(-128) == -128, lib.echo_f32(0.5) == 0.5,
    lib.echo_bool(True) is True, lib.sum_f64(array.array("d", [1, 2])) == 3.0,
    lib.fill_i16(array.array("h", [0, 0]), 4) == 2, list(lib.vec_u32(3)) == [0, 1, 2],
    lib.opt_i64(5, False) is None, lib.reverse("abc") == "cba", lib.shout(b"a") == "A",
    lib.non_empty("") is None, lib.maybe(1) == "some", lib.count_true(memoryview(b"\\x01\\x00\\x01").cast("?")) == 2,
]
print(checks.count(True), len(checks))
for call, exc in [(lambda: lib.echo_u8(256), OverflowError), (lambda: lib.sum_f64(b"x"), TypeError),
                  (lambda: lib.panic_now("p"), ffi_export.RustPanic), (lambda: lib.echo_bool(1), TypeError)]:
    try:
        call()
    except exc:
        print("raised", exc.__name__)
""")
    assert out.splitlines()[0] == "13 13"
    assert out.splitlines()[1:] == ["raised OverflowError", "raised TypeError", "raised RustPanic", "raised TypeError"]


def test_tools_written_next_to_the_helper(downstream: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only the written files
    result = subprocess.run([sys.executable, "ffi_export_tools.py", "describe", "target/release/libmylib.so"],
                            cwd=downstream, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "parse: fn parse(text: &str) -> Result<i32, ParseIntError>" in result.stdout.splitlines()
