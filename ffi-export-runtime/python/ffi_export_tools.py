"""Tools for libraries built with ffi-export: typed stubs, a C header, a
``describe`` printer and a wheel packer, written from a library's
self-description.

They are not needed at run time (``ffi_export.py`` is); they import
``ffi_export`` and share its type kinds, so a kind is written about in one
place. As a command (``python ffi_export_tools.py --help``, or the same
through ``python ffi_export.py``)::

    python ffi_export_tools.py describe LIB.so                 # the exports' Rust signatures
    python ffi_export_tools.py stubs LIB.so --module mylib.py  # a typed module and its .pyi
    python ffi_export_tools.py header LIB.so -o mylib.h        # a C header (--cdef: for cffi)
    python ffi_export_tools.py wheel CRATE_DIR -o dist         # cargo build + one typed wheel
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import keyword
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from typing import Dict, List, Optional, Set, Tuple

import ffi_export
from ffi_export import LoadError, _Desc, _kind, _Named, _NamedDescs, _NamedKind

__all__ = ["HELPER_STUB", "build_wheel", "generate_header", "generate_module", "generate_stub", "main", "write_wheel"]


def _describe(path: str) -> _Desc:
    """A library's self-description (checked like :func:`ffi_export.load` does)."""
    return ffi_export.load(path)._description


# ---------------------------------------------------------------------------
# Typed stubs


#: ``stubs --helper-stub DIR``: the types of the helper's public API, for
#: mypy (``ffi_export.pyi`` next to ``ffi_export.py``).
HELPER_STUB = '''\
# Types of the ffi_export helper's public API (written by
# `python ffi_export_tools.py stubs ... --helper-stub DIR`).
import os
from typing import Any, Dict, Optional

__version__: str
ABI_VERSION: int

class FfiError(Exception):
    rust_type: str
    variant: Optional[str]
    value: Any

class RustPanic(FfiError): ...
class InvalidArgument(FfiError, ValueError): ...
class LoadError(ImportError): ...

class RustIterator:
    chunk: int
    def __iter__(self) -> RustIterator: ...
    def __next__(self) -> Any: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...

class Library:
    path: str
    errors: Any
    types: Any
    def __init__(self, path: str | os.PathLike[str]) -> None: ...
    @property
    def exports(self) -> Dict[str, Dict[str, Any]]: ...
    def __getattr__(self, name: str) -> Any: ...

def load(path: str | os.PathLike[str], module: Optional[str] = None) -> Library: ...
def load_package(package: str, name: Optional[str] = None) -> Library: ...
'''


#: What each protocol shim's result means, for the C header.
_PROTOCOL_NOTES = {
    "eq": "PartialEq::eq, 1 when equal (Python's ==)",
    "hash": "Hash through DefaultHasher::new(), equal for values eq calls equal (Python's hash())",
    "cmp": "PartialOrd/Ord, -1, 0 or 1; is_some 0 when unordered (Python's <, <=, >, >=)",
    "display": "Display (Python's str())",
    "debug": "Debug (Python's repr())",
    "clone": "Clone, a new object to free with its _free (Python's copy.copy)",
    "default": "Default (Python's constructor without arguments)",
    "add": "Add (Python's +)",
    "sub": "Sub (Python's -)",
    "mul": "Mul (Python's *)",
    "div": "Div (Python's /)",
    "neg": "Neg (Python's unary -)",
    "index": "Index, the element cloned (Python's obj[i])",
    "pylen": "the method marked #[export(len)] (Python's len())",
    "pybool": "the method marked #[export(bool)] (Python's bool())",
}


def _stub_default(value: object) -> str:
    """A default value in a stub: simple values as themselves, others
    (sequences, maps, enum variants) as ``...``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    return "..."


class _StubWriter:
    """Writes the ``.pyi`` of one library description."""

    def __init__(self, description: _Desc) -> None:
        self.desc = description
        self.named: _NamedDescs = _Named(description.get("types", {}), description["exports"])
        self.exports: List[_Desc] = description["exports"]

    def returns(self, export: _Desc) -> str:
        """The Python type an export's function returns."""
        result = _kind(export["returns"]).ok().stub_return(self.named, bool(export["free"]))
        if any(_kind(p["type"]).outputs for p in export["params"]):
            result = "List[Any]" if result == "None" else f"Tuple[{result}, List[Any]]"
        return result

    def params(self, export: _Desc, receiver: bool) -> List[str]:
        """An export's Python parameters, annotated."""
        taken: Set[str] = {"self"} if receiver else set()
        out = ["self"] if receiver else []
        outputs: Optional[str] = None
        for param in export["params"]:
            p = ffi_export._python_name(param["name"], taken)
            taken.add(p)
            kind = _kind(param["type"])
            if kind.outputs:
                outputs = f"{p}: {kind.stub(self.named, True)} = None"
                continue
            default = f" = {_stub_default(param['default'])}" if "default" in param else ""
            out.append(f"{p}: {kind.stub(self.named, True)}{default}")
        if outputs is not None:
            out += ["*", outputs]
        return out

    def doc(self, text: str, indent: str) -> List[str]:
        """A docstring's lines (none for an empty text)."""
        text = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        if not text:
            return []
        lines = text.splitlines()
        if len(lines) == 1:
            return [f'{indent}"""{lines[0]}"""']
        return [f'{indent}"""{lines[0]}'] + [f"{indent}{line}" if line else "" for line in lines[1:]] + [f'{indent}"""']

    def function(self, export: _Desc, indent: str, name: str, receiver: bool, static: bool) -> List[str]:
        """The stub of an export's function (or method)."""
        lines = [f"{indent}@staticmethod"] if static else []
        params = ", ".join(self.params(export, receiver))
        asynchronous = "async " if export.get("finish") else ""
        lines.append(f"{indent}{asynchronous}def {name}({params}) -> {self.returns(export)}:")
        body = self.doc(ffi_export._docstring(export, self.named), indent + "    ")
        if body:
            lines += [*body, f"{indent}    ..."]
        else:
            lines[-1] += " ..."
        return lines

    def members(self, key: str, name: str) -> List[str]:
        """The stubs of the object type ``key``'s associated functions."""
        lines = []
        for export in self.exports:
            if not export["owner"] or export["owner"]["key"] != key or ffi_export._is_protocol(export):
                continue
            short = ffi_export._rust_name(export)
            method = ffi_export._receiver(export) is not None
            if ffi_export._constructs(export) and short == "new":
                init = self.function(export, "    ", "__init__", True, False)
                init[0] = init[0].rsplit(" -> ", 1)[0] + " -> None:" + (" ..." if init[0].endswith(" ...") else "")
                lines += init
            prop = export.get("property")
            if prop and not prop["setter"]:
                lines += ["    @property", *self.function(export, "    ", short, method, False)]
                lines += self.setter(key, short)
                continue
            lines += self.function(export, "    ", short, method, not method)
        return lines

    def setter(self, key: str, name: str) -> List[str]:
        """The ``@<name>.setter`` stub of the object type ``key``'s property
        ``name``, if it has a setter (right after its getter, for mypy)."""
        for export in self.exports:
            prop = export.get("property")
            if prop and prop["setter"] and prop["name"] == name and export["owner"]["key"] == key:
                value = _kind(export["params"][0]["type"]).stub(self.named, True)
                return [f"    @{name}.setter", f"    def {name}(self, value: {value}) -> None: ..."]
        return []
    def shims(self, key: str) -> Dict[str, _Desc]:
        """The protocol shims of type ``key``, by protocol (``eq``, ..)."""
        return {ffi_export._rust_name(e): e for e in self.exports
                if ffi_export._is_protocol(e) and e["owner"] and e["owner"]["key"] == key}

    def has_protocol(self, key: str, protocol: str) -> bool:
        """Whether type ``key`` opted in to ``protocol``."""
        return protocol in self.shims(key)

    def protocols(self, key: str, indent: str) -> List[str]:
        """The dunders of type ``key``'s protocols (see
        ``ffi_export._install_protocols``), in a class body at ``indent``."""
        shims = self.shims(key)
        cls = self.named.ref(key)
        lines: List[str] = []

        def returns(protocol: str) -> str:
            return _kind(shims[protocol]["returns"]).ok().stub(self.named, False)

        if "eq" in shims:
            lines += ["def __eq__(self, other: object) -> bool: ...", "def __ne__(self, other: object) -> bool: ..."]
            if "hash" not in shims:
                lines.append("__hash__: ClassVar[None]  # type: ignore[assignment]")
        if "hash" in shims:
            lines.append("def __hash__(self) -> int: ...")
        if "cmp" in shims:
            lines += [f"def {name}(self, other: {cls}) -> bool: ..." for name in ffi_export._COMPARISONS]
        for protocol, name in ffi_export._OPERATORS.items():
            if protocol in shims:
                lines.append(f"def {name}(self, other: {cls}) -> {returns(protocol)}: ...")
        unary = {"display": ["__str__(self) -> str"], "debug": ["__repr__(self) -> str"],
                 "neg": [f"__neg__(self) -> {returns('neg') if 'neg' in shims else ''}"],
                 "pylen": ["__len__(self) -> int"], "pybool": ["__bool__(self) -> bool"],
                 "clone": [f"__copy__(self) -> {cls}", f"__deepcopy__(self, memo: Any) -> {cls}"]}
        for protocol, signatures in unary.items():
            if protocol in shims:
                lines += [f"def {signature}: ..." for signature in signatures]
        if "index" in shims:
            index = _kind(shims["index"]["params"][-1]["type"]).stub(self.named, True)
            lines.append(f"def __getitem__(self, index: {index}) -> {returns('index')}: ...")
        if "default" in shims:
            lines += ["@staticmethod", f"def default() -> {cls}: ..."]
            if self.named[key]["kind"] == "object" and not any(
                    line.lstrip().startswith("def __init__") for line in self.members(key, "")):
                lines.append("def __init__(self) -> None: ...")
        return [f"{indent}{line}" for line in lines]

    def errors(self) -> List[str]:
        """The ``errors`` namespace's classes: an ``#[export]`` error type's
        with its variants' and typed fields (it owns its short name, as at
        run time), then one per other error type name."""
        results = [result for e in self.exports for result in _kind(e["returns"]).results()]
        typed: Dict[str, _NamedKind] = {}
        for result in results:
            kind, name = result.error_kind(), result.error()
            if kind is not None and name is not None and kind.key in self.named and name not in typed:
                typed[name] = kind
        lines = []
        for name in sorted(typed):
            lines += typed[name].stub_error(self)
        plain = sorted({name for result in results if (name := result.error()) is not None} - set(typed))
        lines += [f"    class {name}(ffi_export.FfiError): ..." for name in plain]
        return lines

    def write(self, module: str, vendored: bool = False) -> str:
        """The ``.pyi`` text."""
        out = [
            f'"""Types of the ffi-export library {module!r} (ffi-export ABI {self.desc.get("abi_version")}).',
            "",
            "Written by `python ffi_export_tools.py stubs`; regenerate it after changing the Rust exports.",
            '"""',
            "import ctypes",
            "import enum",
            "import types",
            "from typing import AbstractSet, Any, Callable, ClassVar, Dict, Iterable, Iterator, List, Literal, "
            "Mapping, Optional, Protocol, Self, Sequence, Set, Tuple, TypeAlias, TypeVar, Union, overload",
            "",
            "from . import ffi_export" if vendored else "import ffi_export",
            "",
            '_T_co = TypeVar("_T_co", covariant=True)',
            "",
            "class Buffer(Protocol):",
            '    """Anything with the buffer protocol: bytes, bytearray, memoryview, array.array, numpy arrays."""',
            "    def __buffer__(self, flags: int, /) -> memoryview: ...",
            "",
            "#: A writable buffer (bytearray, array.array, numpy arrays, ctypes arrays).",
            "WritableBuffer = Buffer",
            "",
            "class Vec(Protocol[_T_co]):",
            '    """A returned `Vec<T>` of numbers: a ctypes array over the Rust allocation."""',
            "    def __len__(self) -> int: ...",
            "    def __getitem__(self, index: int, /) -> _T_co: ...",
            "    def __iter__(self) -> Iterator[_T_co]: ...",
            "    def __buffer__(self, flags: int, /) -> memoryview: ...",
            "",
            "class _Closable:",
            "    def close(self) -> None: ...",
            "    @property",
            "    def closed(self) -> bool: ...",
            "    def __enter__(self) -> Self: ...",
            "    def __exit__(self, *exc: object) -> None: ...",
            "",
            "class RustIterator(_Closable, Iterator[_T_co]):",
            '    """A returned `impl Iterator<Item = T>`: read lazily, the Rust iterator dropped once."""',
            "    chunk: int",
            "    def __next__(self) -> _T_co: ...",
            "    def __iter__(self) -> Self: ...",
            "",
            "#: How an `Allocator` parameter makes output arrays.",
            'AllocatorSpec = Union[None, Literal["array", "numpy"], Callable[[str, int], Any]]',
            "",
            "class _Record:",
            "    def __eq__(self, other: object) -> bool: ...",
            "",
            "class _Object(_Closable): ...",
            "",
            "#: The loaded library.",
            "library: ffi_export.Library",
            "",
        ]
        out += self.namespace((), "")
        out += self.named.stub_aliases()
        # After the types its classes' `value`s refer to (a forward reference
        # in a class body could find a builtin of the same name first).
        out.append("class errors:")
        out.append('    """The exception classes of the Rust error types, subclasses of `ffi_export.FfiError`."""')
        out += self.errors()
        out.append("")
        return "\n".join(out).rstrip() + "\n"

    def namespace(self, path: Tuple[str, ...], indent: str) -> List[str]:
        """The stub lines of the namespace ``path`` (the library's top, or a
        Rust module as a class): its functions, types and submodules by the
        names the library has them under (see ``ffi_export._Named``)."""
        out: List[str] = []
        here = self.named.dotted[path]
        order = {"type": 0, "function": 1, "module": 2}
        entries = sorted(self.named.tree[path].items(), key=lambda item: order.get(item[1][0], 3))
        for name, (what, value) in entries:
            if what == "reserved":
                continue
            if keyword.iskeyword(name):
                out.append(f"{indent}# {name}: a Python keyword, reached as getattr(..., {name!r})")
            elif what == "function":
                out += self.free_function(value, name, indent, bool(path))
            elif what == "type" and self.named.python_path(value) != f"{here}.{name}".lstrip("."):
                out.append(f"{indent}{name}: TypeAlias = {self.named.ref(value)}")
            elif what == "type":
                lines = ffi_export._named_kind(value, self.named[value]).stub_define(self)
                out += [f"{indent}{line}" if line else "" for line in lines]
            else:
                rust = "::".join([*self.named.crate, *value])
                out += [f"{indent}class {name}:", f'{indent}    """The Rust module `{rust}`."""']
                out += self.namespace(value, indent + "    ")
            if not path:
                out.append("")
        return out

    def free_function(self, export: _Desc, name: str, indent: str, static: bool) -> List[str]:
        """A function's stub: a ``def`` (a static one in a module's class),
        or for a batched function an attribute with a ``map``."""
        if not export.get("batch"):
            return self.function(export, indent, name, False, static)
        cls = f"_{export['name']}_batched"
        if static:  # the protocol is defined with the function's top-level name
            return [f"{indent}{name}: ClassVar[{cls}]"]
        lines = [f"class {cls}(Protocol):", *self.function(export, "    ", "__call__", True, False)]
        lines += ["    def map(self, *args: Any) -> Any:",
                  '        """The function over whole arrays in one call (`#[export(batch)]`)."""',
                  "        ...", f"{name}: {cls}"]
        return lines


def generate_stub(description: _Desc, module: str = "library", vendored: bool = False) -> str:
    """The ``.pyi`` text of the typed module for a library description
    (``vendored``: the module is a package's ``__init__`` next to its own
    copy of the helper)."""
    return _StubWriter(description).write(module, vendored)


def generate_module(description: _Desc, library: str, module: str = "library", vendored: bool = False) -> str:
    """A thin typed module loading ``library``: the ``.so`` next to the
    module if there is one (a package), else the path given here
    (``<MODULE>_LIBRARY`` in the environment overrides both). ``vendored``:
    it imports the helper from its own package (``from . import ffi_export``).
    It has what the library has at its top (functions, types, the Rust
    modules), and is the ``__module__`` of the library's classes."""
    top = _Named(description.get("types", {}), description["exports"]).tree[()]
    names = [name for name, (what, _) in top.items() if what != "reserved" and not keyword.iskeyword(name)]
    env = re.sub(r"\W", "_", module).upper() + "_LIBRARY"
    lines = [
        f'"""Typed access to {os.path.basename(library)} (written by `python ffi_export_tools.py stubs`).',
        "",
        "Loads the library next to this file" + ("" if vendored else f", else {library!r}") + ";",
        f"set {env} to load another build.",
        '"""',
        "import os as _os",
        "",
        "from . import ffi_export as _ffi_export" if vendored else "import ffi_export as _ffi_export",
        "",
        f"_NAME = {os.path.basename(library)!r}",
        "_HERE = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), _NAME)",
        f"_PATH = _os.environ.get({env!r}) or _HERE" if vendored else
        f"_PATH = _os.environ.get({env!r}) or (_HERE if _os.path.exists(_HERE) else {os.path.abspath(library)!r})",
        "library = _ffi_export.load(_PATH, module=__name__)",
        "errors = library.errors",
    ]
    lines += [f"{name} = library.{name}" for name in names]
    lines.append("")
    lines.append(f"__all__ = {['library', 'errors', *names]!r}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# C header

#: More about the runtime's ABI structs than their one-line description.
_C_NOTES = {
    "FfiBuffer": (
        "An owned array handed to the caller: a String's UTF-8 bytes (followed by a\n"
        "NUL that len does not count) or a Vec's elements. NULL ptr = no value.\n"
        "Give it back exactly once to the <function>_free paired with the function\n"
        "that returned it; the free resets it to NULL, so a second free is a no-op.\n"
        "As an input (&[&str] items, String fields of records passed in) only ptr\n"
        "and len are read, cap is ignored, and the caller keeps ownership."
    ),
    "FfiError": (
        "The calling thread's last error: code is one of FFI_EXPORT_OK..\n"
        "FFI_EXPORT_CALLBACK_FAILED; message and type_name are owned UTF-8\n"
        "(NUL-terminated) buffers. When the error is an #[export] record or enum\n"
        "(code FFI_EXPORT_ERROR; see each export's comment), value points to it\n"
        "in its C form (T_repr, or the enum's integer) and variant is the index\n"
        "of its variant (the <Type>_<Variant>_tag constants; -1 for a record);\n"
        "otherwise value is NULL and variant -1. ffi_export_error_free releases\n"
        "all of it (a value it did not hand out is ignored)."
    ),
    "FfiCallback": (
        "A caller function for Callback<fn(A, ..) -> R>: call is\n"
        "R (*)(void *context, uint8_t *failed, A...); set *failed = 1 to make the\n"
        "Rust function unwind (the call then fails with FFI_EXPORT_CALLBACK_FAILED).\n"
        "Borrowed for the duration of the call only."
    ),
    "FfiForeign": (
        "A caller's object Rust may keep (an #[export] trait's implementation,\n"
        "a Box<dyn Fn(..) + Send + Sync>): call(context, method, args, ok, err,\n"
        "message) runs method number `method` (declaration order; 0 for a\n"
        "closure), args[i] pointing to argument i's C form (Rust's, valid for the\n"
        "call), and returns 0 after writing the result's C form to *ok, 1 after\n"
        "writing an error value's to *err, or 2 after pointing *message at UTF-8\n"
        "text; what it writes stays valid until the same thread's next call on\n"
        "the object; a call whose method has FFI_EXPORT_CALL_HELD or-ed in keeps\n"
        "it until the same thread calls method FFI_EXPORT_CALL_RELEASE (NULL\n"
        "args, ok, err), which frees the latest held call's (use it when code\n"
        "that may call the same object can run before you read: signal\n"
        "handlers, finalizers). Rust calls retain(context) once when it keeps\n"
        "the object and release(context) once when it drops it, from any thread,\n"
        "so all three must be thread-safe. All three NULL: context is the handle\n"
        "of a Rust implementation (Dyn<Trait>). The same form comes back from\n"
        "Rust (results, fields, elements: Box/Arc<dyn Trait>, Box<dyn Fn..>):\n"
        "your own object handed back (retained once for you), a Dyn<Trait>\n"
        "handle (NULL functions; free it with Dyn<Trait>_free), or a Rust\n"
        "closure with Rust's own functions; release what you received once\n"
        "(release(context), or the free)."
    ),
    "FfiAllocator": (
        "The caller's allocator for an Allocator parameter: alloc(context, kind, len)\n"
        "returns a zeroed buffer of len elements of `kind` (FFI_EXPORT_ALLOC_*),\n"
        "owned by the caller and aligned for the type, or NULL to fail the call."
    ),
}

#: C spellings of pointer fields more precise than the description's
#: ``void *`` (same size and alignment).
_C_POINTERS = {("FfiCallback", "call"): "const void *", ("FfiAllocator", "alloc"): "FfiAllocFn",
               ("FfiForeign", "call"): "FfiForeignCall", ("FfiForeign", "retain"): "FfiForeignRef",
               ("FfiForeign", "release"): "FfiForeignRef"}

#: What follows a runtime struct's definition.
_C_AFTER = {
    "FfiForeign": '''

/* FfiForeign method numbers: or FFI_EXPORT_CALL_HELD into a method to keep
 * its results until released; FFI_EXPORT_CALL_RELEASE releases them. */
#define FFI_EXPORT_CALL_HELD 0x80000000u
#define FFI_EXPORT_CALL_RELEASE 0xFFFFFFFFu''',
    "FfiError": '''

enum {
    FFI_EXPORT_OK = 0,               /* no error */
    FFI_EXPORT_ERROR = 1,            /* the function returned Err(e): message is e's Display */
    FFI_EXPORT_PANIC = 2,            /* the function panicked: message is the panic message */
    FFI_EXPORT_INVALID_ARGUMENT = 3, /* an argument was refused before the function ran */
    FFI_EXPORT_CALLBACK_FAILED = 4   /* a callback or the allocator reported a failure */
};''',
}

_C_CALLS = '''\
/* ---- The error channel and the self-description ---- */

/* Moves the error of the calling thread's latest call into *out; returns
 * false (and sets out->code = 0) if that call succeeded. Call it right after
 * the failing call: the next call on this thread starts a new "latest". */
bool ffi_export_error_take(FfiError *out);
/* Moves this thread's oldest error numbered `since` or later into *out, where
 * `since` is FFI_EXPORT_FAULTS read before the call: that call's error, even
 * if other calls (signal handlers, finalizers) ran on this thread since.
 * Returns false when the call succeeded (the counter moved for another
 * thread). */
bool ffi_export_error_take_since(uint64_t since, FfiError *out);
/* Releases what a take wrote; idempotent, NULL is a no-op. */
void ffi_export_error_free(FfiError *error);
/* Grows with every failed call on any thread: compare it before and after a
 * call to know whether a take is needed. */
extern uint64_t FFI_EXPORT_FAULTS;
/* The library's JSON self-description, owned by the library (do not free). */
const char *ffi_export_describe(void);
/* The ffi-export C ABI version the library speaks (this header: %(abi)s). */
uint32_t ffi_export_abi_version(void);
/* Whether `handle` names a live object. An object handle passed by value is
 * consumed by the call; after a call that failed other than with
 * InvalidArgument (which moves nothing), a handle still live was not taken
 * (the call failed before its function ran) and is still the caller's. */
bool ffi_export_object_live(uint64_t handle);
/* A host whose runtime is going away (Python at exit) calls this on the
 * thread that keeps running: from then on any other thread about to call
 * one of the host's functions (a callback, a trait object's call, retain or
 * release, an on_done) parks for good instead of calling into torn-down
 * state. */
void ffi_export_caller_exiting(void);

/* ---- Tasks of async fn exports ----
 * An async fn export `name` starts a task: it takes the arguments, then
 * on_done and context, and returns the task's handle (0 when an argument is
 * refused: take the error). on_done(context) is called exactly once per
 * started task: from a library thread when the result is ready, from inside
 * the start call (on the caller's thread, before the handle is returned)
 * when the future is ready at its first poll, or from
 * ffi_export_task_cancel when that comes first; it must return quickly, and
 * must not take a lock the caller holds while it starts a task.
 * Then `name_finish(task)` returns the result as a blocking call would
 * (errors through the channel, owned results freed with `name_free`) and
 * frees the task; before on_done it fails (invalid argument) and keeps it. */
typedef void (*FfiTaskDone)(void *context);
/* Drops the task's future (or its unread result) and frees the task; true
 * if the handle was live, false (a no-op) for a finished, cancelled or
 * unknown one. */
bool ffi_export_task_cancel(uint64_t task);
'''


class _HeaderWriter:
    """Writes the C header of one library description."""

    def __init__(self, description: _Desc, cdef: bool) -> None:
        self.desc = description
        self.named: _NamedDescs = _Named(description.get("types", {}), description["exports"])
        # The runtime's structs as the library describes them (as this
        # helper lays them out for a description without them).
        abi = description.get("abi_types") or ffi_export._abi_types()
        self.abi: Dict[str, _Desc] = {d["name"]: d for d in abi}
        self.defined: Set[str] = set()
        self.blocks: List[str] = []
        self.cdef = cdef

    def define(self, kind: _NamedKind) -> None:
        """Defines a named type's C form, once."""
        if kind.key in self.defined:
            return
        self.defined.add(kind.key)
        self.blocks.append(kind.c_define(self))

    def add(self, block: str) -> None:
        """Adds a definition after those made so far."""
        self.blocks.append(block)

    def define_block(self, name: str, block: str) -> None:
        """Adds the definition ``block`` named ``name``, once."""
        if name not in self.defined:
            self.defined.add(name)
            self.blocks.append(block)

    def struct_fields(self, name: str, generic: Optional[str] = None) -> str:
        """The fields of the runtime's ABI struct ``name`` as its description
        gives them (``generic``: the C type of ``T``)."""
        desc = self.abi.get(name)
        if desc is None:
            raise LoadError(f"the library does not describe the ABI struct {name}")
        fields = []
        for field in desc["fields"]:
            c_type = generic if field["c_type"] == "T" and generic else field["c_type"]
            if c_type == "void *":
                c_type = _C_POINTERS.get((name, field["name"]), c_type)
            fields.append(f"{c_type}{'' if c_type.endswith('*') else ' '}{field['name']};")
        return " ".join(fields)

    def option(self, inner: str, rust: str) -> str:
        """``FfiOption`` over the C type ``inner``, defined once."""
        name = "FfiOption_" + re.sub(r"\W", "_", inner)
        if name not in self.defined:
            self.defined.add(name)
            self.blocks.append(f"/* Option<{rust}>: value is zero when is_some is 0. */\n"
                               f"typedef struct {name} {{ {self.struct_fields('FfiOption', inner)} }} {name};")
        return name

    def tuple(self, elems: List[str], rust: str) -> str:
        """``FfiTupleN`` over the C types ``elems``, defined once."""
        name = f"FfiTuple{len(elems)}_" + "_".join(re.sub(r"\W", "_", elem) for elem in elems)
        if name not in self.defined:
            self.defined.add(name)
            fields = " ".join(f"{elem}{'' if elem.endswith('*') else ' '}_{i};" for i, elem in enumerate(elems))
            self.blocks.append(f"/* {rust}: the elements in order. */\ntypedef struct {name} {{ {fields} }} {name};")
        return name

    @staticmethod
    def comment(text: str, indent: str = "") -> str:
        """A doc comment as a C comment (nothing for an empty text)."""
        text = text.strip().replace("*/", "* /")
        if not text:
            return ""
        lines = text.splitlines()
        return "\n".join([f"{indent}/* {lines[0]}"] + [f"{indent} * {line}".rstrip() for line in lines[1:]]) + " */\n"

    def runtime(self) -> str:
        """The runtime's types: its ABI structs (from the description, with
        a compile-time check of their layout) and constants."""
        blocks = ["/* ---- Runtime types (ffi-export-runtime/src/abi.rs, callback.rs) ---- */"]
        checks = []
        for name, desc in self.abi.items():
            if desc["generic"]:
                continue  # instantiated where used (FfiOption_<T>)
            block = self.comment(_C_NOTES.get(name) or str(desc.get("doc", "")))
            if name == "FfiAllocator":
                block += "typedef void *(*FfiAllocFn)(void *context, uint32_t kind, size_t len);\n"
            if name == "FfiForeign":
                block += ("typedef int32_t (*FfiForeignCall)(void *context, uint32_t method, void *const *args, "
                          "void *ok, void *err, FfiBuffer *message);\ntypedef void (*FfiForeignRef)(void *context);\n")
            block += f"typedef struct {name} {{ {self.struct_fields(name)} }} {name};"
            blocks.append(block + _C_AFTER.get(name, ""))
            checks.append(f"FFI_EXPORT_LAYOUT(sizeof({name}) == {desc['size']}, {name}_size);")
            checks.append(f"FFI_EXPORT_LAYOUT(FFI_EXPORT_ALIGNOF({name}) == {desc['align']}, {name}_align);")
            checks += [f"FFI_EXPORT_LAYOUT(offsetof({name}, {f['name']}) == {f['offset']}, {name}_{f['name']});"
                       for f in desc["fields"]]
        kinds = [f"FFI_EXPORT_ALLOC_{prim.name.upper()} = {prim.alloc}"
                 for prim in sorted(ffi_export._ALLOC_PRIMS.values(), key=lambda prim: prim.alloc)]
        kinds.insert(0, "FFI_EXPORT_ALLOC_TEXT = 0")
        rows = [", ".join(kinds[i:i + 3]) for i in range(0, len(kinds), 3)]
        blocks.append("enum {\n    " + ",\n    ".join(rows) + "\n};")
        if not self.cdef:
            blocks.append("/* The layouts above are the library's (checked when this header is compiled). */\n"
                          "#ifdef __cplusplus\n#define FFI_EXPORT_LAYOUT(ok, what) static_assert(ok, #what)\n"
                          "#define FFI_EXPORT_ALIGNOF(type) alignof(type)\n"
                          "#else\n#define FFI_EXPORT_LAYOUT(ok, what) _Static_assert(ok, #what)\n"
                          "#define FFI_EXPORT_ALIGNOF(type) _Alignof(type)\n#endif\n"
                          + "\n".join(checks))
        return "\n\n".join(blocks) + "\n"

    def params(self, export: _Desc) -> List[Tuple[str, str]]:
        """(C declaration, comment) per C parameter of an export."""
        out: List[Tuple[str, str]] = []
        if ffi_export._receiver(export) is not None:
            owner = _kind(export["owner"]).c_form(self)
            out.append((f"{owner} handle", "the object (checked)"))
        for param in export["params"]:
            kind = _kind(param["type"])
            declared = kind.c_params(self, param["name"], ffi_export._param_rust(param, self.named))
            if "default" in param and declared:
                # C passes every argument; say what Python fills in.
                c_decl, note = declared[0]
                default = json.dumps(param["default"]).replace("*/", "*\\/")  # still JSON, ends no comment
                declared[0] = (c_decl, f"{note}; Python's default: {default}")
            out += declared
        return out

    def export(self, export: _Desc) -> str:
        """An export's declaration (and those of its free and batch)."""
        ret = _kind(export["returns"])
        c_ret = ret.c_form(self)
        params = self.params(export)
        notes = [f"Rust: {ffi_export._signature(export, self.named)}"]
        error = ret.error()
        error_kind = ret.error_kind()
        if error is not None:
            notes.append(f"Err({error}): returns zero/NULL, error code 1 (ffi_export_error_take).")
        if error_kind is not None and error_kind.key in self.named:
            notes.append(f"{error_kind.c_error(self)}.")
        if ffi_export._is_protocol(export):
            owner = self.named[export["owner"]["key"]]["name"]
            notes.append(f"Protocol shim of {owner}: {_PROTOCOL_NOTES[ffi_export._rust_name(export)]}.")
        if export["free"]:
            notes.append(f"Owned result: release it exactly once with {export['free']}.")
        start_ret = c_ret
        if export.get("finish"):
            notes.append(f"Async: returns a task; after on_done, {export['finish']} returns the result.")
            params = [*params, ("FfiTaskDone on_done", "called once when the task ends"),
                      ("void *context", "passed to on_done")]
            start_ret = "uint64_t"
        lines = [self.comment(export["doc"]) + "/* " + "\n * ".join(notes) + " */"]
        if not params:
            lines.append(f"{start_ret} {export['name']}(void);")
        else:
            decl = [f"    {c}{',' if i < len(params) - 1 else ''}{f' /* {note} */' if note else ''}"
                    for i, (c, note) in enumerate(params)]
            lines.append(f"{start_ret} {export['name']}(\n" + "\n".join(decl) + ");")
        if export.get("finish"):
            lines.append(f"{c_ret} {export['finish']}(uint64_t task);")
        if export["free"]:
            lines.append(f"void {export['free']}({c_ret} *value);")
        lines += ret.c_companions(self)
        if export.get("batch"):
            inputs = "".join(f", const {_kind(p['type']).c_form(self)} *{p['name']}, size_t {p['name']}_step"
                             for p in export["params"])
            lines.append(f"/* {export['name']} over arrays: each input steps by 1 (len values) or 0 (one value);\n"
                         " * returns len, or 0 after the first failing element (its error says \"element i: ...\"). */")
            lines.append(f"size_t {export['batch']}(size_t len{inputs}, {c_ret} *out);")
        return "\n".join(lines)

    def write(self, library: str) -> str:
        """The header's text."""
        kinds = [ffi_export._named_kind(key, desc) for key, desc in self.named.items()]
        for kind in kinds:
            self.define(kind)
        exports = [self.export(export) for export in self.desc["exports"]]
        for kind in kinds:
            exports += kind.c_declarations(self)
        guard = "FFI_EXPORT_" + re.sub(r"\W", "_", os.path.basename(library)).upper() + "_H"
        head = [
            f"/* C declarations of {os.path.basename(library)}, written by `python ffi_export_tools.py header`",
            f" * from the library's self-description (ffi-export {self.desc.get('ffi_export_version')}, "
            f"ABI {self.desc.get('abi_version')}).",
            " *",
            " * Ownership: arguments are borrowed for the call only. A returned FfiBuffer (or a",
            " * record, option or enum holding one) is owned by the caller and released exactly",
            " * once with the <function>_free declared after the function; objects are handles",
            " * released with <Type>_free.",
            " * Errors: a failed call (Err, panic, invalid argument) returns zero / NULL and",
            " * records an FfiError for the calling thread: see ffi_export_error_take.",
            " */",
        ]
        if not self.cdef:
            head += [f"#ifndef {guard}", f"#define {guard}", "",
                     "#include <stdbool.h>", "#include <stddef.h>", "#include <stdint.h>",
                     "#include <sys/types.h> /* ssize_t */", "",
                     "#ifdef __cplusplus", 'extern "C" {', "#endif", ""]
        body = [self.runtime(), _C_CALLS % {"abi": self.desc.get("abi_version")},
                "/* ---- Types ---- */\n", "\n\n".join(self.blocks), "",
                "/* ---- Exports ---- */\n", "\n\n".join(exports), ""]
        tail = [] if self.cdef else ["#ifdef __cplusplus", "}", "#endif", "", f"#endif /* {guard} */", ""]
        return "\n".join(head + body + tail)


def generate_header(description: _Desc, library: str = "library", cdef: bool = False) -> str:
    """The C header of a library description; ``cdef=True`` leaves out the
    preprocessor lines (what ``cffi.FFI().cdef`` accepts)."""
    return _HeaderWriter(description, cdef).write(library)


# ---------------------------------------------------------------------------
# Wheels

#: A version pip accepts (PEP 440's public versions, which Cargo's plain
#: ``1.2.3`` versions are).
_PEP440 = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$")


def write_wheel(out_dir: str, name: str, version: str, files: Dict[str, bytes], tag: str,
                summary: str = "", pure: bool = False) -> str:
    """Packs ``files`` (archive path -> contents) into the wheel
    ``<name>-<version>-<tag>.whl`` in ``out_dir`` (stdlib only: the
    ``.dist-info`` metadata, ``WHEEL`` and the hashed ``RECORD``), and
    returns its path."""
    if not _PEP440.match(version):
        raise ValueError(f"version {version!r} is not a version pip accepts (PEP 440, e.g. 1.2.3 or 1.2.3rc1)")
    dist = re.sub(r"[-_.]+", "_", name)
    info = f"{dist}-{version}.dist-info"
    entries = dict(files)
    entries[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + (f"Summary: {summary}\n" if summary else "")
        + "Requires-Python: >=3.9\n"
    ).encode()
    entries[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: ffi_export_tools {ffi_export.__version__}\n"
        f"Root-Is-Purelib: {'true' if pure else 'false'}\nTag: {tag}\n"
    ).encode()
    record = []
    for path, data in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    entries[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{dist}-{version}-{tag}.whl")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name_in_archive, data in entries.items():
            info_entry = zipfile.ZipInfo(name_in_archive, date_time=(2020, 1, 1, 0, 0, 0))
            info_entry.external_attr = 0o644 << 16
            archive.writestr(info_entry, data, zipfile.ZIP_DEFLATED)
    return path


def _platform_tag() -> str:
    """This machine's wheel platform tag (``linux_x86_64``, ...)."""
    return re.sub(r"[-. ]", "_", sysconfig.get_platform())


def _cargo_library(crate: str, profile: str) -> Tuple[str, str, str, str]:
    """Builds the crate's cdylib with cargo; its package name, version,
    description and the built library's path."""
    manifest = crate if crate.endswith(".toml") else os.path.join(crate, "Cargo.toml")
    if not os.path.isfile(manifest):
        raise LoadError(f"no Cargo.toml at {manifest}")
    manifest = os.path.abspath(manifest)
    metadata = json.loads(subprocess.run(
        ["cargo", "metadata", "--no-deps", "--format-version", "1", "--manifest-path", manifest],
        check=True, stdout=subprocess.PIPE).stdout)
    package = next((p for p in metadata["packages"] if os.path.abspath(p["manifest_path"]) == manifest), None)
    if package is None:
        raise LoadError(f"{manifest} is a workspace without a package; give the member's directory")
    if not any("cdylib" in t["crate_types"] for t in package["targets"]):
        raise LoadError(f"{package['name']} builds no cdylib: add crate-type = [\"cdylib\"] to its [lib]")
    build = subprocess.run(
        ["cargo", "build", "--lib", "--profile", profile, "--manifest-path", manifest,
         "--message-format", "json-render-diagnostics"],
        stdout=subprocess.PIPE, text=True)
    if build.returncode != 0:
        raise LoadError(f"cargo build of {package['name']} failed (its errors are above)")
    built = None
    for line in build.stdout.splitlines():
        message = json.loads(line)
        if (message.get("reason") == "compiler-artifact" and message.get("package_id") == package["id"]
                and "cdylib" in message["target"]["crate_types"]):
            built = next(f for f in message["filenames"] if f.endswith((".so", ".dylib", ".dll")))
    if built is None:
        raise LoadError(f"cargo built no cdylib for {package['name']}")
    return package["name"], package["version"], package.get("description") or "", built


def build_wheel(crate: str, out_dir: str, name: Optional[str] = None, profile: str = "release") -> str:
    """``ffi-export wheel``: builds the crate's cdylib with cargo (``profile``;
    ``CARGO_TARGET_DIR`` is honoured) and packs one ``py3-none-<platform>``
    wheel holding the package ``name`` (default: the crate's name): the
    library, a typed ``__init__.py`` + ``__init__.pyi``, ``py.typed``, and a
    private copy of this helper with its stub. Returns the wheel's path."""
    crate_name, version, summary, built = _cargo_library(crate, profile)
    package = re.sub(r"\W", "_", name or crate_name)
    if not package.isidentifier() or keyword.iskeyword(package):
        raise LoadError(f"{package!r} is not a Python package name; give one with --name")
    description = _describe(built)
    lib_name = os.path.basename(built)
    helper = os.path.join(os.path.dirname(os.path.abspath(ffi_export.__file__)), "ffi_export.py")
    with open(helper, "rb") as f:
        helper_source = f.read()
    with open(built, "rb") as f:
        library_bytes = f.read()
    files = {
        f"{package}/__init__.py": generate_module(description, lib_name, package, vendored=True).encode(),
        f"{package}/__init__.pyi": generate_stub(description, package, vendored=True).encode(),
        f"{package}/ffi_export.py": helper_source,
        f"{package}/ffi_export.pyi": HELPER_STUB.encode(),
        f"{package}/py.typed": b"",
        f"{package}/{lib_name}": library_bytes,
    }
    return write_wheel(out_dir, name or crate_name, version, files, f"py3-none-{_platform_tag()}", summary)


# ---------------------------------------------------------------------------
# The command


def _write(text: str, output: Optional[str]) -> None:
    if output is None or output == "-":
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)


def main(argv: List[str], prog: str = "ffi_export_tools.py") -> int:
    """``python ffi_export_tools.py [describe|stubs|header] LIBRARY ...``;
    ``prog`` names the command in messages."""
    if argv and argv[0] not in ("describe", "stubs", "header", "wheel", "-h", "--help"):
        argv = ["describe", *argv]  # the original form: `ffi_export.py LIBRARY`
    parser = argparse.ArgumentParser(prog=prog if prog == "ffi-export" else f"python {prog}",
                                     description="Inspect an ffi-export library and write typed stubs or a C header.")
    commands = parser.add_subparsers(dest="command", required=True)
    describe = commands.add_parser("describe", help="print every export's Rust signature")
    describe.add_argument("library")
    describe.add_argument("--json", action="store_true", help="print the raw self-description")
    stubs = commands.add_parser("stubs", help="write a .pyi (and a typed module) for the library")
    stubs.add_argument("library")
    stubs.add_argument("-o", "--output", help="the .pyi to write (default: stdout)")
    stubs.add_argument("--module", help="also write this thin typed module (MODULE.py) loading the library; "
                                        "the .pyi then goes next to it unless -o says otherwise")
    stubs.add_argument("--helper-stub", metavar="DIR", help="also write DIR/ffi_export.pyi, the helper's own types")
    stubs.add_argument("--vendored", action="store_true",
                       help="the module is in a package holding its own ffi_export.py (`from . import ffi_export`)")
    header = commands.add_parser("header", help="write a C header for the library")
    header.add_argument("library")
    header.add_argument("-o", "--output", help="the .h to write (default: stdout)")
    header.add_argument("--cdef", action="store_true", help="no preprocessor lines: for cffi's FFI().cdef")
    wheel = commands.add_parser("wheel", help="build a crate's cdylib and pack it as an installable, typed wheel")
    wheel.add_argument("crate", nargs="?", default=".", help="the crate's directory or Cargo.toml (default: .)")
    wheel.add_argument("--name", help="the Python package name (default: the crate's name)")
    wheel.add_argument("-o", "--out", default="dist", help="the folder to write the wheel to (default: dist)")
    wheel.add_argument("--profile", default="release", help="the cargo profile (default: release)")
    args = parser.parse_args(argv)
    try:
        if args.command == "wheel":
            print(build_wheel(args.crate, args.out, args.name, args.profile))
        else:
            _run(args)
    except (LoadError, ValueError) as error:
        print(f"{prog}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `describe | head`: the reader left; end quietly, as other tools do
        # (stdout is pointed at /dev/null so the interpreter's own flush at
        # exit does not complain again).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return 0


def _run(args: argparse.Namespace) -> None:
    """Runs a parsed command."""
    description = _describe(args.library)
    if args.command == "describe":
        if args.json:
            print(json.dumps(description, indent=2))
            return
        named = _Named(description.get("types", {}), description["exports"])
        for export in sorted(description["exports"], key=lambda e: str(e["name"])):
            print(f"{export['name']}: {ffi_export._signature(export, named)}")
        return
    if args.command == "stubs":
        output = args.output
        module = "library"
        if args.module:
            module = os.path.splitext(os.path.basename(args.module))[0]
            if module == "__init__":  # a package: named after its directory
                module = os.path.basename(os.path.dirname(os.path.abspath(args.module)))
            _write(generate_module(description, args.library, module, args.vendored), args.module)
            output = output or os.path.splitext(args.module)[0] + ".pyi"
        elif output and output != "-":
            module = os.path.splitext(os.path.basename(output))[0]
        _write(generate_stub(description, module, args.vendored), output)
        if args.helper_stub:
            os.makedirs(args.helper_stub, exist_ok=True)
            _write(HELPER_STUB, os.path.join(args.helper_stub, "ffi_export.pyi"))
        return
    _write(generate_header(description, args.library, args.cdef), args.output)


if __name__ == "__main__":
    # `ffi-export describe ...` (the Rust command) runs this file and names
    # itself in the messages.
    raise SystemExit(main(sys.argv[1:], os.environ.get("FFI_EXPORT_PROG", "ffi_export_tools.py")))

