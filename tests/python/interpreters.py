"""The interpreters the one built library is tested under: CPython 3.9-3.13
(pyenv's on these machines, else `python3.X` on PATH) and PyPy (`pypy3`,
Debian's package). A missing one fails the test that needs it, with how to
install it: a skipped interpreter would be an untested promise."""

from __future__ import annotations

import glob
import os
import shutil

CPYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
PYPY = "pypy3"


def find_interpreter(version: str) -> str:
    """The path of CPython ``version`` ("3.9") or of PyPy ("pypy3")."""
    if version == PYPY:
        found = shutil.which("pypy3")
        if found is None:
            raise AssertionError("PyPy is needed: apt-get install pypy3")
        return found
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates = glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}"))
    if candidates:
        return max(candidates, key=_patch_release)
    found = shutil.which(f"python{version}")
    if found is None:
        raise AssertionError(f"CPython {version} is needed: `pyenv install {version}` or the python{version} package")
    return found


def _patch_release(path: str) -> int:
    """The patch number of a pyenv interpreter's path (…/versions/3.9.18/bin/…),
    -1 for a pre-release: the newest release sorts last."""
    patch = path.split(os.sep)[-3].split(".")[2]
    return int(patch) if patch.isdigit() else -1


if __name__ == "__main__":
    # `python tests/python/interpreters.py 3.9` prints the interpreter's path
    # (scripts/interpreters.sh), or says how to install it (exit 1).
    import sys

    try:
        print(find_interpreter(sys.argv[1]))
    except AssertionError as missing:
        print(missing, file=sys.stderr)
        raise SystemExit(1) from None
