"""Shared by the example clients: where the examples library is, and how a
client shows a value (`show`) or an error it raises on purpose (`expected`),
each next to the source of the call that made it."""

from __future__ import annotations

import ast
import functools
import io
import linecache
import os
import sys
import tokenize
from types import TracebackType
from typing import Callable, Optional, Tuple, Type, TypeVar

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# The helper ships in the runtime crate; a downstream project writes its own
# copy with `cargo run -p ffi-export -- python-helper DIR`.
sys.path.insert(0, os.path.join(ROOT, "ffi-export-runtime", "python"))

import ffi_export  # noqa: E402

# Longer lines put the outcome on a line of its own, under the source.
WIDTH = 100
ARROW = "\N{RIGHTWARDS ARROW}"
# Tokens a statement shown on one line leaves out.
SKIPPED = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)

T = TypeVar("T")


def library() -> ffi_export.Library:
    """Loads the examples cdylib (FFI_EXPORT_EXAMPLES_LIB, else the debug build)."""
    path = os.environ.get("FFI_EXPORT_EXAMPLES_LIB") or os.path.join(
        ROOT, "target", "debug", "libexamples.so"
    )
    return ffi_export.load(path)


@functools.cache
def _syntax(filename: str) -> Tuple[str, ast.Module]:
    source = "".join(linecache.getlines(filename))
    return source, ast.parse(source, filename)


def _deepest(filename: str, line: int, fits: Callable[[ast.AST], bool]) -> Optional[ast.AST]:
    """The deepest node of `filename` spanning `line` for which `fits` holds."""
    found: Optional[ast.AST] = None
    for node in ast.walk(_syntax(filename)[1]):  # breadth first: later is deeper
        if isinstance(node, (ast.stmt, ast.expr)) and fits(node):
            if node.lineno <= line <= (node.end_lineno or node.lineno):
                found = node
    return found


def _one_line(text: str) -> str:
    """Source split over lines, on one: comments dropped, a line break inside
    brackets read as one space (none after an opening bracket or before a
    closing one, and a trailing comma before a closing bracket dropped)."""
    if "\n" not in text:
        return text
    out, end = "", (0, 0)
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in SKIPPED or not token.string:
                continue
            closing = token.string in ")]}"
            if token.start[0] == end[0]:
                out += " " * (token.start[1] - end[1])
            elif out and closing and out.endswith(","):
                out = out[:-1]
            elif out and not closing and not out.endswith(("(", "[", "{")):
                out += " "
            out += token.string
            end = token.end
    except (tokenize.TokenError, IndentationError):
        return " ".join(part.strip() for part in text.splitlines())
    return out


def _code(filename: str, *nodes: ast.AST) -> str:
    """The nodes' source, on one line, `; ` between them."""
    source = _syntax(filename)[0]
    return "; ".join(_one_line(ast.get_source_segment(source, node) or "") for node in nodes)


def _statement(filename: str, line: int) -> str:
    """The source of the innermost statement of `filename` spanning `line`."""
    node = _deepest(filename, line, lambda node: isinstance(node, ast.stmt))
    return linecache.getline(filename, line).strip() if node is None else _code(filename, node)


def _report(code: str, outcome: str) -> None:
    """Prints `code → outcome`, the outcome on a line of its own under a long code."""
    line = f"{code} {ARROW} {outcome}"
    if len(line) > WIDTH:
        line = f"{code}\n    {ARROW} {outcome}"
    print(line, flush=True)


def _is_show(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "show"
        and len(node.args) == 1
    )


def show(value: T) -> T:
    """Prints `<the argument's source> → <repr(value)>` and returns the value:
    `show(lib.join(["a", "b"], "-"))` prints `lib.join(["a", "b"], "-") → 'a-b'`.
    Write one `show` per line.
    """
    frame = sys._getframe(1)
    filename = frame.f_code.co_filename
    call = _deepest(filename, frame.f_lineno, _is_show)
    code = "?" if not isinstance(call, ast.Call) else _code(filename, call.args[0])
    _report(code, repr(value))
    return value


class expected:
    """`with expected(OverflowError): lib.add(2**63, 1)` shows an error raised
    on purpose: the statement that raised it, then `→ raises <Type>: <message>`
    (the class's own name: `Overflow` for `lib.errors.Overflow`).

    If the block raises nothing, the demo says so on stderr and exits with
    status 1: an example must not pass silently. An exception of another type
    is reported on stderr and propagates. The caught one is kept in `.error`.
    """

    def __init__(self, *types: Type[BaseException]) -> None:
        self.types = types
        self.error: Optional[BaseException] = None
        self.where: Tuple[str, int] = ("", 0)

    def __enter__(self) -> expected:
        frame = sys._getframe(1)
        self.where = (frame.f_code.co_filename, frame.f_lineno)
        return self

    def __exit__(
        self,
        kind: Optional[Type[BaseException]],
        error: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool:
        wanted = " or ".join(t.__name__ for t in self.types)
        if error is None or tb is None:
            filename, line = self.where
            block = _deepest(filename, line, lambda node: isinstance(node, ast.With) and node.lineno == line)
            body = block.body if isinstance(block, ast.With) else []
            code = _code(filename, *body) if body else linecache.getline(filename, line).strip()
            print(f"DEMO FAILURE: {code} should raise {wanted}, but raised nothing", file=sys.stderr)
            raise SystemExit(1)
        code = _statement(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        if not isinstance(error, self.types):
            name = type(error).__name__
            print(f"DEMO FAILURE: {code} should raise {wanted}, but raised {name}", file=sys.stderr)
            return False
        self.error = error
        message = str(error)
        _report(code, f"raises {type(error).__name__}" + (f": {message}" if message else ""))
        return True
