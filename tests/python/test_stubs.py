"""`python ffi_export_tools.py stubs` (also reached as `python ffi_export.py
stubs`): the generated .pyi and typed module for the tests and examples
cdylibs pass `mypy --strict` with typed clients that use them, the clients
run, and a wrongly typed call is caught by mypy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import mypy  # noqa: F401 - from requirements-dev.txt: a missing mypy is a failure, not a skip
import pytest

from conftest import ROOT, library_path

HELPER = os.path.join(ROOT, "ffi-export-runtime", "python", "ffi_export.py")
TOOLS = os.path.join(ROOT, "ffi-export-runtime", "python", "ffi_export_tools.py")
CLIENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "typed")


@pytest.fixture(scope="module")
def typed_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = str(tmp_path_factory.mktemp("typed"))
    for stem, module in [("ffi_export_tests", "tests_typed"), ("examples", "examples_typed")]:
        subprocess.run(
            [sys.executable, TOOLS, "stubs", library_path(stem), "--module",
             os.path.join(out, f"{module}.py"), "--helper-stub", out],
            check=True,
        )
    for client in os.listdir(CLIENTS):
        shutil.copy(os.path.join(CLIENTS, client), out)
    return out


def run_mypy(directory: str, *files: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MYPYPATH=directory)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *files],
        cwd=directory, env=env, capture_output=True, text=True, timeout=600,
    )


def test_stub_files_written(typed_dir: str) -> None:
    names = set(os.listdir(typed_dir))
    assert {"tests_typed.py", "tests_typed.pyi", "examples_typed.py", "examples_typed.pyi",
            "ffi_export.pyi"} <= names
    with open(os.path.join(typed_dir, "tests_typed.pyi")) as f:
        stub = f.read()
    # Every kind of type has its Python spelling, docstrings included.
    for line in [
        "def reverse(text: str) -> str:",
        "def vec_f64(n: int) -> Vec[float]:",
        "def sum_f64(values: Union[Buffer, Sequence[float]]) -> float:",
        "def sum_owned(values: Union[Buffer, Sequence[int]]) -> int:",
        "def hyphenate(words: Sequence[str]) -> str:",
        "def names(people: Sequence[Person]) -> List[str]:",
        "def count_admins(kinds: Sequence[Kind | int]) -> int:",
        "def total_count(counts: Mapping[str, int]) -> int:",
        "def by_length(names: Sequence[str]) -> Dict[int, List[str]]:",
        "def contains_all(set: AbstractSet[str], words: Iterable[str]) -> bool:",
        "def distinct(values: Union[Buffer, Sequence[int]]) -> Set[int]:",
        "def describe_pair(pair: Tuple[str, Optional[int]]) -> str:",
        "def min_max(values: Union[Buffer, Sequence[float]]) -> Tuple[float, float]:",
        "def wide_max() -> int:",
        "def repeat_byte(byte: int, n: int) -> bytes:",
        "    counts: Dict[str, int]",
        "def greet_times(name: str, times: int = 1, end: str = '!') -> str:",
        "def scaled(values: Union[Buffer, Sequence[float]], factor: float = 1.0, offset: Optional[float] = None, "
        "clamp: bool = False) -> Vec[float]:",
        "    def greet(self, name: str, times: int = 1) -> str:",
        "    def __init__(self, name: str, port: int = ..., role: Kind = ..., note: Optional[str] = ..., "
        "tags: List[str] = ...) -> None: ...",
        "    def __init__(self, name: str, email: Optional[str] = ..., phone: Optional[str] = ...) -> None: ...",
        "def fill_u8(values: WritableBuffer, value: int) -> int:",
        "def shout(text: Buffer | str) -> str:",
        "def join(words: Iterable[str], separator: str) -> str:",
        "def greet_opt(name: Optional[str], times: Optional[int]) -> str:",
        "def next_kind(kind: Kind | int) -> Kind:",
        "def people(n: int) -> List[Person]:",
        "def maybe_counter(some: bool) -> Optional[Counter]:",
        "def apply(values: WritableBuffer, f: Callable[[float], float]) -> None:",
        "def sqrts(n: int, *, alloc: AllocatorSpec = None) -> List[Any]:",
        "def partition(values: Union[Buffer, Sequence[int]], *, alloc: AllocatorSpec = None) -> Tuple[int, List[Any]]:",
        "class Kind(enum.IntEnum):",
        "class Person(_Record):",
        "    address: Address",
        "class Point(ctypes.Structure):",
        "class Shape(_Record):",
        "    class Polygon(Shape):",
        "class Counter(_Object):",
        "class geometry:",
        "    class Spot(_Record):",
        "    def distance(a: _ns_geometry.Spot, b: _ns_geometry.Spot) -> float:",
        "    class Canvas(_Object):",
        "        def draw(self, spot: _ns_geometry.Spot) -> int:",
        "class sprites:",
        "    def area(w: int, h: int) -> int:",
        "class unmentioned:",
        "    Lonely: TypeAlias = Lonely",
        "class Lonely(_Record):",
        "    def __init__(self, start: int, label: str) -> None:",
        "    def add(self, by: int) -> int:",
        "    def live() -> int:",
        "    class ParseIntError(ffi_export.FfiError): ...",
        # An #[export] error type: a class per variant, typed fields and value.
        "    class ArithmeticError(ffi_export.FfiError):",
        "        value: ArithmeticError",
        "        class IntegerOverflow(errors.ArithmeticError):",
        '            variant: Literal["IntegerOverflow"]',
        "            value: ArithmeticError.IntegerOverflow",
        "            a: int",
        "            op: str",
        "        class OutOfRange(errors.ArithmeticError):",
        "            _1: str",
        "        class Locked(errors.Denied):",
        "            value: Literal[Denied.Locked]",
        "    class ValidationError(ffi_export.FfiError):",
        "        hint: Optional[str]",
        "scale_by: _scale_by_batched",
        "    Rust: ``fn parse_int(text: &str) -> Result<i64, ParseIntError>``",
        "async def add_later(a: int, b: int) -> int:",
        "    async def started_after(ms: int) -> Stopwatch:",
        # Trait objects and closures inside other values, both ways.
        "def notify_all(listeners: Sequence[Listener], kind: str) -> List[str]:",
        "def apply_steps(steps: Mapping[str, Callable[[int], int]], x: int) -> Dict[str, int]:",
        "def maybe_apply(f: Optional[Callable[[str], str]], text: str) -> str:",
        "def named_steps() -> Dict[str, Callable[[int], int]]:",
        "def divider(n: int) -> Optional[Callable[[int], int]]:",
        "    step: Optional[Callable[[int], int]]",
        "    def listeners(self) -> List[Listener]:",
    ]:
        assert line in stub.splitlines(), line


def test_mypy_strict_passes_on_stubs_and_clients(typed_dir: str) -> None:
    result = run_mypy(typed_dir, "tests_typed.pyi", "examples_typed.pyi", "ffi_export.pyi",
                      "tests_client.py", "examples_client.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found in 5 source files" in result.stdout


def test_mypy_catches_wrong_calls(typed_dir: str) -> None:
    with open(os.path.join(typed_dir, "wrong_client.py"), "w") as f:
        f.write(
            "import tests_typed as t\n"
            "t.reverse(5)\n"
            "n: str = t.echo_u8(1)\n"
            "t.make_person('a')\n"
            "t.Counter(1, 'x').nope()\n"
            "t.next_kind('Admin')\n"
            "try:\n"
            "    t.checked_div(1, 0)\n"
            "except t.errors.ArithmeticError.DivisionByZero as e:\n"
            "    print(e.a)\n"
            "except t.errors.ArithmeticError.IntegerOverflow as e:\n"
            "    text: str = e.a\n"
            "t.geometry.distance(t.sprites.spot(1, 2, t.sprites.Layer.Air), t.geometry.Spot(x=1.0, y=2.0))\n"
            "t.Spot(x=1.0, y=2.0)\n"
            "class NoName:\n"
            "    def on_event(self, event: t.Event) -> None: ...\n"
            "t.notify_once(NoName(), 'k')\n"
            "async def later() -> None:\n"
            "    n: str = await t.add_later(1, 2)\n"
            "    m: int = t.add_later(1, 2)\n"
        )
    assert error_lines(typed_dir, "wrong_client.py") == ["2", "3", "4", "5", "6", "10", "12", "13", "14", "17", "19",
                                                         "20"]


def test_mypy_catches_wrong_object_arguments(typed_dir: str) -> None:
    with open(os.path.join(typed_dir, "wrong_objects.py"), "w") as f:
        f.write(
            "import tests_typed as t\n"
            "so = t.shared_objects\n"
            "so.Tally(1).absorb(so.Item('i', 1))\n"
            "so.Shelf().put(so.Tally(1))\n"
            "n: int = so.Shelf().items()\n"
            "so.Tally(1).absorb(so.Tally(2))\n"
        )
    assert error_lines(typed_dir, "wrong_objects.py") == ["3", "4", "5"]


def error_lines(typed_dir: str, client: str) -> list[str]:
    """The line numbers mypy --strict reports errors at in ``client``."""
    result = run_mypy(typed_dir, client)
    assert result.returncode == 1, result.stdout
    return [line.split(":")[1] for line in result.stdout.splitlines() if ": error:" in line]


def run_client(typed_dir: str, client: str) -> str:
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HELPER))
    result = subprocess.run([sys.executable, client], cwd=typed_dir, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_typed_clients_run(typed_dir: str) -> None:
    out = run_client(typed_dir, "examples_client.py")
    assert out.splitlines()[:3] == ["add: 5", "repeat: ababab", "fib: [1, 1, 2, 3, 5, 8] 6 1"]
    assert "error: Overflow True" in out.splitlines()
    out = run_client(typed_dir, "tests_client.py")
    assert "shapes: ['circle 1.0', 'rect 2.0x3.0', 'polygon tri [1.0, 2.0, 3.0]', 'empty']" in out.splitlines()
    assert out.splitlines()[-3:] == ["names: 2,-3 3.0 2 7 2 (6.0, 6, 6, 0.0) hihi x 3",
                                     "error: invalid digit found in string True", "panic: boom"]
    assert "owned: 6 a-b 3 [('a', 2), ('b', 1)]" in out.splitlines()
    assert "maps: {1: ['e'], 2: ['ab', 'cd']} [1, 3] -1.0 2.0 3 True b'AA'" in out.splitlines()
    assert "records: ['Ada'] 1 True" in out.splitlines()
    assert "fn refs: 3 ['a'] 2 [0, 1] x!!" in out.splitlines()
    assert "nested: ['recorder', 'recorder'] None {'inc': 2} 3 ['double', 'negate'] True 2 " \
           "('recorder', ['pressed 1', 'r: 1'], 3) []" in out.splitlines()
    assert "async: 3 {'a': 2} 0.0 [1, 2] [1] DivisionByZero" in out.splitlines()
    assert "inventory: ['item0', 'item1'] ['a', 'b'] (1.5, -2.0) 1" in out.splitlines()
    assert "defaults: hello a! hello a hello a? 8080 Guest None Hello b" in out.splitlines()
    assert "typed error: IntegerOverflow -9223372036854775808 -1 / True" in out.splitlines()
    assert "typed error: DivisionByZero division by zero" in out.splitlines()
    assert "record error: age 422 a positive number" in out.splitlines()
    assert "enum error: Locked Locked" in out.splitlines()
    assert "shared: 31 True -1 2" in out.splitlines()
    assert "moved: 1 True 3 4 ['wheel']" in out.splitlines()
    assert "traits: ['k', 'n'] [] recorder b: 2 ['h3']" in out.splitlines()


def test_typed_module_finds_the_library_next_to_itself(typed_dir: str, tmp_path: str) -> None:
    shutil.copy(os.path.join(typed_dir, "examples_typed.py"), tmp_path)
    shutil.copy(library_path("examples"), tmp_path)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HELPER))
    code = "import examples_typed as e; print(e.library.path == e._HERE, e.add(1, 2))"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.stdout == "True 3\n", result.stderr


def test_describe_command_lists_signatures() -> None:
    result = subprocess.run([sys.executable, HELPER, library_path("ffi_export_tests")],
                            capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert "parse_int: fn parse_int(text: &str) -> Result<i64, ParseIntError>" in lines
    assert "Counter_get: fn get(&self) -> u64" in lines
    result = subprocess.run([sys.executable, HELPER, "describe", "--json", library_path("examples")],
                            capture_output=True, text=True, check=True)
    assert '"abi_version": 4' in result.stdout
    tools = subprocess.run([sys.executable, TOOLS, "describe", library_path("ffi_export_tests")],
                           capture_output=True, text=True, check=True)
    assert tools.stdout.splitlines() == lines


# -- Protocols (test_protocols.py)


def test_stubs_declare_every_dunder_for_mypy_strict(tmp_path) -> None:
    """The generated stubs type `sorted`, `set`, `==`, `copy`, operators,
    `len` and indexing (the typed client `typed/protocols_client.py` passes
    mypy --strict, and runs), and a wrong use is a mypy error."""
    out = str(tmp_path)
    subprocess.run([sys.executable, TOOLS, "stubs", library_path("ffi_export_tests"), "--module",
                    os.path.join(out, "tests_typed.py"), "--helper-stub", out], check=True)
    shutil.copy(os.path.join(CLIENTS, "protocols_client.py"), out)
    with open(os.path.join(out, "wrong_protocols.py"), "w") as f:
        f.write("import tests_typed as t\n"
                "m = t.protocols\n"
                "m.Version() < 3\n"
                "m.Vec2(1.0, 2.0) + m.Version()\n"
                "x: str = m.Bag([])['a']\n"
                "y: int = m.Vec2(1.0, 2.0) * m.Vec2(1.0, 2.0)\n")
    result = run_mypy(out, "tests_typed.pyi", "ffi_export.pyi", "protocols_client.py")
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_mypy(out, "tests_typed.pyi", "ffi_export.pyi", "wrong_protocols.py")
    assert sorted({line.split(":")[1] for line in result.stdout.splitlines() if "wrong_protocols.py:" in line}) == [
        "3", "4", "5", "6"], result.stdout
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([out, os.path.dirname(HELPER)]))
    subprocess.run([sys.executable, os.path.join(out, "protocols_client.py")], check=True, env=env, cwd=out)


# -- Iterators, properties, records as values (test_values.py)


def test_stubs_declare_iterators_properties_and_match_args(typed_dir) -> None:
    import os

    with open(os.path.join(typed_dir, "tests_typed.pyi")) as f:
        stub = f.read().splitlines()
    for line in [
        "class RustIterator(_Closable, Iterator[_T_co]):",
        "    def songs(self) -> RustIterator[Song]:",
        "    def checked(self, limit: int) -> RustIterator[int]:",
        "    def count_up(n: int) -> RustIterator[int]:",
        "    def countdown(n: int) -> RustIterator[int]:",
        "    def longer_than(self, seconds: int) -> RustIterator[Song]:",
        "    @property",
        "    def volume(self) -> int:",
        "    @volume.setter",
        "    def volume(self, value: int) -> None: ...",
        "    __match_args__ = ('title', 'seconds')",
        "            __match_args__ = ('_0',)",
    ]:
        assert line in stub, line


def test_mypy_strict_passes_on_the_values_client_and_it_runs(typed_dir) -> None:
    result = run_mypy(typed_dir, "tests_typed.pyi", "values_client.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert run_client(typed_dir, "values_client.py").splitlines() == [
        "6 70 road Song(title='a', seconds=3) a",
        "b 4 Jazz",
        "pause 2",
        "True True 6",
        "0 1 2",
    ]


def test_mypy_catches_wrong_property_and_iterator_use(typed_dir) -> None:
    import os

    with open(os.path.join(typed_dir, "wrong_values.py"), "w") as f:
        f.write(
            "import tests_typed as t\n"
            "p = t.values.Playlist('x')\n"
            "p.seconds = 3\n"
            "p.volume = 'loud'\n"
            "s: str = next(p.lengths())\n"
            "for song in p.songs():\n"
            "    n: str = song.seconds\n"
        )
    result = run_mypy(typed_dir, "wrong_values.py")
    lines = [line.split(":")[1] for line in result.stdout.splitlines() if ": error:" in line]
    assert lines == ["3", "4", "5", "7"], result.stdout
