"""The short soak: 100,000 mixed calls (tests/python/soak.py) in a fresh
process with RSS sampled; `bash scripts/soak.sh` runs one million."""

from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOAK = os.path.join(HERE, "soak.py")


def run(env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, SOAK, "100000", "16"], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, **(env or {})))


def test_100k_mixed_calls_keep_rss_flat() -> None:
    result = run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "soak: 100,0" in result.stdout and "RSS growth" in result.stdout


def test_control_a_4k_leak_per_operation_fails_the_soak() -> None:
    result = run({"FFI_EXPORT_SOAK_CONTROL_LEAK": "1"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "RSS grew beyond the bound" in result.stderr
