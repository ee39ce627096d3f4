#!/usr/bin/env bash
# Every test: formatting, clippy, the Python helper's ruff and mypy --strict,
# Rust unit/doc/trybuild tests, then the Python tests (example clients, every
# type across the boundary, bad input, leaks under valgrind and RSS loops).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
echo "--- cargo fmt --check"
cargo fmt --all --check
echo "--- cargo clippy"
cargo clippy --quiet --workspace --all-targets -- -D warnings
echo "--- module graphs have no cycle"
"$PY" scripts/module_graph.py ffi-export-runtime/src ffi-export-macros/src
echo "--- ruff and mypy --strict on the helper"
"$PY" -m ruff check --quiet --no-cache ffi-export-runtime/python
"$PY" -m ruff check --quiet --no-cache --config ffi-export-runtime/python/ruff.toml scripts/module_graph.py
"$PY" -m mypy --strict --cache-dir "$ROOT/target/mypy" \
    ffi-export-runtime/python/ffi_export.py ffi-export-runtime/python/ffi_export_tools.py \
    ffi-export-runtime/python/_ffi_export_build.py
echo "--- cargo test"
cargo test --quiet --workspace
echo "--- build the cdylibs the Python tests load, and the ffi-export command"
cargo build --quiet -p ffi-export-examples -p ffi-export-tests -p ffi-export-bench -p ffi-export
echo "--- pytest (the valgrind runs alongside, on the other core)"
# Valgrind runs one single-threaded process per test for minutes: it goes
# in the background while the rest of the suite runs, and its output is
# shown (and its failure counted) when both are done.
VALGRIND_LOG="$FFI_EXPORT_TARGET_DIR/pytest-valgrind.log"
"$PY" -m pytest -q tests/python/test_memory.py tests/python/test_c_abi.py -k valgrind "$@" >"$VALGRIND_LOG" 2>&1 &
valgrind_pid=$!
status=0
"$PY" -m pytest -q tests/python -k "not valgrind" "$@" || status=$?
valgrind_status=0
wait "$valgrind_pid" || valgrind_status=$?
echo "--- pytest, the valgrind tests"
cat "$VALGRIND_LOG"
if [ "$status" -ne 0 ] || [ "$valgrind_status" -ne 0 ]; then
    exit 1
fi
echo "--- pytest, ctypes path only (the CPython fast path turned off)"
FFI_EXPORT_NO_FAST=1 "$PY" -m pytest -q tests/python/test_types.py tests/python/test_bad_input.py \
    tests/python/test_errors.py tests/python/test_rich.py "$@"
