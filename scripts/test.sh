#!/usr/bin/env bash
# Every test: formatting, clippy, the Python helper's ruff and mypy --strict,
# Rust unit/doc/trybuild tests, then the Python tests (example clients, every
# type across the boundary, bad input, leaks under valgrind and RSS loops),
# and the core suites under every other supported interpreter (CPython 3.9,
# 3.10, 3.12, 3.13 and PyPy) against the same built library.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
START=$SECONDS
# Colour only on a terminal (trybuild and cargo colour a redirected log).
if [ ! -t 1 ]; then
    export NO_COLOR=1 CARGO_TERM_COLOR=never
fi
step() { printf -- '--- [%d:%02d] %s\n' $(((SECONDS - START) / 60)) $(((SECONDS - START) % 60)) "$*"; }

step "cargo fmt --check"
cargo fmt --all --check
step "cargo clippy"
cargo clippy --quiet --workspace --all-targets -- -D warnings
step "module graphs have no cycle"
"$PY" scripts/module_graph.py ffi-export-runtime/src ffi-export-macros/src
step "ruff and mypy --strict on the helper"
"$PY" -m ruff check --quiet --no-cache ffi-export-runtime/python
"$PY" -m ruff check --quiet --no-cache --config ffi-export-runtime/python/ruff.toml scripts/module_graph.py
"$PY" -m mypy --strict --cache-dir "$ROOT/target/mypy" \
    ffi-export-runtime/python/ffi_export.py ffi-export-runtime/python/ffi_export_tools.py \
    ffi-export-runtime/python/_ffi_export_build.py
step "cargo test (unit, doc, trybuild)"
cargo test --quiet --workspace
step "build the cdylibs the Python tests load, and the ffi-export command"
cargo build --quiet -p ffi-export-examples -p ffi-export-tests -p ffi-export-bench -p ffi-export

# Three runs at once from here: the valgrind tests (one single-threaded
# process per test, for minutes), the core suites under the other
# interpreters, and the main pytest run in front. A ticker reports every 30
# seconds what each background run is doing; their logs are printed (and
# their failures counted) when all are done.
LOGS="$FFI_EXPORT_TARGET_DIR/test-logs"
mkdir -p "$LOGS"
VALGRIND_LOG="$LOGS/valgrind.log"
INTERPRETERS_LOG="$LOGS/interpreters.log"
step "pytest (valgrind runs and the other interpreters run alongside)"
"$PY" -m pytest -v -p no:cacheprovider tests/python/test_memory.py tests/python/test_c_abi.py -k valgrind "$@" \
    >"$VALGRIND_LOG" 2>&1 &
valgrind_pid=$!
bash scripts/interpreters.sh >"$INTERPRETERS_LOG" 2>&1 &
interpreters_pid=$!
(
    # The last test each background run finished (pytest -v lines).
    last() { grep -aE ' (PASSED|FAILED|ERROR)' "$1" 2>/dev/null | tail -n 1 | sed -E 's/ +\[ *[0-9]+%\]$//'; }
    while sleep 30; do
        line="valgrind: $(last "$VALGRIND_LOG" || true) ($(grep -acE ' (PASSED|FAILED|ERROR)' "$VALGRIND_LOG" 2>/dev/null || true) of 5 done)"
        for log in "$FFI_EXPORT_TARGET_DIR"/interpreters/*.log; do
            [ -e "$log" ] || continue
            line+=$'\n'"    $(basename "$log" .log): $(grep -acE ' (PASSED|FAILED|ERROR)' "$log" || true) tests done, last: $(last "$log" | sed -E 's/ (PASSED|FAILED|ERROR)$/ \1/' || true)"
        done
        printf -- '\n... [%d:%02d] still running: %s\n' $(((SECONDS - START) / 60)) $(((SECONDS - START) % 60)) "$line"
    done
) &
ticker_pid=$!
status=0
"$PY" -m pytest -q -p no:cacheprovider tests/python -k "not valgrind" "$@" || status=$?
step "pytest, ctypes path only (the CPython fast path turned off)"
FFI_EXPORT_NO_FAST=1 "$PY" -m pytest -q -p no:cacheprovider tests/python/test_types.py tests/python/test_bad_input.py \
    tests/python/test_errors.py tests/python/test_rich.py "$@" || status=$?
valgrind_status=0
interpreters_status=0
wait "$valgrind_pid" || valgrind_status=$?
wait "$interpreters_pid" || interpreters_status=$?
kill "$ticker_pid" 2>/dev/null || true
wait "$ticker_pid" 2>/dev/null || true
step "pytest, the valgrind tests"
grep -avE ' PASSED' "$VALGRIND_LOG" || true
step "the core suites under the other interpreters"
cat "$INTERPRETERS_LOG"
step "done"
if [ "$status" -ne 0 ] || [ "$valgrind_status" -ne 0 ] || [ "$interpreters_status" -ne 0 ]; then
    exit 1
fi
