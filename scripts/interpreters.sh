#!/usr/bin/env bash
# The core suites (types, errors, rich types, objects, callbacks, bad input,
# threads, what differs between interpreters, the native paths of issue 14,
# protocols, iterators/properties/records as values, trait objects inside
# other values;
# both call paths where a test says so) under every interpreter the
# one built library promises besides the main venv's: CPython 3.9, 3.10,
# 3.12, 3.13 and PyPy, all at once. Each gets a venv in .venvs/<name> (made
# on first use, from tests/requirements-interpreters.txt) and a log in
# $FFI_EXPORT_TARGET_DIR/interpreters/<name>.log; the last line of each log
# is its pytest summary. Exit status: non-zero if any run failed.
# Usage: scripts/interpreters.sh [NAME...]   (default: all of them)
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
CORE=(tests/python/test_types.py tests/python/test_errors.py tests/python/test_rich.py
      tests/python/test_objects.py tests/python/test_callbacks.py tests/python/test_bad_input.py
      tests/python/test_threads.py tests/python/test_interpreters.py tests/python/test_native_paths.py
      tests/python/test_protocols.py tests/python/test_values.py tests/python/test_nested_traits.py)
NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=(3.9 3.10 3.12 3.13 pypy3)
LOGS="$FFI_EXPORT_TARGET_DIR/interpreters"
mkdir -p "$LOGS" "$ROOT/.venvs"

run_one() {
    local name="$1" log="$LOGS/$1.log" venv="$ROOT/.venvs/$1" python
    if ! python="$("$PY" tests/python/interpreters.py "$name" 2>&1)"; then
        echo "$name: $python" >"$log"
        return 1
    fi
    {
        echo "$name: $python"
        if [ ! -x "$venv/bin/python" ]; then
            "$python" -m venv "$venv"
        fi
        if ! "$venv/bin/python" -c 'import pytest, numpy' >/dev/null 2>&1 \
            || [ tests/requirements-interpreters.txt -nt "$venv/.installed" ]; then
            "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
                -r tests/requirements-interpreters.txt && touch "$venv/.installed"
        fi
        nice -n 5 "$venv/bin/python" -m pytest -v -p no:cacheprovider "${CORE[@]}"
    } >"$log" 2>&1
}

pids=()
for name in "${NAMES[@]}"; do
    run_one "$name" &
    pids+=($!)
done
status=0
for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then
        echo "${NAMES[$i]}: $(tail -n 1 "$LOGS/${NAMES[$i]}.log")"
    else
        status=1
        echo "${NAMES[$i]}: FAILED (log: $LOGS/${NAMES[$i]}.log)"
        grep -E '^(FAILED|ERROR)|Error' "$LOGS/${NAMES[$i]}.log" | head -n 20
    fi
done
exit "$status"
