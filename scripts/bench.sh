#!/usr/bin/env bash
# Benchmarks: builds in release and prints the comparison table
# (docs/BENCHMARKS.md explains it). `--python X` runs it under the CPython
# X (numpy and cffi are installed into it if missing); the other arguments
# go to benches/bench.py.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
ARGS=()
while [ $# -gt 0 ]; do
    if [ "$1" = "--python" ] && [ $# -gt 1 ]; then
        PY="$2"
        shift 2
    else
        ARGS+=("$1")
        shift
    fi
done
"$PY" -c 'import cffi, numpy' 2>/dev/null || "$PY" -m pip install --quiet --disable-pip-version-check cffi numpy
cargo build --quiet --release -p ffi-export-bench
# The PyO3 peer, for this interpreter (its own workspace, and a target dir
# per Python version, where benches/bench.py looks for it).
VERSION="$("$PY" -c 'import sys; print(f"py{sys.version_info[0]}.{sys.version_info[1]}")')"
PYO3_PYTHON="$PY" cargo build --quiet --release --manifest-path benches/pyo3/Cargo.toml \
    --target-dir "${CARGO_TARGET_DIR:-$ROOT/target}/pyo3/$VERSION"
"$PY" benches/bench.py "${ARGS[@]+"${ARGS[@]}"}"
