"""ffi-export benchmarks: each workload through the hand-written floor
(``extern "C"`` + ctypes with ``argtypes``, in the same cdylib), through
ffi-export, in pure Python and, when cffi is installed, through cffi's ABI
mode. Prints medians of interleaved repeats and ratios to the floor, and to
PyO3 doing the same work (``benches/pyo3``) where it has the row.

Run with ``bash scripts/bench.sh`` (builds in release first).
"""

from __future__ import annotations

import argparse
import array
import asyncio
import ctypes
import html
import importlib.machinery
import importlib.util
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import timeit
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "ffi-export-runtime", "python"))

import ffi_export  # noqa: E402

TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
LIBRARY = os.path.join(TARGET, "release", "libffi_export_bench.so")

Impl = Callable[[], object]


class FloorError(Exception):
    """The floor's exception for `floor_fail`."""


def per_item(iterator: ffi_export.RustIterator) -> ffi_export.RustIterator:
    """``iterator`` reading one item per crossing (its ``chunk`` set to 1)."""
    iterator.chunk = 1
    return iterator


def python_fail(x: int) -> int:
    raise ValueError(f"bad value {x}")


def raising(call: Callable[[], object]) -> Impl:
    """A call that raises, caught: the row times raise and catch."""
    def run() -> None:
        try:
            call()
        except Exception:  # noqa: BLE001 - every implementation raises its own class
            pass
    return run


class Floor:
    """The hand-written ctypes bindings: what the seeds teach."""

    def __init__(self, path: str) -> None:
        lib = ctypes.CDLL(path)
        self.lib = lib
        c = ctypes
        lib.floor_noop.argtypes = []
        lib.floor_noop.restype = None
        lib.floor_add.argtypes = [c.c_int64, c.c_int64]
        lib.floor_add.restype = c.c_int64
        lib.floor_half.argtypes = [c.c_double]
        lib.floor_half.restype = c.c_double
        lib.floor_fail.argtypes = [c.c_int64, c.POINTER(c.c_void_p)]
        lib.floor_fail.restype = c.c_int64
        lib.floor_upper.argtypes = [c.c_char_p, c.c_size_t]
        lib.floor_upper.restype = c.c_void_p
        lib.floor_string_free.argtypes = [c.c_void_p]
        lib.floor_string_free.restype = None
        lib.floor_sum.argtypes = [c.POINTER(c.c_double), c.c_size_t]
        lib.floor_sum.restype = c.c_double
        lib.floor_mask.argtypes = [c.c_void_p, c.c_size_t, c.c_uint32]
        lib.floor_mask.restype = None
        lib.floor_range.argtypes = [c.c_size_t]
        lib.floor_range.restype = c.c_void_p
        lib.floor_f64_free.argtypes = [c.c_void_p, c.c_size_t]
        lib.floor_f64_free.restype = None
        lib.floor_u64_range.argtypes = [c.c_size_t]
        lib.floor_u64_range.restype = c.c_void_p
        lib.floor_u64_free.argtypes = [c.c_void_p, c.c_size_t]
        lib.floor_u64_free.restype = None

        class CUser(c.Structure):
            _fields_ = [("id", c.c_uint32), ("name", c.c_void_p), ("score", c.c_double)]

        self.CUser = CUser
        lib.floor_make_user.argtypes = [c.c_uint32]
        lib.floor_make_user.restype = CUser
        lib.floor_user_free.argtypes = [CUser]
        lib.floor_user_free.restype = None
        lib.floor_score_of.argtypes = [c.POINTER(CUser)]
        lib.floor_score_of.restype = c.c_double
        lib.floor_counter_new.argtypes = []
        lib.floor_counter_new.restype = c.c_void_p
        lib.floor_counter_incr.argtypes = [c.c_void_p]
        lib.floor_counter_incr.restype = c.c_uint64
        lib.floor_counter_free.argtypes = [c.c_void_p]
        lib.floor_counter_free.restype = None
        lib.floor_key_new.argtypes = [c.c_uint64, c.c_char_p, c.c_size_t]
        lib.floor_key_new.restype = c.c_void_p
        lib.floor_key_eq.argtypes = [c.c_void_p, c.c_void_p]
        lib.floor_key_eq.restype = c.c_bool
        lib.floor_key_hash.argtypes = [c.c_void_p]
        lib.floor_key_hash.restype = c.c_uint64
        self.callback_type = c.CFUNCTYPE(c.c_double, c.c_double)
        lib.floor_apply.argtypes = [self.callback_type, c.c_double]
        lib.floor_apply.restype = c.c_double
        self.tick_type = c.CFUNCTYPE(c.c_uint64, c.c_void_p, c.c_uint64)
        lib.floor_tick_many.argtypes = [self.tick_type, c.c_void_p, c.c_uint64]
        lib.floor_tick_many.restype = c.c_uint64
        lib.floor_pi.argtypes = [c.c_uint64]
        lib.floor_pi.restype = c.c_double
        lib.floor_shuffle.argtypes = [c.c_void_p, c.c_size_t, c.c_uint64]
        lib.floor_shuffle.restype = None
        lib.floor_add_arrays.argtypes = [c.c_void_p, c.c_void_p, c.c_void_p, c.c_size_t]
        lib.floor_add_arrays.restype = None
        lib.floor_sum_i64.argtypes = [c.c_void_p, c.c_size_t]
        lib.floor_sum_i64.restype = c.c_int64
        lib.floor_total_count.argtypes = [c.c_void_p, c.c_void_p, c.c_size_t]
        lib.floor_total_count.restype = c.c_uint32

    def add_arrays(self, a: numpy.ndarray, b: numpy.ndarray) -> numpy.ndarray:
        out = numpy.empty_like(a)
        self.lib.floor_add_arrays(a.ctypes.data, b.ctypes.data, out.ctypes.data, len(a))
        return out

    def fail(self, x: int) -> int:
        message = ctypes.c_void_p()
        result = self.lib.floor_fail(x, ctypes.byref(message))
        if message.value:
            try:
                text = ctypes.string_at(message.value).decode()
            finally:
                self.lib.floor_string_free(message.value)
            raise FloorError(text)
        return int(result)

    def upper(self, text: str) -> str:
        data = text.encode()
        ptr = self.lib.floor_upper(data, len(data))
        try:
            return ctypes.string_at(ptr).decode()
        finally:
            self.lib.floor_string_free(ptr)

    def sum(self, values: numpy.ndarray) -> float:
        return self.lib.floor_sum(values.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), len(values))

    def mask(self, data: bytearray, key: int) -> None:
        self.lib.floor_mask((ctypes.c_char * len(data)).from_buffer(data), len(data), key)

    def range_last(self, n: int) -> float:
        ptr = self.lib.floor_range(n)
        try:
            return (ctypes.c_double * n).from_address(ptr)[n - 1]
        finally:
            self.lib.floor_f64_free(ptr, n)

    def sum_u64_range(self, n: int) -> int:
        ptr = self.lib.floor_u64_range(n)
        try:
            return sum((ctypes.c_uint64 * n).from_address(ptr))
        finally:
            self.lib.floor_u64_free(ptr, n)

    def make_user(self, uid: int) -> Tuple[int, str, float]:
        user = self.lib.floor_make_user(uid)
        try:
            return user.id, ctypes.string_at(user.name).decode(), user.score
        finally:
            self.lib.floor_user_free(user)

    def score_of(self, uid: int, name: str, score: float) -> float:
        data = name.encode()
        user = self.CUser(uid, ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p), score)
        return float(self.lib.floor_score_of(ctypes.byref(user)))

    def sum_array(self, values: "array.array[float]") -> float:
        return float(self.lib.floor_sum((ctypes.c_double * len(values)).from_buffer(values), len(values)))

    def sum_i64(self, values: List[int]) -> int:
        return self.lib.floor_sum_i64((ctypes.c_int64 * len(values))(*values), len(values))

    def total_count(self, counts: Dict[str, int]) -> int:
        keys = (ctypes.c_char_p * len(counts))(*[key.encode() for key in counts])
        values = (ctypes.c_uint32 * len(counts))(*counts.values())
        return self.lib.floor_total_count(keys, values, len(counts))

    def shuffle(self, values: numpy.ndarray, seed: int) -> None:
        self.lib.floor_shuffle(values.ctypes.data, len(values), seed)


def cffi_bindings(path: str) -> Optional[object]:
    """cffi's ABI mode over the same hand-written functions, if installed."""
    try:
        import cffi
    except ImportError:
        return None
    ffi = cffi.FFI()
    ffi.cdef(
        """
        void floor_noop(void);
        int64_t floor_add(int64_t, int64_t);
        char *floor_upper(const uint8_t *, size_t);
        void floor_string_free(char *);
        double floor_sum(const double *, size_t);
        void floor_mask(uint8_t *, size_t, uint32_t);
        double floor_pi(uint64_t);
        """
    )
    return ffi, ffi.dlopen(path)


def python_mask(data: bytearray, key: int) -> None:
    k = key.to_bytes(4, "little")
    for i in range(len(data)):
        data[i] ^= k[i & 3]


def python_pi(terms: int) -> float:
    total, sign = 0.0, 1.0
    for k in range(terms):
        total += sign / (2 * k + 1)
        sign = -sign
    return 4 * total


class PyTicker:
    """A Python object whose method Rust calls (the trait `Ticker`)."""

    def tick(self, i: int) -> int:
        return i + 1


def python_tick_many(ticker: PyTicker, count: int) -> int:
    total = 0
    for i in range(count):
        total += ticker.tick(i)
    return total


class PyUser:
    """The record `User` as a plain Python class."""

    __slots__ = ("id", "name", "score")

    def __init__(self, id: int, name: str, score: float) -> None:  # noqa: A002 - the record's field
        self.id, self.name, self.score = id, name, score


def python_score_of(user: PyUser) -> float:
    return user.id + user.score + len(user.name)


class PyKey:
    """The protocols row in pure Python: ``==`` and ``hash()`` by value."""

    __slots__ = ("id", "name")

    def __init__(self, id: int, name: str) -> None:  # noqa: A002 - the peer's field name
        self.id, self.name = id, name

    def __eq__(self, other: object) -> bool:
        if type(other) is not PyKey:
            return NotImplemented
        return self.id == other.id and self.name == other.name

    def __hash__(self) -> int:
        return hash((self.id, self.name))


class PyCounter:
    def __init__(self) -> None:
        self.value = 0

    def incr(self) -> int:
        self.value += 1
        return self.value


def pyo3_module() -> Optional[Any]:
    """The PyO3 peer (``benches/pyo3``, built by ``scripts/bench.sh`` for
    this interpreter), or None when it was not built."""
    version = f"py{sys.version_info[0]}.{sys.version_info[1]}"
    path = os.path.join(TARGET, "pyo3", version, "release", "libffi_export_pyo3_bench.so")
    if not os.path.exists(path):
        return None
    name = "ffi_export_pyo3_bench"
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None:
        return None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def workloads(scale: float) -> List[Tuple[str, int, Dict[str, Impl]]]:
    """(name, calls per timing, {implementation: zero-argument callable})."""
    floor = Floor(LIBRARY)
    lib = ffi_export.load(LIBRARY)
    cffi_pair = cffi_bindings(LIBRARY)
    n = lambda base: max(1, int(base * scale))  # noqa: E731

    small = numpy.arange(16, dtype=numpy.float64)
    big = numpy.arange(1_000_000, dtype=numpy.float64)
    small_list, big_list = small.tolist(), big.tolist()
    small_array = array.array("d", small_list)
    buf64, buf256 = bytearray(64 * 1024), bytearray(256 * 1024)
    text = "hello, wörld " * 4
    raw_counter = floor.lib.floor_counter_new()
    counter = lib.Counter()
    user = lib.User(id=7, name="user7", score=10.5)
    py_user = PyUser(7, "user7", 10.5)
    py_counter = PyCounter()
    double = lambda x: x * 2.0  # noqa: E731
    floor_double = floor.callback_type(double)
    perm = numpy.arange(100_000, dtype=numpy.int64)
    perm_list = list(range(100_000))
    rng = random.Random(1)
    ints_a = numpy.arange(1_000_000, dtype=numpy.int64)
    ints_b = numpy.arange(1_000_000, dtype=numpy.int64)[::-1].copy()
    ints_a_list, ints_b_list = ints_a.tolist(), ints_b.tolist()
    thousand = list(range(1000))
    ticker = PyTicker()
    floor_tick = floor.tick_type(lambda _context, i: ticker.tick(i))
    counts = {f"key{i}": i for i in range(1000)}

    result: List[Tuple[str, int, Dict[str, Impl]]] = [
        ("noop", n(200_000), {
            "floor": floor.lib.floor_noop, "ffi-export": lib.noop, "python": lambda: None}),
        ("add(i64, i64)", n(200_000), {
            "floor": lambda: floor.lib.floor_add(1, 2), "ffi-export": lambda: lib.add(1, 2),
            "python": lambda: 1 + 2}),
        ("f(f64) -> f64", n(200_000), {
            "floor": lambda: floor.lib.floor_half(1.5), "ffi-export": lambda: lib.half(1.5),
            "python": lambda: 1.5 * 0.5}),
        ("Err raised (typed, message)", n(100_000), {
            "floor": raising(lambda: floor.fail(7)), "ffi-export": raising(lambda: lib.fail(7)),
            "python": raising(lambda: python_fail(7))}),
        ("string round trip", n(100_000), {
            "floor": lambda: floor.upper(text), "ffi-export": lambda: lib.upper(text),
            "python": lambda: text.upper()}),
        ("sum f64[16] (numpy)", n(100_000), {
            "floor": lambda: floor.sum(small), "ffi-export": lambda: lib.sum(small),
            "python": lambda: sum(small_list)}),
        ("sum f64[16] (array.array)", n(100_000), {
            "floor": lambda: floor.sum_array(small_array), "ffi-export": lambda: lib.sum(small_array),
            "python": lambda: sum(small_array)}),
        ("sum f64[1M] (numpy)", n(200), {
            "floor": lambda: floor.sum(big), "ffi-export": lambda: lib.sum(big),
            "python": lambda: sum(big_list)}),
        ("mask 64 KiB in place", n(2_000), {
            "floor": lambda: floor.mask(buf64, 0x1234ABCD), "ffi-export": lambda: lib.mask(buf64, 0x1234ABCD),
            "python": lambda: python_mask(buf64, 0x1234ABCD)}),
        ("mask 256 KiB in place", n(500), {
            "floor": lambda: floor.mask(buf256, 0x1234ABCD), "ffi-export": lambda: lib.mask(buf256, 0x1234ABCD),
            "python": lambda: python_mask(buf256, 0x1234ABCD)}),
        ("Vec<f64> of 1,000 returned", n(50_000), {
            "floor": lambda: floor.range_last(1000), "ffi-export": lambda: lib.range(1000)[999],
            "python": lambda: [float(i) for i in range(1000)][999]}),
        ("Vec<i64> of 1,000 passed", n(20_000), {
            "floor": lambda: floor.sum_i64(thousand), "ffi-export": lambda: lib.sum_owned(thousand),
            "python": lambda: sum(thousand)}),
        ("HashMap<String, u32> of 1,000", n(2_000), {
            "floor": lambda: floor.total_count(counts), "ffi-export": lambda: lib.total_count(counts),
            "python": lambda: sum(counts.values())}),
        ("record returned", n(100_000), {
            "floor": lambda: floor.make_user(7), "ffi-export": lambda: lib.make_user(7),
            "python": lambda: (7, "user7", 10.5)}),
        ("record passed in", n(100_000), {
            "floor": lambda: floor.score_of(py_user.id, py_user.name, py_user.score),
            "ffi-export": lambda: lib.score_of(user), "python": lambda: python_score_of(py_user)}),
        ("object method call", n(200_000), {
            "floor": lambda: floor.lib.floor_counter_incr(raw_counter), "ffi-export": counter.incr,
            "python": py_counter.incr}),
        ("object constructor + drop", n(100_000), {
            "floor": lambda: floor.lib.floor_counter_free(floor.lib.floor_counter_new()),
            "ffi-export": lib.Counter, "python": PyCounter}),
        ("callback call", n(50_000), {
            "floor": lambda: floor.lib.floor_apply(floor_double, 1.5),
            "ffi-export": lambda: lib.apply_once(1.5, double), "python": lambda: double(1.5)}),
        ("trait method called from Rust into Python (x1,000)", n(200), {
            "floor": lambda: floor.lib.floor_tick_many(floor_tick, None, 1000),
            "ffi-export": lambda: lib.tick_many(ticker, 1000),
            "python": lambda: python_tick_many(ticker, 1000)}),
        ("pi (1M terms)", n(20), {
            "floor": lambda: floor.lib.floor_pi(1_000_000), "ffi-export": lambda: lib.pi(1_000_000),
            "python": lambda: python_pi(1_000_000)}),
        ("add over 1M elements", n(100), {
            "floor": lambda: floor.add_arrays(ints_a, ints_b),
            "ffi-export": lambda: lib.add.map(ints_a, ints_b),
            "python": lambda: numpy.add(ints_a, ints_b)}),
        ("add, 1M separate calls", max(1, n(1)), {
            "floor": lambda: [floor.lib.floor_add(x, y) for x, y in zip(ints_a_list, ints_b_list)],
            "ffi-export": lambda: [lib.add(x, y) for x, y in zip(ints_a_list, ints_b_list)],
            "python": lambda: [x + y for x, y in zip(ints_a_list, ints_b_list)]}),
        ("shuffle 100k", n(200), {
            "floor": lambda: floor.shuffle(perm, 7), "ffi-export": lambda: lib.shuffle(perm, 7),
            "python": lambda: rng.shuffle(perm_list)}),
        # Iteration: the floor reads one Rust buffer of all the items (the
        # least crossing there is); ffi-export reads the `impl Iterator` in
        # growing chunks (its default), one item per crossing, and returns
        # the same items as a `Vec`.
        ("iterate 100k u64 (impl Iterator)", n(50), {
            "floor": lambda: floor.sum_u64_range(100_000), "ffi-export": lambda: sum(lib.count_up(100_000)),
            "python": lambda: sum(iter(range(100_000)))}),
        ("iterate 100k u64, one crossing per item", n(5), {
            "floor": lambda: floor.sum_u64_range(100_000), "ffi-export": lambda: sum(per_item(lib.count_up(100_000))),
            "python": lambda: sum(iter(range(100_000)))}),
        ("Vec<u64> of 100k returned, summed", n(50), {
            "floor": lambda: floor.sum_u64_range(100_000), "ffi-export": lambda: sum(lib.count_vec(100_000)),
            "python": lambda: sum(list(range(100_000)))}),
    ]
    # Async: 100 awaits in one run of an asyncio loop per timing (ratios are
    # to the floor running the same function synchronously in that loop).
    loop = asyncio.new_event_loop()

    def in_loop(step: Callable[[], Any], awaited: bool) -> Impl:
        async def hundred() -> None:
            for _ in range(100):
                if awaited:
                    await step()
                else:
                    step()
        return lambda: loop.run_until_complete(hundred())

    async def python_add_async(a: int, b: int) -> int:
        return a + b

    result += [
        ("async fn round trip (x100)", n(200), {
            "floor": in_loop(lambda: floor.lib.floor_add(1, 2), False),
            "ffi-export": in_loop(lambda: lib.add_async(1, 2), True),
            "python": in_loop(lambda: python_add_async(1, 2), True)}),
        ("async row's fn, sync (x100)", n(200), {
            "floor": in_loop(lambda: floor.lib.floor_add(1, 2), False),
            "ffi-export": in_loop(lambda: lib.add(1, 2), False),
            "python": in_loop(lambda: 1 + 2, False)}),
    ]
    # Protocols: `==` and `hash()` of an `#[export(Eq, Hash)]` object.
    key_a, key_b = lib.Key(7, "seven"), lib.Key(7, "seven")
    raw_a, raw_b = (floor.lib.floor_key_new(7, b"seven", 5) for _ in range(2))
    py_a, py_b = PyKey(7, "seven"), PyKey(7, "seven")
    result += [
        ("object == (#[export(Eq)])", n(100_000), {
            "floor": lambda: floor.lib.floor_key_eq(raw_a, raw_b), "ffi-export": lambda: key_a == key_b,
            "python": lambda: py_a == py_b}),
        ("object hash() (#[export(Hash)])", n(100_000), {
            "floor": lambda: floor.lib.floor_key_hash(raw_a), "ffi-export": lambda: hash(key_a),
            "python": lambda: hash(py_a)}),
    ]
    # `#[export(keep_gil)]` twins of the first rows (the floor, python and
    # PyO3 columns are those rows' work again).
    result += [
        ("noop, GIL kept", n(200_000), {
            "floor": floor.lib.floor_noop, "ffi-export": lib.noop_kept, "python": lambda: None}),
        ("add(i64, i64), GIL kept", n(200_000), {
            "floor": lambda: floor.lib.floor_add(1, 2), "ffi-export": lambda: lib.add_kept(1, 2),
            "python": lambda: 1 + 2}),
        ("f(f64) -> f64, GIL kept", n(200_000), {
            "floor": lambda: floor.lib.floor_half(1.5), "ffi-export": lambda: lib.half_kept(1.5),
            "python": lambda: 1.5 * 0.5}),
        ("sum f64[16] (numpy), GIL kept", n(100_000), {
            "floor": lambda: floor.sum(small), "ffi-export": lambda: lib.sum_kept(small),
            "python": lambda: sum(small_list)}),
        ("sum f64[16] (array.array), GIL kept", n(100_000), {
            "floor": lambda: floor.sum_array(small_array), "ffi-export": lambda: lib.sum_kept(small_array),
            "python": lambda: sum(small_array)}),
        ("callback call, GIL kept", n(50_000), {
            "floor": lambda: floor.lib.floor_apply(floor_double, 1.5),
            "ffi-export": lambda: lib.apply_once_kept(1.5, double), "python": lambda: double(1.5)}),
    ]
    pyo3 = pyo3_module()
    if pyo3 is not None:
        pyo3_user, pyo3_counter = pyo3.User(7, "user7", 10.5), pyo3.Counter()
        pyo3_a, pyo3_b = pyo3.Key(7, "seven"), pyo3.Key(7, "seven")
        peers = {
            "async fn round trip (x100)": in_loop(lambda: pyo3.add_async(1, 2), True),
            "async row's fn, sync (x100)": in_loop(lambda: pyo3.add(1, 2), False),
            "noop": pyo3.noop,
            "add(i64, i64)": lambda: pyo3.add(1, 2),
            "f(f64) -> f64": lambda: pyo3.half(1.5),
            "Err raised (typed, message)": raising(lambda: pyo3.fail(7)),
            "string round trip": lambda: pyo3.upper(text),
            "Vec<i64> of 1,000 passed": lambda: pyo3.sum_owned(thousand),
            "HashMap<String, u32> of 1,000": lambda: pyo3.total_count(counts),
            "trait method called from Rust into Python (x1,000)": lambda: pyo3.tick_many(ticker, 1000),
            "sum f64[16] (numpy)": lambda: pyo3.sum(small),
            "sum f64[16] (array.array)": lambda: pyo3.sum(small_array),
            "sum f64[1M] (numpy)": lambda: pyo3.sum(big),
            "Vec<f64> of 1,000 returned": lambda: pyo3.range(1000)[999],
            "record returned": lambda: pyo3.make_user(7),
            "record passed in": lambda: pyo3.score_of(pyo3_user),
            "object method call": pyo3_counter.incr,
            "object constructor + drop": pyo3.Counter,
            "callback call": lambda: pyo3.apply_once(1.5, double),
            "iterate 100k u64 (impl Iterator)": lambda: sum(pyo3.count_up(100_000)),
            "iterate 100k u64, one crossing per item": lambda: sum(pyo3.count_up(100_000)),
            "Vec<u64> of 100k returned, summed": lambda: sum(pyo3.count_vec(100_000)),
            "object == (#[export(Eq)])": lambda: pyo3_a == pyo3_b,
            "object hash() (#[export(Hash)])": lambda: hash(pyo3_a),
        }
        # The `keep_gil` twins compare with the same PyO3 functions.
        peers.update({"noop, GIL kept": peers["noop"], "add(i64, i64), GIL kept": peers["add(i64, i64)"],
                      "f(f64) -> f64, GIL kept": peers["f(f64) -> f64"],
                      "sum f64[16] (numpy), GIL kept": peers["sum f64[16] (numpy)"],
                      "sum f64[16] (array.array), GIL kept": peers["sum f64[16] (array.array)"],
                      "callback call, GIL kept": peers["callback call"]})
        for name, _, impls in result:
            if name in peers:
                impls["pyo3"] = peers[name]
    if cffi_pair is not None:
        ffi, c = cffi_pair
        text_bytes = text.encode()

        def cffi_upper() -> str:
            ptr = c.floor_upper(text_bytes, len(text_bytes))
            try:
                return ffi.string(ptr).decode()
            finally:
                c.floor_string_free(ptr)

        extra = {
            "noop": c.floor_noop,
            "add(i64, i64)": lambda: c.floor_add(1, 2),
            "string round trip": cffi_upper,
            "sum f64[16] (numpy)": lambda: c.floor_sum(ffi.from_buffer("double[]", small), 16),
            "sum f64[1M] (numpy)": lambda: c.floor_sum(ffi.from_buffer("double[]", big), len(big)),
            "mask 64 KiB in place": lambda: c.floor_mask(ffi.from_buffer(buf64), len(buf64), 0x1234ABCD),
            "mask 256 KiB in place": lambda: c.floor_mask(ffi.from_buffer(buf256), len(buf256), 0x1234ABCD),
            "pi (1M terms)": lambda: c.floor_pi(1_000_000),
        }
        for name, _, impls in result:
            if name in extra:
                impls["cffi"] = extra[name]
    return result


def check_agreement() -> None:
    """The implementations compute the same thing (a benchmark of wrong code
    measures nothing)."""
    floor = Floor(LIBRARY)
    lib = ffi_export.load(LIBRARY)
    assert floor.lib.floor_add(2, 3) == lib.add(2, 3) == 5
    assert floor.upper("abc é") == lib.upper("abc é") == "ABC É"
    assert floor.lib.floor_half(3.0) == lib.half(3.0) == 1.5
    for fail in (floor.fail, lib.fail, python_fail):
        try:
            fail(7)
        except Exception as exc:  # noqa: BLE001 - each raises its own class
            assert str(exc) == "bad value 7"
        else:
            raise AssertionError("no error raised")
    values = numpy.arange(16, dtype=numpy.float64)
    assert floor.sum(values) == lib.sum(values) == 120.0
    a, b = bytearray(b"websocket!"), bytearray(b"websocket!")
    floor.mask(a, 0xDEADBEEF)
    lib.mask(b, 0xDEADBEEF)
    c = bytearray(b"websocket!")
    python_mask(c, 0xDEADBEEF)
    assert a == b == c
    assert floor.range_last(1000) == lib.range(1000)[999] == 999.0
    assert floor.sum_u64_range(1000) == sum(lib.count_up(1000)) == sum(per_item(lib.count_up(1000))) \
        == sum(lib.count_vec(1000)) == sum(range(1000))
    user = lib.make_user(7)
    assert floor.make_user(7) == (user.id, user.name, user.score)
    record = lib.User(id=7, name="user7", score=10.5)
    assert floor.score_of(7, "user7", 10.5) == lib.score_of(record) == \
        python_score_of(PyUser(7, "user7", 10.5)) == 22.5
    small_array = array.array("d", range(16))
    assert floor.sum_array(small_array) == lib.sum(small_array) == lib.sum_kept(small_array) == 120.0
    assert lib.sum_kept(values) == 120.0
    assert abs(floor.lib.floor_pi(100_000) - python_pi(100_000)) < 1e-9
    assert lib.pi(100_000) == floor.lib.floor_pi(100_000)
    p1, p2 = numpy.arange(1000, dtype=numpy.int64), numpy.arange(1000, dtype=numpy.int64)
    floor.shuffle(p1, 3)
    lib.shuffle(p2, 3)
    assert (p1 == p2).all() and sorted(p1.tolist()) == list(range(1000))
    a, b = numpy.arange(1000, dtype=numpy.int64), numpy.arange(1000, dtype=numpy.int64)[::-1].copy()
    assert (floor.add_arrays(a, b) == lib.add.map(a, b)).all()
    assert lib.add.map(a, b).tolist() == [lib.add(int(x), int(y)) for x, y in zip(a, b)]
    thousand, counts = list(range(1000)), {f"key{i}": i for i in range(1000)}
    assert floor.sum_i64(thousand) == lib.sum_owned(thousand) == sum(thousand)
    assert floor.total_count(counts) == lib.total_count(counts) == sum(counts.values())
    ticker = PyTicker()
    floor_tick = floor.tick_type(lambda _context, i: ticker.tick(i))
    assert floor.lib.floor_tick_many(floor_tick, None, 100) == lib.tick_many(ticker, 100) == \
        python_tick_many(ticker, 100) == 5050
    assert asyncio.run(lib.add_async(2, 3)) == 5
    # Protocols: `==` and `hash()` agree with Rust's, and between peers.
    key, raw = lib.Key(7, "seven"), floor.lib.floor_key_new(7, b"seven", 5)
    assert key == lib.Key(7, "seven") and key != lib.Key(8, "seven")
    assert floor.lib.floor_key_eq(raw, floor.lib.floor_key_new(7, b"seven", 5))
    assert hash(key) == hash(floor.lib.floor_key_hash(raw)) or hash(key) == floor.lib.floor_key_hash(raw)
    assert lib.noop_kept() is None and lib.add_kept(2, 3) == 5 and lib.half_kept(3.0) == 1.5
    pyo3 = pyo3_module()
    if pyo3 is not None:
        assert pyo3.Key(7, "seven") == pyo3.Key(7, "seven") != pyo3.Key(8, "seven")
        assert pyo3.tick_many(ticker, 100) == 5050
        assert pyo3.add(2, 3) == 5 and pyo3.upper("abc é") == "ABC É" and pyo3.half(3.0) == 1.5
        try:
            pyo3.fail(7)
        except pyo3.BenchError as exc:
            assert str(exc) == "bad value 7"
        assert pyo3.sum_owned(thousand) == sum(thousand) and pyo3.total_count(counts) == sum(counts.values())
        assert asyncio.run(pyo3.add_async(2, 3)) == 5
        assert pyo3.sum(values) == pyo3.sum(small_array) == 120.0 and pyo3.range(1000)[999] == 999.0
        peer_user = pyo3.make_user(7)
        assert (peer_user.id, peer_user.name, peer_user.score) == (user.id, user.name, user.score)
        assert pyo3.score_of(pyo3.User(7, "user7", 10.5)) == 22.5
        assert pyo3.Counter().incr() == lib.Counter().incr() == 1
        assert pyo3.apply_once(1.5, lambda x: x * 2.0) == lib.apply_once(1.5, lambda x: x * 2.0) == 3.0


def measure(number: int, impls: Dict[str, Impl], repeats: int) -> Dict[str, float]:
    """Median seconds per call of each implementation, over interleaved repeats."""
    samples: Dict[str, List[float]] = {name: [] for name in impls}
    for name, fn in impls.items():  # warm up
        fn()
    for _ in range(repeats):
        for name, fn in impls.items():
            samples[name].append(timeit.timeit(fn, number=number) / number)
    return {name: statistics.median(times) for name, times in samples.items()}


def human(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.0f} ns"


def machine() -> List[str]:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    rustc = subprocess.run(["rustc", "-V"], capture_output=True, text=True).stdout.strip()
    try:
        import cffi
        cffi_version = cffi.__version__
    except ImportError:
        cffi_version = "not installed"
    return [
        f"CPU: {cpu} ({os.cpu_count()} cores)",
        f"OS: {platform.platform()}",
        f"Python: {platform.python_implementation()} {platform.python_version()}, numpy {numpy.__version__}, cffi {cffi_version}",
        f"Rust: {rustc}, release build",
    ]


def plot(path: str, rows: List[Tuple[str, Dict[str, float]]], title: str) -> None:
    """Writes an SVG bar chart (stdlib only) of each row's ratios: ffi-export
    to the floor and, where the row has a PyO3 peer, ffi-export to PyO3, on a
    log scale with lines at 1× and at the 1.5× target."""
    low, high = 0.02, 500.0
    label_width, bar_width, bar, gap, top = 330, 520, 9, 8, 46
    height = top + len(rows) * (2 * bar + gap) + 40

    def x(ratio: float) -> float:
        ratio = min(max(ratio, low), high)
        return label_width + bar_width * math.log(ratio / low) / math.log(high / low)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + bar_width + 90}" '
        f'height="{height}" font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="8" y="16" font-size="13" font-weight="bold">{html.escape(title)}</text>',
        f'<rect x="{label_width}" y="24" width="10" height="9" fill="#4c72b0"/>'
        f'<text x="{label_width + 14}" y="32">ffi-export / floor (ctypes)</text>',
        f'<rect x="{label_width + 190}" y="24" width="10" height="9" fill="#dd8452"/>'
        f'<text x="{label_width + 204}" y="32">ffi-export / PyO3</text>',
    ]
    for tick in (0.1, 1.0, 10.0, 100.0):
        out.append(f'<line x1="{x(tick):.1f}" y1="{top - 6}" x2="{x(tick):.1f}" y2="{height - 30}" '
                   'stroke="#ccc"/>')
        out.append(f'<text x="{x(tick):.1f}" y="{height - 16}" text-anchor="middle">{tick:g}×</text>')
    out.append(f'<line x1="{x(1.5):.1f}" y1="{top - 6}" x2="{x(1.5):.1f}" y2="{height - 30}" '
               'stroke="#c44" stroke-dasharray="4 3"/>')
    out.append(f'<text x="{x(1.5) + 3:.1f}" y="{height - 30}" fill="#c44">1.5×</text>')
    y = top
    for name, medians in rows:
        out.append(f'<text x="{label_width - 6}" y="{y + bar + 3}" text-anchor="end">{html.escape(name)}</text>')
        pairs = [("#4c72b0", medians["ffi-export"] / medians["floor"])]
        if "pyo3" in medians:
            pairs.append(("#dd8452", medians["ffi-export"] / medians["pyo3"]))
        for i, (colour, ratio) in enumerate(pairs):
            top_y = y + i * bar
            out.append(f'<rect x="{label_width}" y="{top_y}" width="{x(ratio) - label_width:.1f}" '
                       f'height="{bar - 1}" fill="{colour}"/>')
            out.append(f'<text x="{x(ratio) + 3:.1f}" y="{top_y + bar - 2}" font-size="9">{ratio:.2f}×</text>')
        y += 2 * bar + gap
    out.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repeats per workload")
    parser.add_argument("--scale", type=float, default=1.0, help="scale the calls per timing")
    parser.add_argument("--only", help="run workloads whose name contains this")
    parser.add_argument("--plot", metavar="FILE", help="also write the ratios as an SVG bar chart")
    args = parser.parse_args()
    check_agreement()
    columns = ["floor", "ffi-export", "pyo3", "python", "cffi"]
    print("\n".join(machine()))
    print(f"Medians of {args.repeats} interleaved repeats; ratios are to the floor "
          "(hand-written extern \"C\" + ctypes with argtypes).\n")
    header = (f"| {'workload':<30} | " + " | ".join(f"{c:>20}" for c in columns)
              + f" | {'ffi-export / pyo3':>17} |")
    print(header)
    print("|" + "|".join("-" * (len(part) + 0) for part in header.split("|")[1:-1]) + "|")
    rows: List[Tuple[str, Dict[str, float]]] = []
    for name, number, impls in workloads(args.scale):
        if args.only and args.only not in name:
            continue
        medians = measure(number, impls, args.repeats)
        rows.append((name, medians))
        floor = medians["floor"]
        cells = []
        for column in columns:
            if column not in medians:
                cells.append(f"{'–':>20}")
            elif column == "floor":
                cells.append(f"{human(floor):>20}")
            else:
                cells.append(f"{human(medians[column]) + f' ({medians[column] / floor:.2f}×)':>20}")
        versus = f"{medians['ffi-export'] / medians['pyo3']:.2f}×" if "pyo3" in medians else "–"
        print(f"| {name:<30} | " + " | ".join(cells) + f" | {versus:>17} |", flush=True)
    if args.plot:
        plot(args.plot, rows, f"ffi-export, {platform.python_implementation()} {platform.python_version()}: "
             "time per call as a ratio (lower is faster)")
        print(f"\nwrote {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
