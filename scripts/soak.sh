#!/usr/bin/env bash
# The long reliability runs (the test command runs short versions of both):
#  - one million mixed calls of every kind of export in one process, RSS
#    sampled, failing if it grows by more than 16 MiB after warm-up
#    (tests/python/soak.py; docs/SAFETY.md explains the bound);
#  - the runtime's decoding fuzzer at 500,000 iterations per target, in
#    release (ffi-export-runtime/tests/fuzz.rs).
# Usage: bash scripts/soak.sh [CALLS] [BOUND_MIB] [FUZZ_ITERS]
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
cargo build --quiet -p ffi-export-tests
echo "--- soak: ${1:-1000000} mixed calls"
"$PY" tests/python/soak.py "${1:-1000000}" "${2:-16}"
echo "--- fuzz: ${3:-500000} iterations per target"
FFI_EXPORT_FUZZ_ITERS="${3:-500000}" cargo test --quiet --release -p ffi-export-runtime --test fuzz
