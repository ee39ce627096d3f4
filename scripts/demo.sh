#!/usr/bin/env bash
# The demo: builds the examples cdylib in release and runs every Python
# client in order, each under a heading taken from its docstring's first
# line. examples/README.md says which seed program each one replaces.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
cargo build --quiet --release -p ffi-export-examples
export FFI_EXPORT_EXAMPLES_LIB="$FFI_EXPORT_TARGET_DIR/release/libexamples.so"
for client in examples/python/[0-9]*.py; do
    name="$(basename "$client" .py)"
    summary="$(head -n 1 "$client")"
    echo "=== ${name%%_*}. ${summary#\"\"\"}"
    "$PY" "$client"
    echo
done
