# Sourced by scripts/*.sh: a project-local Python venv with the test
# requirements, created on first use so a fresh machine needs nothing else.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import pytest, numpy' >/dev/null 2>&1 \
    || [ "$ROOT/requirements-dev.txt" -nt "$VENV/.installed" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements-dev.txt"
    touch "$VENV/.installed"
fi
PY="$VENV/bin/python"
export PYTHONPATH="$ROOT/ffi-export-runtime/python${PYTHONPATH:+:$PYTHONPATH}"
export FFI_EXPORT_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
