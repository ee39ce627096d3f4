#!/usr/bin/env bash
# Benchmarks: builds in release and prints the comparison table
# (docs/BENCHMARKS.md explains it). Extra arguments go to benches/bench.py.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"$PY" -c 'import cffi' 2>/dev/null || "$PY" -m pip install --quiet --disable-pip-version-check cffi
cargo build --quiet --release -p ffi-export-bench
"$PY" benches/bench.py "$@"
