"""Each example client runs as its own process and prints what it should."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT, library_path

CLIENTS = os.path.join(ROOT, "examples", "python")

EXPECTED = {
    "01_hello": "Hello world!\n",
    "02_add": "10 + 15 = 25\n"
    "OverflowError: argument 'a' (i64) must be in -9223372036854775808..=9223372036854775807, "
    "got 9223372036854775808\n",
    "03_repeat": "Badger * 4 = BadgerBadgerBadgerBadger\nSnake * 5 = SnakeSnakeSnakeSnakeSnake\n",
    "04_squares": "nums: [1.0, 2.0, 3.0] out: [1.0, 4.0, 9.0]\n"
    "numpy: [0.0, 1.0, 4.0, 9.0]\n"
    "TypeError: argument 'nums' (&[f64]) needs a buffer of f64, got i64 ('l'); e.g. array.array('d', ...)\n"
    "LengthMismatch: input has 3 numbers but output has room for 2\n"
    "fib: [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]\n",
    "05_even": "even(4) = True\neven(7) = False\nNegativeNumber: -3 is negative\n",
    "06_panic": "7 / 2 = 3\nRustPanic: attempt to divide by zero\nstill alive: 9 / 3 = 3\n",
}


def run_client(name: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, FFI_EXPORT_EXAMPLES_LIB=library_path("examples"))
    return subprocess.run(
        (prefix or []) + [sys.executable, os.path.join(CLIENTS, f"{name}.py")],
        capture_output=True, text=True, env=env, timeout=600,
    )


def test_every_client_is_covered() -> None:
    clients = sorted(f[:-3] for f in os.listdir(CLIENTS) if f[0].isdigit() and f.endswith(".py"))
    assert clients == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_client_output(name: str) -> None:
    result = run_client(name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == EXPECTED[name]
    # Panics are delivered as exceptions, not printed.
    assert "panicked" not in result.stderr
