"""Plugins: Python handlers and formatters installed inside a record, Rust ones returned in lists and maps.

A router's plugins cross inside other values, both ways: a record holding
a list of Python objects implementing a Rust trait, a dict of Python
functions Rust keeps as closures and an optional fallback; built-in
handlers (Rust implementations) and formatters (Rust closures) come back
in a list and a dict, callable from Python. (No seed program: a seed
callback could not be kept, let alone inside a list.)
"""
from _common import expected, ffi_export, library, show

lib = library()


class Greeter:
    """Implements the Rust trait `Handler`: any object with its methods."""

    def prefix(self):
        return "/hello"

    def respond(self, path):
        return f"hello, {path.rsplit('/', 1)[-1]}"


class Echo:
    def prefix(self):
        return "/"

    def respond(self, path):
        return f"echo {path}"


builtins = show(lib.builtin_handlers())  # Rust implementations, in a list
show([handler.respond("/status") for handler in builtins])
formatters = lib.builtin_formatters()  # Rust closures, in a dict
show(sorted(formatters))
show(formatters["upper"]("called from Python"))

greeter = Greeter()
router = lib.Router.new()
show(router.install(lib.Plugins(
    handlers=[greeter, *builtins],
    formatters={**formatters, "brackets": lambda text: f"[{text}]"},
    fallback=Echo(),
)))
print("Python objects held by Rust:", ffi_export.held_by_rust())
show(router.get("/hello/ada", "brackets"))
show(router.get("/status", "upper"))
show(router.get("/nowhere", "plain"))
show([handler.prefix() for handler in router.handlers()])
show(router.handlers()[2] is greeter)  # handed back as itself

with expected(lib.errors.RouteError.NoFormatter):
    router.get("/status", "bold")
with expected(TypeError):
    router.install(lib.Plugins(handlers=[greeter, object()], formatters={}, fallback=None))

router.close()
print("held by Rust after router.close():", ffi_export.held_by_rust())
