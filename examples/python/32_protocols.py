"""Protocols: Rust's Display, Eq, Hash, Ord, Clone, Default, Add, Index and
a `len` method become Python's str, ==, hash, sorted, copy, Cls(), +, [i]
and len() (`#[export(Display, Eq, Hash, Ord, ..)]`).

Money is a record: it sorts by Rust's `Ord` and is a dict key by Rust's
`Hash`. Ledger is an object held by handle: it compares and hashes by its
Rust value, and `copy.copy` makes a new Rust value. (No seed program.)
"""
import copy

from _common import expected, library, show

import ffi_export

lib = library()

usd = [lib.Money("USD", 1250), lib.Money("EUR", 99), lib.Money("USD", -300)]
print("str:", ", ".join(str(m) for m in usd))
print("repr:", repr(usd[1]))
print("sorted (Rust's Ord):", [str(m) for m in sorted(usd)])
print("same as Rust's sort:", sorted(usd) == lib.sort_money(usd))
print("sum:", usd[0] + usd[2], "| negated:", -usd[2], "| default:", repr(lib.Money()))
prices = {lib.Money("USD", 1250): "lunch"}
print("dict key (Rust's Hash):", prices[lib.Money("USD", 1250)])
with expected(ffi_export.RustPanic):
    usd[0] + usd[1]
with expected(TypeError):
    usd[0] + 1

ledger = lib.Ledger()  # Default: a constructor without arguments
ledger.book(usd[0])
ledger.book(usd[2])
twin = copy.copy(ledger)  # Clone: a new Rust value
twin.book(lib.Money("USD", 1))
print("ledger:", ledger, "| len:", len(ledger), "| bool:", bool(ledger), "| empty:", bool(lib.Ledger()))
print("twin:", twin, "| equal:", ledger == twin, "| hash differs:", hash(ledger) != hash(twin))
print("first and last:", ledger[0], "/", ledger[-1])
print("iterated:", [str(m) for m in ledger])
show(ledger == copy.copy(ledger))
with expected(IndexError):
    ledger[2]
