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
        "lib.hello() prints, from Rust: Hello world!\n"
    ),
    "02_add": (
        "10 + 15 = 25\n"
        "lib.add(2**63, 1)\n"
        "    → raises OverflowError: argument 'a' (i64) must be in -9223372036854775808..=9223372036854775807, got 9223372036854775808\n"
    ),
    "03_squares": (
        "nums: [1.0, 2.0, 3.0] out: [1.0, 4.0, 9.0]\n"
        "numpy: [0.0, 1.0, 2.0, 3.0] squared: [0.0, 1.0, 4.0, 9.0]\n"
        "lib.squares(numpy.arange(3), squared[:3])\n"
        "    → raises TypeError: argument 'nums' (&[f64]) needs a buffer of f64, got i64 ('l'); e.g. array.array('d', ...)\n"
        'lib.squares(nums, array("d", [0, 0]))\n'
        "    → raises LengthMismatch: input has 3 numbers but output has room for 2\n"
    ),
    "04_repeat": (
        "Badger * 4 = BadgerBadgerBadgerBadger\n"
        "Snake * 5 = SnakeSnakeSnakeSnakeSnake\n"
        "into the buffer: Badger * 4 = BadgerBadgerBadgerBadger (24 bytes)\n"
        "into the buffer: Snake * 5 = SnakeSnakeSnakeSnakeSnake (25 bytes)\n"
        'lib.repeat_into("Badger", 1000, buf)\n'
        "    → raises BufferTooSmall: the result needs 6000 bytes but the buffer holds 1000\n"
        "buffer unchanged: SnakeSnakeSnakeSnakeSnake\n"
    ),
    "05_join": (
        "lib.join([\"snake\", \"gopher\", \"crab\"], \" + \") → 'snake + gopher + crab'\n"
        "lib.join([\"Hello\", \"world!\"], \" \") → 'Hello world!'\n"
        "lib.join([], \", \") → ''\n"
        "lib.join((word.upper() for word in \"abc\"), \"-\") → 'A-B-C'\n"
        "lib.join([\"one\", 2], \", \") → raises TypeError: argument 'words'[1] (&str) must be a str, not int\n"
    ),
    "06_numpy_pandas": (
        "numpy [1, 2, 3] increased by 10: [11, 12, 13]\n"
        "Before:\n"
        "      name  age\n"
        "0    Alice   20\n"
        "1      Bob   30\n"
        "2  Charlie   40\n"
        'lib.increase(people["age"].values, 5)\n'
        "    → raises BufferError: argument 'nums' (&mut [i64]) must be writable, got a read-only ndarray\n"
        "After lib.increase(ages, 5) on a copy, assigned back:\n"
        "      name  age\n"
        "0    Alice   25\n"
        "1      Bob   35\n"
        "2  Charlie   45\n"
        'lib.increase(people["height"].to_numpy(copy=True), 5)\n'
        "    → raises TypeError: argument 'nums' (&mut [i64]) needs a buffer of i64, got f64 ('d'); e.g. array.array('q', ...)\n"
        'lib.increase(people["age"].to_numpy(dtype=numpy.int32), 5)\n'
        "    → raises TypeError: argument 'nums' (&mut [i64]) needs a buffer of i64, got i32 ('i'); e.g. array.array('q', ...)\n"
        "lib.increase(big, 1)\n"
        "    → raises Overflow: nums[1] = 9223372036854775807: adding 1 does not fit in an i64\n"
        "big unchanged: [1, 9223372036854775807]\n"
    ),
    "07_sqrts": (
        "Square roots up to 5: [1.0, 1.4142135623730951, 1.7320508075688772, 2.0, 2.23606797749979]\n"
        "Square roots up to 3: [1.0, 1.4142135623730951, 1.7320508075688772] (a numpy ndarray)\n"
    ),
    "08_fill": (
        "person.full_name → 'John Galt'\n"
        "the whole record: Person(first_name='John', last_name='Galt', full_name='John Galt')\n"
        "a first name of 3000 letters: full_name has 3009, ends 'Ada Lovelace'\n"
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
        "user.info() → raises ValueError: this UserInfo is closed\n"
    ),
    "10_even": (
        "0 even: True\n"
        "1 even: False\n"
        "2 even: True\n"
        "3 even: False\n"
        "lib.even(-5) → raises NegativeNumber: -5 is negative, want at least 0\n"
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
        'lib.mask(b"Hello", 1)\n'
        "    → raises BufferError: argument 'data' (&mut [u8]) must be writable, got a read-only bytes\n"
    ),
    "14_parse_json": (
        "parsed: Profile(name='John', age=30, cars=['Ford', 'BMW', 'Fiat'], friends=[Friend(name='Peter', age=30), Friend(name='Anna', age=30)])\n"
        "same as json.loads: True\n"
        "lib.parse_json('{\"name\": \"John\", \"age\": 30')\n"
        "    → raises JsonError: EOF while parsing an object at line 1 column 26\n"
        "lib.parse_json('{\"name\": \"John\", \"age\": -1, \"cars\": [], \"friends\": []}')\n"
        "    → raises JsonError: invalid value: integer `-1`, expected u32 at line 1 column 26\n"
        "lib.parse_json('{\"name\": \"John\", \"age\": 30, \"cars\": []}')\n"
        "    → raises JsonError: missing field `friends` at line 1 column 39\n"
    ),
    "15_return_string": (
        "lib.return_int(42) → 45\n"
        "lib.return_int(10) → 13\n"
        "lib.return_string(\"golang.org\") → 'golang.org.'\n"
        'lib.return_string("nonexistent.invalid")\n'
        "    → raises NoSuchHost: lookup nonexistent.invalid: no such host\n"
        "lib.return_int(2**63 - 1) → raises Overflow: 9223372036854775807 + 3 does not fit in an i64\n"
    ),
    "16_factorial": (
        "The factorial of 10 is 3628800 <class 'int'>\n"
        "12! = 479001600\n"
        "lib.factorial(13) → raises Overflow: 13! does not fit in an i32\n"
        "lib.factorial(-1) → raises OverflowError: argument 'n' (u32) must be in 0..=4294967295, got -1\n"
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
        "created: User(id=1, name='Kieran', email='kieran@canadiancoding.ca', role=<Role.Member: 2>, tags=['member'])\n"
        "random, seed 7: User(id=1, name='Grace', email='grace@example.com', role=<Role.Member: 2>, tags=['member'])\n"
        "5 random users, seed 42:\n"
        " - #1 Barbara (Admin, no email)\n"
        " - #2 Grace (Member, no email)\n"
        " - #3 Dennis (Admin, no email)\n"
        " - #4 Barbara (Guest, barbara@example.com)\n"
        " - #5 Ada (Admin, no email)\n"
    ),
    "19_fib_sequence": (
        "the first 10 Fibonacci numbers: [1, 1, 2, 3, 5, 8, 13, 21, 34, 55]\n"
        "seen from numpy: dtype int32 sum 143\n"
        "46 numbers fit in an i32, the last is 1836311903\n"
        "lib.fib_sequence(47) → raises Overflow: fib_sequence(47): Fib(46) does not fit in an i32\n"
    ),
    "20_multiply_string": (
        "lib.multiply_string(\"Hello\", 5) → ['Hello', 'Hello', 'Hello', 'Hello', 'Hello']\n"
        "lib.multiply_string(\"héllo wörld\", 2) → ['héllo wörld', 'héllo wörld']\n"
        'lib.multiply_string("nothing", 0) → []\n'
    ),
    "21_panic": (
        "7 / 2 = 3\n"
        "lib.divide(1, 0) → raises RustPanic: attempt to divide by zero\n"
        "still alive: 9 / 3 = 3\n"
    ),
    "22_records": (
        "lib.describe_user(bo) → '#2 Bo (Guest, no email)'\n"
        'lib.describe_user(lib.User(id=3, name="Cy", email=None, role=lib.Role.Guest, tags=[7]))\n'
        "    → raises TypeError: argument 'user'.tags[0] (String) must be a str, not int\n"
        'lib.create_user(9, "Eve", 5, None)\n'
        "    → raises ValueError: argument 'role' (Role): 5 is not a Role (variants: Admin=1, Member=2, Guest=3)\n"
        "lib.centroid(points) → Point(x=2.0, y=2.0)\n"
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
        "tally.add(2**63 - 1) → raises Error: total overflow\n"
        "tally.add(1) → raises ValueError: this Tally is closed\n"
    ),
    "24_callbacks": (
        "x * 10 + 1 applied in place: [11.0, 21.0, 31.0]\n"
        "lib.apply(array(\"d\", [1, 2, 3]), picky) → raises KeyError: '3.0 is too big'\n"
    ),
    "25_stock": (
        "restocked: {'apple': 5, 'pear': 5, 'plum': 10}\n"
        "order: Line(item='plum', quantity=1, note=None)\n"
        "after the order: {'apple': 3, 'pear': 1, 'plum': 9}\n"
        'lib.take(stock, [lib.Line("kiwi")]) → raises UnknownItem: unknown item "kiwi"\n'
        "    its field: name = 'kiwi'\n"
        'lib.take(stock, [lib.Line("apple", 1), lib.Line("pear", 9)])\n'
        '    → raises OutOfStock: only 1 of "pear" left, 9 wanted\n'
        "    its fields: available = 1, wanted = 9\n"
        "stock unchanged: {'apple': 3, 'pear': 1, 'plum': 9}\n"
        "signature: lib.price_list(prices: Dict[str, float], discount: float = 0.0, currency: str = 'EUR') -> List[str]\n"
        "lib.price_list({\"apple\": 0.5, \"pear\": 0.75}) → ['apple: 0.50 EUR', 'pear: 0.75 EUR']\n"
        "lib.price_list({\"apple\": 0.5}, discount=0.1, currency=\"USD\") → ['apple: 0.45 USD']\n"
        'lib.price_list({"apple": 0.5, "fig": -1.0}) → raises BadPrice: the price of "fig" must be positive\n'
        'lib.restock({"apple": 5}, [("pear", -3)])\n'
        "    → raises OverflowError: argument 'deliveries'[0][1] (u32) must be in 0..=4294967295, got -3\n"
    ),
    "26_scene": (
        "same parent: True\n"
        "hero at: (11.0, 12.0)\n"
        "same sprites twice: True ['hero', 'coin']\n"
        "canvas.merge(other) → 2\n"
        "canvas.lines() → ['hero at (11, 12)', 'coin at (15, 10)']\n"
        "canvas.merge(canvas)\n"
        "    → raises InvalidArgument: argument `other`: the same `Canvas` is also passed as `self`, and `self` borrows it `&mut`: Rust allows no other borrow of an object while it is borrowed mutably; pass two different objects\n"
        "canvas.draw(scene) → raises TypeError: argument 'sprite' must be a Sprite, not Scene\n"
        "scenes alive with the sprites kept: 1\n"
        "scenes alive once they are gone: 0\n"
    ),
    "27_events": (
        "Python objects held by Rust: 2\n"
        "bus.publish('order', '2 apples') → event 1\n"
        "bus.publish('refund', '1 pear') → event 2\n"
        "bus.publish('order', 'test order') → event 3\n"
        "log: audit took #1\n"
        "log: shipping took #1\n"
        "log: audit took #2\n"
        "log: shipping refused #2: not interested in refund\n"
        "audit got: ['#1 order: 2 apples', '#2 refund: 1 pear']\n"
        "shipping got: ['#1 order: 2 apples']\n"
        "bus.subscribe(object())\n"
        "    → raises TypeError: argument 'listener' (dyn Listener): object has no method 'on_event' (a dyn Listener needs on_event, name)\n"
        "held by Rust after bus.close(): 0\n"
    ),
    "28_fetch": (
        "inspect.iscoroutinefunction(lib.fetch) → True\n"
        "one fetch: 200 <h1>fast.example</h1>\n"
        "five at once, pages: ['0', '1', '2', '3', '4']\n"
        'await lib.fetch("https://nowhere.example/") → raises UnknownHost: no such host: nowhere.example\n'
        "    its field: host = 'nowhere.example'\n"
        'await lib.fetch("https://fast.example/missing")\n'
        "    → raises NotFound: https://fast.example/missing: not found\n"
        'await asyncio.wait_for(lib.fetch("https://slow.example/"), 0.1) → raises TimeoutError\n'
        "asyncio.run(lib.fetch(\"https://fast.example/again\")).url → 'https://fast.example/again'\n"
    ),
    "29_pipeline": (
        "stages: 1 closed: True\n"
        "double.name()\n"
        "    → raises ValueError: this Stage is closed: it was moved into a Rust call (Pipeline.then, argument 'stage')\n"
        "stages: 3\n"
        "run: -30 ['double', 'triple', 'negate']\n"
        "pipeline.then_all([keep, shared])\n"
        "    → raises InvalidArgument: argument `stages`: item 1: this `Stage` is shared (made by a function returning "
        "`Arc<Stage>`, Rust code may hold it too), so it cannot be moved out: take `Arc<Stage>` as the "
        "parameter type\n"
        "still usable: keep False\n"
        "plan: 70 closed: True True\n"
        "back: ['double', 'triple', 'negate'] 5\n"
        "stages alive: 0\n"
    ),
    "30_config": (
        "kept: 2\n"
        "  [paths] home = /home/ada\n"
        "  [paths] cache = /home/ada/.cache\n"
        "  [server] port = 8080\n"
        'lib.read_config("x = ${nobody}", lookup, lambda entry: True)\n'
        "    → raises Unknown: unknown variable nobody\n"
        "  its field: name = 'nobody'\n"
        'lib.read_config("[a]\\njust words", lookup, lambda entry: True)\n'
        "    → raises Syntax: line 2: expected `key = value`, got `just words`\n"
        "  its field: line = 2\n"
        'lib.read_config("a = 1", lookup, refuse) → raises PermissionError: a is read-only\n'
    ),
    "31_plugins": (
        'lib.builtin_handlers() → [<DynHandler (handle 1)>, <DynHandler (handle 2)>]\n'
        '[handler.respond("/status") for handler in builtins] → [\'ok\', \'1.0\']\n'
        "sorted(formatters) → ['plain', 'upper']\n"
        'formatters["upper"]("called from Python") → \'CALLED FROM PYTHON\'\n'
        'router.install(lib.Plugins(handlers=[greeter, *builtins], formatters={**formatters, "brackets": lambda text: f"[{text}]"}, fallback=Echo()))\n'
        '    → 3\n'
        'Python objects held by Rust: 3\n'
        'router.get("/hello/ada", "brackets") → \'[hello, ada]\'\n'
        'router.get("/status", "upper") → \'OK\'\n'
        'router.get("/nowhere", "plain") → \'echo /nowhere\'\n'
        "[handler.prefix() for handler in router.handlers()] → ['/version', '/status', '/hello']\n"
        'router.handlers()[2] is greeter → True\n'
        'router.get("/status", "bold") → raises NoFormatter: no formatter named bold\n'
        'router.install(lib.Plugins(handlers=[greeter, object()], formatters={}, fallback=None))\n'
        "    → raises TypeError: argument 'plugins'.handlers[1] (dyn Handler): object has no method 'prefix' (a dyn Handler needs prefix, respond)\n"
        'held by Rust after router.close(): 0\n'
    ),
    "32_protocols": (
        'str: 12.50 USD, 0.99 EUR, -3.00 USD\n'
        'repr: Money { currency: "EUR", cents: 99 }\n'
        "sorted (Rust's Ord): ['0.99 EUR', '-3.00 USD', '12.50 USD']\n"
        "same as Rust's sort: True\n"
        'sum: 9.50 USD | negated: 3.00 USD | default: Money { currency: "", cents: 0 }\n'
        "dict key (Rust's Hash): lunch\n"
        'usd[0] + usd[1] → raises RustPanic: cannot add EUR to USD\n'
        "usd[0] + 1 → raises TypeError: unsupported operand type(s) for +: 'Money' and 'int'\n"
        'ledger: [12.50 USD, -3.00 USD] | len: 2 | bool: True | empty: False\n'
        'twin: [12.50 USD, -3.00 USD, 0.01 USD] | equal: False | hash differs: True\n'
        'first and last: 12.50 USD / -3.00 USD\n'
        "iterated: ['12.50 USD', '-3.00 USD']\n"
        'ledger == copy.copy(ledger) → True\n'
        'ledger[2] → raises IndexError: Ledger index 2 out of range (len 2)\n'
    ),
    "33_playlist": (
        '  Intro (90 s)\n'
        '  Chorus (200 s)\n'
        '  Chorus (200 s)\n'
        '[n for n in lib.countdown(3)] → [3, 2, 1]\n'
        "next(songs) → Song(title='Intro', seconds=90)\n"
        'next(songs) → raises ValueError: this iterator is closed\n'
        'for seconds in playlist.lengths(120): lengths.append(seconds)\n'
        '    → raises TooLong: Chorus is too long: 200 s\n'
        'before the error: [90]\n'
        "(playlist.title, playlist.volume, playlist.seconds) → ('night drive', 80, 495)\n"
        'playlist.volume = 300\n'
        "    → raises OverflowError: property Playlist.volume: argument 'volume' (u8) must be in 0..=255, got 300\n"
        'playlist.volume = 101 → raises Error: volume 101 is above 100\n'
        "playlist.seconds = 0 → raises AttributeError: property of 'Playlist' object has no setter\n"
        '  play Outro x1 (60 s)\n'
        '  pause 3 s\n'
        'pickle.loads(pickle.dumps(song)) == song → True\n'
        "copy.deepcopy(lib.Track.Play(song, 2)) → Track.Play(song=Song(title='Chorus', seconds=200), times=2)\n"
        'pickle.dumps(playlist)\n'
        '    → raises TypeError: cannot pickle or copy a Playlist: its value lives in Rust, behind a handle\n'
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
