"""Soak: N mixed calls (tests/python/mixed.py, every kind of export, success,
error and panic) in one process, sampling RSS; fails when RSS grows by more
than the bound after a warm-up.

    python tests/python/soak.py [CALLS] [BOUND_MIB]

`bash scripts/soak.sh` runs one million calls; test_soak.py runs 100,000.
The bound (16 MiB by default) is far below what any per-call leak would
show: the smallest allocation crossing per operation is a few bytes, and a
leak of 16 bytes per call is already 16 MiB over a million calls; the
records, strings and vectors these calls return are 100 bytes to 1 KiB.
"""

from __future__ import annotations

import gc
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from conftest import library_path  # noqa: E402 (puts the helper on sys.path)

import ffi_export  # noqa: E402
import mixed  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
MiB = 1024 * 1024


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def soak(calls: int, bound_mib: float, samples: int = 10) -> int:
    lib = ffi_export.load(library_path("ffi_export_tests"))
    live = lib.Counter.live()
    shared = lib.Counter(0, "shared")
    state = mixed.State(lib, "soak", shared)
    call = mixed.call
    if os.environ.get("FFI_EXPORT_SOAK_CONTROL_LEAK") == "1":
        # Control: one 4 KiB string per operation taken through the raw ABI
        # and never freed, to show the bound catches a small leak.
        import ctypes
        raw = lib._cdll["make_string"]
        raw.restype, raw.argtypes = ffi_export._FfiBuffer, [ctypes.c_size_t]

        def call(state, i):  # noqa: F811
            raw(4096)
            return mixed.call(state, i)
    warmup = min(20_000, calls // 10)
    made, i = 0, 0
    while made < warmup:
        made += call(state, i)
        i += 1
    gc.collect()
    base = rss()
    started = time.perf_counter()
    step = (calls - made) // samples
    worst = 0
    print(f"soak: {calls:,} calls; RSS after {made:,} warm-up calls: {base / MiB:.1f} MiB", flush=True)
    for sample in range(1, samples + 1):
        target = warmup + step * sample
        while made < target:
            made += call(state, i)
            i += 1
        gc.collect()
        grown = rss() - base
        worst = max(worst, grown)
        print(f"  {made:>9,} calls  RSS {rss() / MiB:7.1f} MiB  growth {grown / MiB:+6.2f} MiB", flush=True)
    assert shared.get() == state.shared_adds
    shared.close()
    assert lib.Counter.live() == live, "objects leaked"
    elapsed = time.perf_counter() - started
    growth = rss() - base
    print(f"soak: {made:,} calls in {elapsed:.1f} s; RSS growth {growth / MiB:+.2f} MiB "
          f"(max {worst / MiB:+.2f}, bound {bound_mib} MiB)")
    if worst > bound_mib * MiB:
        print("soak: FAILED: RSS grew beyond the bound", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    bound = float(sys.argv[2]) if len(sys.argv) > 2 else 16.0
    sys.exit(soak(calls, bound))
