"""Each example client runs as its own process and prints exactly what it
should: the seed programs' output, in their safe versions."""

from __future__ import annotations

import ctypes
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, library_path

CLIENTS = os.path.join(ROOT, "examples", "python")

EXPECTED = {
    "01_hello": (
        "Hello world!\n"
    ),
    "02_add": (
        "10 + 15 = 25\n"
        "OverflowError: argument 'a' (i64) must be in -9223372036854775808..=9223372036854775807, got 9223372036854775808\n"
    ),
    "03_squares": (
        "nums: [1.0, 2.0, 3.0] out: [1.0, 4.0, 9.0]\n"
        "numpy: [0.0, 1.0, 4.0, 9.0]\n"
        "TypeError: argument 'nums' (&[f64]) needs a buffer of f64, got i64 ('l'); e.g. array.array('d', ...)\n"
        "LengthMismatch: input has 3 numbers but output has room for 2\n"
    ),
    "04_repeat": (
        "Badger * 4 = BadgerBadgerBadgerBadger\n"
        "Snake * 5 = SnakeSnakeSnakeSnakeSnake\n"
        "into the buffer: Badger * 4 = BadgerBadgerBadgerBadger (24 bytes)\n"
        "into the buffer: Snake * 5 = SnakeSnakeSnakeSnakeSnake (25 bytes)\n"
        "BufferTooSmall: the result needs 6000 bytes but the buffer holds 1000\n"
        "buffer unchanged: SnakeSnakeSnakeSnakeSnake\n"
    ),
    "05_join": (
        "snake + gopher + crab\n"
        "Hello world!\n"
        "''\n"
        "A-B-C\n"
        "TypeError: argument 'words'[1] (&str) must be a str, not int\n"
    ),
    "06_numpy_pandas": (
        "numpy: [11, 12, 13]\n"
        "Before\n"
        "      name  age\n"
        "0    Alice   20\n"
        "1      Bob   30\n"
        "2  Charlie   40\n"
        "BufferError: argument 'nums' (&mut [i64]) must be writable, got a read-only ndarray\n"
        "After\n"
        "      name  age\n"
        "0    Alice   25\n"
        "1      Bob   35\n"
        "2  Charlie   45\n"
        "TypeError: argument 'nums' (&mut [i64]) needs a buffer of i64, got f64 ('d'); e.g. array.array('q', ...)\n"
        "TypeError: argument 'nums' (&mut [i64]) needs a buffer of i64, got i32 ('i'); e.g. array.array('q', ...)\n"
        "Overflow: nums[1] = 9223372036854775807: adding 1 does not fit in an i64\n"
        "unchanged: [1, 9223372036854775807]\n"
    ),
    "07_sqrts": (
        "Square roots up to 5: [1.0, 1.4142135623730951, 1.7320508075688772, 2.0, 2.23606797749979]\n"
        "Square roots up to 3: ndarray [1.0, 1.4142135623730951, 1.7320508075688772]\n"
    ),
    "08_fill": (
        "John Galt\n"
        "Person(first_name='John', last_name='Galt', full_name='John Galt')\n"
        "3009 characters: Ada Lovelace\n"
    ),
    "09_user_info": (
        'Info: User "Alice" has 5 letters in their name\n'
        "-----------\n"
        'Info: User "Bob" has 3 letters in their name\n'
        "-----------\n"
        'Freeing user info: User "Alice" has 5 letters in their name\n'
        'Freeing user info: User "Bob" has 3 letters in their name\n'
        "Did I remember to free my memory? Live UserInfo values: 0\n"
        "Name: Carol\n"
        'Freeing user info: User "Carol" has 5 letters in their name\n'
        "ValueError: this UserInfo is closed\n"
    ),
    "10_even": (
        "0 even: True\n"
        "1 even: False\n"
        "2 even: True\n"
        "3 even: False\n"
        "Error: -5 is negative, want at least 0\n"
    ),
    "11_pi": (
        "Rust   pi(100000) = 3.1415826535897198\n"
        "Python pi(100000) = 3.1415826535897198\n"
        "the same float: True\n"
        "Rust   pi(10000000) = 3.1415925535897915, off by 1.0e-07\n"
    ),
    "12_shuffle": (
        "Rust:   [8, 1, 0, 9, 2, 4, 6, 7, 3, 5]\n"
        "Python: [8, 1, 0, 9, 2, 4, 6, 7, 3, 5]\n"
        "the same permutation: True\n"
        "numpy:  [8, 1, 0, 9, 2, 4, 6, 7, 3, 5]\n"
        "100000 numbers, still a permutation: True\n"
    ),
    "13_mask": (
        "64 KiB: first bytes 7f9f4d5158ad4e4f, same as pure Python: True\n"
        "64 KiB: masked twice is the original: True\n"
        "256 KiB: first bytes 7f9f4d5158ad4e4f, same as pure Python: True\n"
        "256 KiB: masked twice is the original: True\n"
        "masked frame: 818537fa213d7f9f4d5158\n"
        "unmasked payload: Hello\n"
        "BufferError: argument 'data' (&mut [u8]) must be writable, got a read-only bytes\n"
    ),
    "14_parse_json": (
        "Profile(name='John', age=30, cars=['Ford', 'BMW', 'Fiat'], friends=[Friend(name='Peter', age=30), Friend(name='Anna', age=30)])\n"
        "same as json.loads: True\n"
        "JsonError: EOF while parsing an object at line 1 column 26\n"
        "JsonError: invalid value: integer `-1`, expected u32 at line 1 column 26\n"
        "JsonError: missing field `friends` at line 1 column 39\n"
    ),
    "15_return_string": (
        "45\n"
        "13\n"
        "golang.org.\n"
        "NoSuchHost: lookup nonexistent.invalid: no such host\n"
        "Overflow: 9223372036854775807 + 3 does not fit in an i64\n"
    ),
    "16_factorial": (
        "The factorial of 10 is 3628800 <class 'int'>\n"
        "12! = 479001600\n"
        "Overflow: 13! does not fit in an i32\n"
        "OverflowError: argument 'n' (u32) must be in 0..=4294967295, got -1\n"
    ),
    "17_greet_string": (
        "The result is: Hello Kieran\n"
        "How's your day?\n"
        "\n"
        "The result is: Hello Kieran2\n"
        "How's your day?\n"
        "\n"
    ),
    "18_users": (
        "User(id=1, name='Kieran', email='kieran@canadiancoding.ca', role=<Role.Member: 2>, tags=['member'])\n"
        "User(id=1, name='Grace', email='grace@example.com', role=<Role.Member: 2>, tags=['member'])\n"
        "5 users:\n"
        " - #1 Barbara (Admin, no email)\n"
        " - #2 Grace (Member, no email)\n"
        " - #3 Dennis (Admin, no email)\n"
        " - #4 Barbara (Guest, barbara@example.com)\n"
        " - #5 Ada (Admin, no email)\n"
    ),
    "19_fib_sequence": (
        "[1, 1, 2, 3, 5, 8, 13, 21, 34, 55]\n"
        "numpy: int32 143\n"
        "46 numbers fit in an i32, the last is 1836311903\n"
        "Overflow: fib_sequence(47): Fib(46) does not fit in an i32\n"
    ),
    "20_multiply_string": (
        "['Hello', 'Hello', 'Hello', 'Hello', 'Hello']\n"
        "['héllo wörld', 'héllo wörld']\n"
        "[]\n"
    ),
    "21_panic": (
        "7 / 2 = 3\n"
        "RustPanic: attempt to divide by zero\n"
        "still alive: 9 / 3 = 3\n"
    ),
    "22_records": (
        "#2 Bo (Guest, no email)\n"
        "TypeError: argument 'user'.tags[0] (String) must be a str, not int\n"
        "ValueError: argument 'role' (Role): 5 is not a Role (variants: Admin=1, Member=2, Guest=3)\n"
        "centroid: Point(x=2.0, y=2.0)\n"
        "area of Shape.Circle(radius=1.0): 3.142\n"
        "area of Shape.Rect(width=2, height=3): 6.000\n"
        "area of Shape.Empty(): 0.000\n"
    ),
    "23_tally": (
        "mean of nothing: None\n"
        "running total: 3\n"
        "running total: 7\n"
        "running total: 15\n"
        "mean: 5.0\n"
        "Error: total overflow\n"
        "ValueError: this Tally is closed\n"
    ),
    "24_callbacks": (
        "applied: [11.0, 21.0, 31.0]\n"
        "KeyError from the callback: '3.0 is too big'\n"
    ),
    "25_stock": (
        "restocked: {'apple': 5, 'pear': 5, 'plum': 10}\n"
        "order: Line(item='plum', quantity=1, note=None)\n"
        "after the order: {'apple': 3, 'pear': 1, 'plum': 9}\n"
        "UnknownItem: kiwi | unknown item \"kiwi\"\n"
        "OutOfStock: 1 < 9 | only 1 of \"pear\" left, 9 wanted\n"
        "unchanged: {'apple': 3, 'pear': 1, 'plum': 9}\n"
        "(prices: Dict[str, float], discount: float = 0.0, currency: str = 'EUR') -> List[str]\n"
        "['apple: 0.50 EUR', 'pear: 0.75 EUR']\n"
        "['apple: 0.45 USD']\n"
        "BadPrice: the price of \"fig\" must be positive\n"
        "OverflowError: argument 'deliveries'[0][1] (u32) must be in 0..=4294967295, got -3\n"
    ),
    "26_scene": (
        "same parent: True\n"
        "hero at: (11.0, 12.0)\n"
        "same sprites twice: True ['hero', 'coin']\n"
        "merged: 2 ['hero at (11, 12)', 'coin at (15, 10)']\n"
        "InvalidArgument: argument `other`: the same `Canvas` is also passed as `self`, and `self` borrows it "
        "`&mut`: Rust allows no other borrow of an object while it is borrowed mutably; pass two different objects\n"
        "TypeError: argument 'sprite' must be a Sprite, not Scene\n"
        "scenes alive: 1\n"
        "scenes alive: 0\n"
    ),
    "27_events": (
        "held by Rust: 2\n"
        "published 1\n"
        "published 2\n"
        "published 3\n"
        "log: audit took #1\n"
        "log: shipping took #1\n"
        "log: audit took #2\n"
        "log: shipping refused #2: not interested in refund\n"
        "audit got: ['#1 order: 2 apples', '#2 refund: 1 pear']\n"
        "shipping got: ['#1 order: 2 apples']\n"
        "TypeError: argument 'listener' (dyn Listener): object has no method 'on_event' "
        "(a dyn Listener needs on_event, name)\n"
        "held by Rust after close: 0\n"
    ),
    "28_fetch": (
        "coroutine function: True\n"
        "one: 200 <h1>fast.example</h1>\n"
        "five: ['0', '1', '2', '3', '4']\n"
        "UnknownHost: nowhere.example | no such host: nowhere.example\n"
        "NotFound: https://fast.example/missing: not found\n"
        "slow.example: timed out, cancelled\n"
        "blocking: https://fast.example/again\n"
    ),
    "30_config": (
        "kept: 2\n"
        "  [paths] home = /home/ada\n"
        "  [paths] cache = /home/ada/.cache\n"
        "  [server] port = 8080\n"
        "Unknown: nobody | unknown variable nobody\n"
        "Syntax: 2 | line 2: expected `key = value`, got `just words`\n"
        "PermissionError: a is read-only\n"
    ),
}

# The names the seeds' programs are ported under (examples/README.md).
SEED_EXPORTS = {
    "hello", "add", "factorial", "squares", "repeat", "repeat_into", "join", "increase",
    "sqrts", "fill", "get_user_info", "even", "greet_string", "create_user",
    "create_random_user", "create_random_users", "fib_sequence", "multiply_string",
    "return_string", "return_int", "pi", "shuffle", "mask", "parse_json",
}


def run_client(name: str, prefix: list[str] | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, FFI_EXPORT_EXAMPLES_LIB=library_path("examples"))
    return subprocess.run(
        (prefix or []) + [sys.executable, os.path.join(CLIENTS, f"{name}.py")],
        capture_output=True, text=True, env=env, timeout=600,
    )


def client_names() -> list[str]:
    return sorted(f[:-3] for f in os.listdir(CLIENTS) if f[0].isdigit() and f.endswith(".py"))


def exported_functions() -> set[str]:
    """Free functions of the examples library, from its C self-description."""
    describe = ctypes.CDLL(library_path("examples")).ffi_export_describe
    describe.restype = ctypes.c_char_p
    exports = json.loads(describe().decode("utf-8"))["exports"]
    return {e["name"] for e in exports if e["kind"] == "function"}


def test_every_client_is_covered() -> None:
    assert client_names() == sorted(EXPECTED)


def test_every_seed_program_is_exported() -> None:
    assert SEED_EXPORTS - exported_functions() == set()


def test_every_export_is_called_by_a_client() -> None:
    called = set()
    for name in client_names():
        with open(os.path.join(CLIENTS, f"{name}.py")) as f:
            called |= set(re.findall(r"\blib\.(\w+)\(", f.read()))
    assert exported_functions() - called == set()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_client_output(name: str) -> None:
    result = run_client(name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == EXPECTED[name]
    # Panics are delivered as exceptions, not printed.
    assert "panicked" not in result.stderr
