"""tests/c/abi_test.c: a plain C caller of the test cdylib, compiled with
``gcc -Wall -Wextra -Werror`` and run normally and under valgrind memcheck.

It covers owned returns and every kind of paired free (string, vec, vec of
strings, record, option, option of record, vec of records, recursive record,
object ``<Type>_free``) freed twice and freed with NULL, the error channel
(take/free twice/free NULL), errors, panics before and after allocating,
invalid arguments (NULL, NULL+len, huge length, misaligned, bad UTF-8, bool
bytes, enum discriminants, forged records), object handles (closed, foreign,
0), C callbacks (failing, returning an invalid value, NULL), batches, and
typed errors (the variant and value of an ``#[export]`` error type, freed
twice, through a copy, forged; errors never taken, dropped from the record
or with their thread).
Two controls prove the harness can fail: a false check exits 1, and one
unfreed buffer is reported by valgrind as definitely lost.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import ROOT, TARGET, library_path

SOURCE = os.path.join(ROOT, "tests", "c", "abi_test.c")
VALGRIND = shutil.which("valgrind")


def build(*defines: str) -> str:
    lib_dir = os.path.dirname(library_path("ffi_export_tests"))
    out_dir = os.path.join(TARGET, "ctest")
    os.makedirs(out_dir, exist_ok=True)
    exe = os.path.join(out_dir, "abi_test" + "".join("-" + d.lower() for d in defines))
    command = ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1", "-pthread", "-o", exe, SOURCE,
               f"-L{lib_dir}", "-lffi_export_tests", f"-Wl,-rpath,{lib_dir}"]
    command += [f"-D{d}" for d in defines]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return exe


def memcheck(exe: str) -> subprocess.CompletedProcess:
    assert VALGRIND, "valgrind is required (.ci/run installs it)"
    return subprocess.run(
        [VALGRIND, "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite,indirect",
         "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99", exe],
        capture_output=True, text=True, timeout=600,
    )


@pytest.fixture(scope="module")
def abi_test() -> str:
    return build()


def test_c_program_passes(abi_test: str) -> None:
    result = subprocess.run([abi_test], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "all checks passed" in result.stdout


def test_c_program_is_clean_under_valgrind(abi_test: str) -> None:
    result = memcheck(abi_test)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "ERROR SUMMARY: 0 errors" in result.stderr
    assert "definitely lost" not in result.stderr or "definitely lost: 0 bytes" in result.stderr


def test_control_a_failed_check_fails_the_program() -> None:
    result = subprocess.run([build("ABI_TEST_CONTROL_FAIL")], capture_output=True, text=True)
    assert result.returncode == 1 and "1 checks failed" in result.stderr


def test_control_valgrind_sees_one_unfreed_buffer() -> None:
    result = memcheck(build("ABI_TEST_CONTROL_LEAK"))
    assert result.returncode == 99, result.stderr[-4000:]
    assert "definitely lost: 1,000 bytes in 1 blocks" in result.stderr, result.stderr[-4000:]
