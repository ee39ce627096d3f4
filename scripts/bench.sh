#!/usr/bin/env bash
# Benchmarks: builds in release and prints the comparison table
# (docs/BENCHMARKS.md explains it). Extra arguments go to benches/bench.py.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"$PY" -c 'import cffi' 2>/dev/null || "$PY" -m pip install --quiet --disable-pip-version-check cffi
cargo build --quiet --release -p ffi-export-bench
# The PyO3 peer, for this interpreter (its own workspace and target dir).
PYO3_PYTHON="$PY" cargo build --quiet --release --manifest-path benches/pyo3/Cargo.toml \
    --target-dir "${CARGO_TARGET_DIR:-$ROOT/target}/pyo3"
"$PY" benches/bench.py "$@"
