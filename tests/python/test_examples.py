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
    "07_records": "full name: John Galt\n"
    "User(id=7, name='Ada', email='ada@example.com', role=<Role.Admin: 1>, tags=['admin'])\n"
    "#7 Ada (Admin, ada@example.com)\n"
    "#8 Bob (Guest, no email)\n"
    " - #1 Barbara (Admin, no email)\n"
    " - #2 Grace (Member, no email)\n"
    " - #3 Dennis (Admin, no email)\n"
    "ValueError: argument 'role' (Role): 5 is not a Role (variants: Admin=1, Member=2, Guest=3)\n"
    "centroid: Point(x=2.0, y=2.0)\n"
    "area of Shape.Circle(radius=1.0): 3.142\n"
    "area of Shape.Rect(width=2, height=3): 6.000\n"
    "area of Shape.Empty(): 0.000\n",
    "08_string_lists": "Hello, Kieran!\nsnake + gopher + crab\n1: hello\n2: hello\n3: hello\n",
    "09_objects": "Info: User \"Alice\" has 5 letters in their name\n"
    "Info: User \"Bob\" has 3 letters in their name\n"
    "Freeing user info: User \"Alice\" has 5 letters in their name\n"
    "Freeing user info: User \"Bob\" has 3 letters in their name\n"
    "live user infos: 0\n"
    "mean: 5.0\n"
    "ValueError: this Tally is closed\n",
    "10_callbacks": "Square roots up to 5: [1.0, 1.4142135623730951, 1.7320508075688772, 2.0, "
    "2.23606797749979]\n"
    "applied: [11.0, 21.0, 31.0]\n"
    "KeyError from the callback: '3.0 is too big'\n",
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
