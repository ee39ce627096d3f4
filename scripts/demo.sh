#!/usr/bin/env bash
# The demo: builds the examples cdylib and runs every Python client in order.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
cargo build --quiet --release -p ffi-export-examples
export FFI_EXPORT_EXAMPLES_LIB="$FFI_EXPORT_TARGET_DIR/release/libexamples.so"
for client in examples/python/[0-9]*.py; do
    echo "=== $(basename "$client" .py) ==="
    "$PY" "$client"
done
