"""Config: a Rust reader calling back into Python with strings, records, errors.

A Rust reader that calls back into Python for every reference
and every entry, with strings, records and typed errors both ways. The
callbacks are borrowed for the one call (`&dyn Fn`, `impl FnMut`): Rust
cannot keep them, and an exception raised in them comes back as itself.
"""
from _common import expected, library

lib = library()

TEXT = """
# where things go
[paths]
home = /home/${user}
cache = ${home_dir}/.cache

[server]
port = 8080
"""

variables = {"user": "ada", "home_dir": "/home/ada"}


def lookup(name):
    if name not in variables:
        unknown = lib.errors.ConfigError.Unknown(f"unknown variable {name}")
        unknown.name = name
        raise unknown  # becomes Err(ConfigError::Unknown { name }) in Rust
    return variables[name]


entries = []
count = lib.read_config(TEXT, lookup, lambda entry: entries.append(entry) or entry.section == "paths")
print("kept:", count)
for entry in entries:
    print(f"  [{entry.section}] {entry.key} = {entry.value}")

with expected(lib.errors.ConfigError.Unknown) as unknown:
    lib.read_config("x = ${nobody}", lookup, lambda entry: True)
print("  its field: name =", repr(unknown.error.name))

with expected(lib.errors.ConfigError.Syntax) as syntax:
    lib.read_config("[a]\njust words", lookup, lambda entry: True)
print("  its field: line =", syntax.error.line)


def refuse(entry):
    raise PermissionError(f"{entry.key} is read-only")


# The callback's own exception comes back as itself, not as a RustPanic.
with expected(PermissionError):
    lib.read_config("a = 1", lookup, refuse)
