"""The demo's own helpers (examples/python/_common.py): `expected` shows an
error raised on purpose next to the statement that raised it and fails the
client loudly when nothing is raised; `show` prints a value next to its
source. And every client shows its errors through `expected`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

from conftest import ROOT, library_path

CLIENTS = os.path.join(ROOT, "examples", "python")
ARROW = "\N{RIGHTWARDS ARROW}"


def run(tmp_path: str, body: str) -> subprocess.CompletedProcess[str]:
    """Runs `body` as a client script that imports examples/python/_common.py."""
    script = os.path.join(tmp_path, "client.py")
    with open(script, "w", encoding="utf-8") as f:
        f.write(f"import sys\nsys.path.insert(0, {CLIENTS!r})\n")
        f.write("from _common import expected, library, show\n")
        f.write("lib = library()\n")
        f.write(textwrap.dedent(body))
    env = dict(os.environ, FFI_EXPORT_EXAMPLES_LIB=library_path("examples"))
    return subprocess.run([sys.executable, script], capture_output=True, text=True, env=env, timeout=120)


def test_expected_names_the_statement_and_the_error(tmp_path: str) -> None:
    result = run(
        str(tmp_path),
        """
        with expected(lib.errors.Overflow):
            lib.factorial(13)  # a comment is not part of the statement
        with expected(OverflowError): lib.factorial(-1)
        with expected(TypeError):
            lib.join(
                ["( one", 2],  # a comment, and brackets in a string, kept as written
                ", ",
            )
        print("went on")
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"lib.factorial(13) {ARROW} raises Overflow: 13! does not fit in an i32\n"
        f"lib.factorial(-1) {ARROW} raises OverflowError: argument 'n' (u32) must be in 0..=4294967295, got -1\n"
        f'lib.join(["( one", 2], ", ") {ARROW} raises TypeError: argument \'words\'[1] (&str) must be a str, not int\n'
        "went on\n"
    )


def test_a_long_line_puts_the_outcome_under_the_statement(tmp_path: str) -> None:
    result = run(str(tmp_path), "with expected(OverflowError):\n    lib.add(2**63, 1)\n")
    assert result.returncode == 0, result.stderr
    statement, outcome = result.stdout.splitlines()
    assert statement == "lib.add(2**63, 1)"
    assert outcome.startswith(f"    {ARROW} raises OverflowError: argument 'a' (i64) must be in ")


def test_expected_keeps_the_error_and_shows_an_empty_message_bare(tmp_path: str) -> None:
    result = run(
        str(tmp_path),
        """
        with expected(KeyError, TimeoutError) as caught:
            raise TimeoutError()
        print(type(caught.error).__name__)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"raise TimeoutError() {ARROW} raises TimeoutError\nTimeoutError\n"


def test_nothing_raised_fails_the_client_loudly(tmp_path: str) -> None:
    result = run(
        str(tmp_path),
        """
        with open(__file__) as inside_another_with:
            with expected(OverflowError):
                lib.add(1, 2)
        print("must not get here")
        """,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "DEMO FAILURE: lib.add(1, 2) should raise OverflowError, but raised nothing\n"


def test_another_error_fails_the_client_with_its_traceback(tmp_path: str) -> None:
    result = run(
        str(tmp_path),
        """
        with expected(lib.errors.Overflow):
            lib.factorial(-1)
        print("must not get here")
        """,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "DEMO FAILURE: lib.factorial(-1) should raise Overflow, but raised OverflowError\nTraceback"
    )
    assert result.stderr.rstrip().endswith("must be in 0..=4294967295, got -1")


def test_show_prints_the_source_of_its_argument(tmp_path: str) -> None:
    result = run(
        str(tmp_path),
        """
        words = show(lib.join(["Hello", "world!"], " "))
        show(lib.join(
            [], ", "))
        def inner() -> None:
            show(words.upper())
        inner()
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"lib.join([\"Hello\", \"world!\"], \" \") {ARROW} 'Hello world!'\n"
        f'lib.join([], ", ") {ARROW} \'\'\n'
        f"words.upper() {ARROW} 'HELLO WORLD!'\n"
    )


def test_every_client_shows_its_errors_through_expected() -> None:
    """No client catches an error itself: each goes through `expected`."""
    for name in sorted(os.listdir(CLIENTS)):
        if name[0].isdigit() and name.endswith(".py"):
            with open(os.path.join(CLIENTS, name), encoding="utf-8") as f:
                source = f.read()
            assert not re.search(r"^\s*(try:|except\b)", source, re.MULTILINE), name
