"""Call a Rust library built with ffi-export from Python.

``ffi_export.load(path)`` opens a cdylib, reads the description every
``#[export]`` function left in it, and returns a :class:`Library` with one
Python function per export. Nothing else is written by hand: no
``argtypes``, no ``.encode()``, no buffer casts, no ``*_free`` calls.

- Integers are range-checked (``OverflowError`` instead of a silent wrap),
  wrong Python types raise ``TypeError``.
- ``&str`` takes ``str``; ``&CStr`` takes bytes-like objects (or ``str``).
- ``&[T]`` / ``&mut [T]`` take any buffer (``bytes``, ``bytearray``,
  ``memoryview``, ``array.array``, numpy arrays) without copying; the element
  type, contiguity and (for ``&mut``) writability are checked.
- ``String`` returns ``str``; ``Vec<T>`` returns a ctypes array that owns the
  Rust allocation and frees it once, when the last reference goes
  (``numpy.asarray`` wraps it without copying, ``list()`` copies it).
- ``Err(e)`` raises a subclass of :class:`FfiError` named after the Rust error
  type (``lib.errors.<Name>``), a panic raises :class:`RustPanic`.

This file is stdlib-only; numpy is used when installed, never required.
"""

from __future__ import annotations

import ctypes
import json
import keyword
import operator
import os
import sys
import types
from typing import Any, Callable, Dict, List, Optional, Tuple

__all__ = [
    "ABI_VERSION",
    "FfiError",
    "InvalidArgument",
    "Library",
    "LoadError",
    "RustPanic",
    "load",
]

__version__ = "0.1.0"

#: The ffi-export C ABI version this helper speaks.
ABI_VERSION = 1


class FfiError(Exception):
    """Base class of every error raised by a call into an ffi-export library.

    ``rust_type`` is the Rust error type's short name (``RustPanic`` for a
    panic, ``InvalidArgument`` for an argument refused by the Rust side).
    """

    rust_type: str = "FfiError"


class RustPanic(FfiError):
    """The Rust function panicked; ``str(exc)`` is the panic message."""

    rust_type = "RustPanic"


class InvalidArgument(FfiError, ValueError):
    """The Rust side refused an argument before running the function."""

    rust_type = "InvalidArgument"


class LoadError(ImportError):
    """The file is not a library built with a compatible ffi-export."""


# ---------------------------------------------------------------------------
# The C ABI (mirrors ffi-export-runtime/src/abi.rs)

_CODE_ERROR, _CODE_PANIC, _CODE_INVALID = 1, 2, 3


class _FfiBuffer(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_void_p), ("len", ctypes.c_size_t), ("cap", ctypes.c_size_t)]


class _FfiError(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int32), ("message", _FfiBuffer), ("type_name", _FfiBuffer)]


# name -> (ctypes type, Python kind, min, max)
_INT_RANGES = {
    "i8": (ctypes.c_int8, -(2**7), 2**7 - 1),
    "i16": (ctypes.c_int16, -(2**15), 2**15 - 1),
    "i32": (ctypes.c_int32, -(2**31), 2**31 - 1),
    "i64": (ctypes.c_int64, -(2**63), 2**63 - 1),
    "u8": (ctypes.c_uint8, 0, 2**8 - 1),
    "u16": (ctypes.c_uint16, 0, 2**16 - 1),
    "u32": (ctypes.c_uint32, 0, 2**32 - 1),
    "u64": (ctypes.c_uint64, 0, 2**64 - 1),
    "isize": (ctypes.c_ssize_t, -(2 ** (8 * ctypes.sizeof(ctypes.c_ssize_t) - 1)),
              2 ** (8 * ctypes.sizeof(ctypes.c_ssize_t) - 1) - 1),
    "usize": (ctypes.c_size_t, 0, 2 ** (8 * ctypes.sizeof(ctypes.c_size_t)) - 1),
}
_FLOATS = {"f32": ctypes.c_float, "f64": ctypes.c_double}
_F32_MAX = 3.4028234663852886e38

_CTYPES: Dict[str, Any] = {name: spec[0] for name, spec in _INT_RANGES.items()}
_CTYPES.update(_FLOATS)
_CTYPES["bool"] = ctypes.c_bool

# Element kind and size per Rust scalar, for buffer format checks.
_ELEMENTS: Dict[str, Tuple[str, int]] = {
    name: ("u" if name.startswith("u") else "i", ctypes.sizeof(ct))
    for name, (ct, _, _) in _INT_RANGES.items()
}
_ELEMENTS.update({"f32": ("f", 4), "f64": ("f", 8), "bool": ("b", 1)})
_FORMAT_KIND = {c: "i" for c in "bhilqn"}
_FORMAT_KIND.update({c: "u" for c in "BHILQNc"})
_FORMAT_KIND.update({"e": "f", "f": "f", "d": "f", "?": "b"})
_NATIVE_ORDER = "<" if sys.byteorder == "little" else ">"
_ARRAY_CODES = {"i8": "b", "u8": "B", "i16": "h", "u16": "H", "i32": "i", "u32": "I",
                "i64": "q", "u64": "Q", "f32": "f", "f64": "d"}


def _rust_type(desc: Dict[str, Any]) -> str:
    """The Rust spelling of a type description, for messages and docs."""
    kind = desc["kind"]
    if kind == "unit":
        return "()"
    if kind == "scalar":
        return str(desc["name"])
    if kind == "str":
        return "&str"
    if kind == "cstr":
        return "&CStr"
    if kind == "slice":
        return f"&{'mut ' if desc['mutable'] else ''}[{desc['elem']}]"
    if kind == "string":
        return "String"
    if kind == "vec":
        return f"Vec<{desc['elem']}>"
    if kind == "option":
        return f"Option<{_rust_type(desc['inner'])}>"
    if kind == "result":
        return f"Result<{_rust_type(desc['ok'])}, {desc['error']}>"
    return f"<unknown {kind}>"


# ---------------------------------------------------------------------------
# Argument conversion (called from the generated wrappers)


def _type_name(value: object) -> str:
    return type(value).__name__


def _as_int(value: object, param: str, rust: str) -> int:
    """Converts an int-like value (``int``, ``bool``, numpy integers)."""
    if isinstance(value, float):
        raise TypeError(f"argument '{param}' ({rust}) must be an int, not float")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"argument '{param}' ({rust}) must be an int, not {_type_name(value)}") from None


def _out_of_range(value: int, param: str, rust: str) -> OverflowError:
    _, low, high = _INT_RANGES[rust]
    return OverflowError(f"argument '{param}' ({rust}) must be in {low}..={high}, got {value}")


def _as_float(value: object, param: str, rust: str) -> float:
    """Converts a real number (``float``, ``int``, numpy floats)."""
    if isinstance(value, (str, bytes, bytearray, complex)) or not hasattr(value, "__float__"):
        raise TypeError(f"argument '{param}' ({rust}) must be a float, not {_type_name(value)}")
    return float(value)  # type: ignore[arg-type]


def _f32_overflow(value: float, param: str) -> OverflowError:
    return OverflowError(f"argument '{param}' (f32) is finite but out of f32 range: {value!r}")


def _as_bool(value: object, param: str) -> bool:
    """Accepts ``bool`` and numpy's ``bool_`` only: ``1`` or ``"yes"`` are errors."""
    if type(value).__module__ == "numpy" and type(value).__name__ in ("bool_", "bool"):
        return bool(value)
    raise TypeError(f"argument '{param}' (bool) must be a bool, not {_type_name(value)}")


def _as_str(value: object, param: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"argument '{param}' (&str) must be a str, not {_type_name(value)}")
    return value.encode("utf-8")


def _as_cstr(value: object, param: str) -> bytes:
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, bytes):
        data = value
    else:
        try:
            data = bytes(memoryview(value))  # type: ignore[arg-type]
        except TypeError:
            raise TypeError(
                f"argument '{param}' (&CStr) must be bytes-like or str, not {_type_name(value)}"
            ) from None
    if b"\0" in data:
        raise ValueError(f"argument '{param}' (&CStr) contains a NUL byte at index {data.index(0)}")
    return data


class _PyBuffer(ctypes.Structure):
    _fields_ = [
        ("buf", ctypes.c_void_p), ("obj", ctypes.c_void_p), ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t), ("readonly", ctypes.c_int), ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p), ("shape", ctypes.c_void_p), ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p), ("internal", ctypes.c_void_p),
    ]


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]
_release_buffer.restype = None


def _readonly_address(view: memoryview) -> int:
    """The address of a read-only buffer. Valid while ``view`` lives: the
    memoryview holds its own export of the underlying object."""
    info = _PyBuffer()
    _get_buffer(view, ctypes.byref(info), 0)
    try:
        return int(info.buf or 0)
    finally:
        _release_buffer(ctypes.byref(info))


def _format_element(fmt: str, itemsize: int) -> Optional[str]:
    """The Rust scalar a buffer format denotes, if any."""
    if fmt[:1] in ("@", "=", _NATIVE_ORDER):
        fmt = fmt[1:]
    kind = _FORMAT_KIND.get(fmt) if len(fmt) == 1 else None
    for name, spec in _ELEMENTS.items():
        if spec == (kind, itemsize) and name not in ("isize", "usize"):
            return name
    return None


def _buffer(obj: object, param: str, elem: str, writable: bool) -> Tuple[Optional[int], int, object]:
    """Checks a buffer argument and returns ``(address, length, keepalive)``.

    The buffer is borrowed, never copied: ``keepalive`` must outlive the call
    (it holds the buffer export, which also stops a ``bytearray`` from being
    resized meanwhile).
    """
    rust = f"&{'mut ' if writable else ''}[{elem}]"
    try:
        view = memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"argument '{param}' ({rust}) must be a buffer (bytes, bytearray, memoryview, "
            f"array.array, numpy array) of {elem}, not {_type_name(obj)}"
        ) from None
    kind, size = _ELEMENTS[elem]
    got = view.format
    if got[:1] in ("@", "=", _NATIVE_ORDER):
        got = got[1:]
    if len(got) != 1 or _FORMAT_KIND.get(got) != kind or view.itemsize != size:
        found = _format_element(view.format, view.itemsize)
        found_text = f"{found} ('{view.format}')" if found else f"format '{view.format}' ({view.itemsize}-byte items)"
        hint = f"; e.g. array.array('{_ARRAY_CODES[elem]}', ...)" if elem in _ARRAY_CODES else ""
        raise TypeError(f"argument '{param}' ({rust}) needs a buffer of {elem}, got {found_text}{hint}")
    if not view.c_contiguous:
        raise BufferError(f"argument '{param}' ({rust}) must be a C-contiguous buffer")
    if writable and view.readonly:
        raise BufferError(f"argument '{param}' ({rust}) must be writable, got a read-only {_type_name(obj)}")
    length = view.nbytes // size
    if length == 0:
        return None, 0, view
    if not view.readonly:
        anchor = (ctypes.c_char * view.nbytes).from_buffer(view)
        return ctypes.addressof(anchor), length, anchor
    return _readonly_address(view), length, view


# ---------------------------------------------------------------------------
# Return conversion


def _take_string(buffer: _FfiBuffer, free: Callable[..., None]) -> str:
    """Copies a returned ``String`` into a ``str`` and frees it."""
    try:
        return ctypes.string_at(buffer.ptr, buffer.len).decode("utf-8") if buffer.len else ""
    finally:
        free(buffer)


class _Owner:
    """Frees one returned buffer when the array holding it is collected."""

    __slots__ = ("buffer", "free")

    def __init__(self, buffer: _FfiBuffer, free: Callable[..., None]) -> None:
        self.buffer = buffer
        self.free = free

    def __del__(self) -> None:
        self.free(self.buffer)


def _take_vec(buffer: _FfiBuffer, free: Callable[..., None], ctype: Any) -> Any:
    """Wraps a returned ``Vec<T>`` without copying; freed with the array."""
    try:
        array = (ctype * buffer.len).from_address(buffer.ptr)
        array._ffi_export_owner = _Owner(buffer, free)
    except BaseException:
        free(buffer)
        raise
    return array


_OPTION_TYPES: Dict[str, Any] = {}


def _option_struct(elem: str) -> Any:
    """The ctypes mirror of ``FfiOption<T>``."""
    if elem not in _OPTION_TYPES:
        _OPTION_TYPES[elem] = type(
            f"FfiOption_{elem}",
            (ctypes.Structure,),
            {"_fields_": [("is_some", ctypes.c_bool), ("value", _CTYPES[elem])]},
        )
    return _OPTION_TYPES[elem]


# ---------------------------------------------------------------------------
# Binding


def _python_name(name: str, taken: set) -> str:
    """A Rust parameter name as a Python identifier."""
    while keyword.iskeyword(name) or name in taken or name.startswith("_fx_"):
        name += "_"
    return name


class _Binder:
    """Generates one specialised Python function per export, once, at load."""

    def __init__(self, library: "Library", cdll: ctypes.CDLL) -> None:
        self.library = library
        self.cdll = cdll
        self.faults = ctypes.c_uint64.in_dll(cdll, "FFI_EXPORT_FAULTS")
        # `cdll[name]` makes a private function object: argtypes set here
        # cannot be changed by other code using `cdll.name`.
        take = cdll["ffi_export_error_take"]
        take.argtypes = [ctypes.POINTER(_FfiError)]
        take.restype = ctypes.c_bool
        free = cdll["ffi_export_error_free"]
        free.argtypes = [ctypes.POINTER(_FfiError)]
        free.restype = None
        self.take_error = take
        self.free_error = free

    def raise_pending(self) -> None:
        """Raises this thread's pending error, if any (the fault counter also
        moves when another thread fails: then there is nothing to raise)."""
        error = _FfiError()
        if not self.take_error(error):
            return
        try:
            message = ctypes.string_at(error.message.ptr, error.message.len).decode("utf-8", "replace")
            name = ctypes.string_at(error.type_name.ptr, error.type_name.len).decode("utf-8", "replace")
            code = error.code
        finally:
            self.free_error(error)
        if code == _CODE_PANIC:
            raise RustPanic(message)
        if code == _CODE_INVALID:
            raise InvalidArgument(message)
        raise self.library._error_class(name)(message)

    def bind(self, export: Dict[str, Any]) -> Callable[..., Any]:
        name = export["name"]
        cfunc = self.cdll[name]
        ns: Dict[str, Any] = {
            "_fx_cfn": cfunc,
            "_fx_faults": self.faults,
            "_fx_raise": self.raise_pending,
            "_fx_as_int": _as_int,
            "_fx_range": _out_of_range,
            "_fx_as_float": _as_float,
            "_fx_f32": _f32_overflow,
            "_fx_f32_max": _F32_MAX,
            "_fx_as_bool": _as_bool,
            "_fx_as_str": _as_str,
            "_fx_as_cstr": _as_cstr,
            "_fx_buffer": _buffer,
        }
        argtypes: List[Any] = []
        body: List[str] = []
        cargs: List[str] = []
        names: List[str] = []
        annotations: Dict[str, Any] = {}
        taken: set = set()
        for param in export["params"]:
            p = _python_name(param["name"], taken)
            taken.add(p)
            names.append(p)
            ty = param["type"]
            kind = ty["kind"]
            rust = _rust_type(ty)
            if kind == "scalar" and ty["name"] in _INT_RANGES:
                _, low, high = _INT_RANGES[ty["name"]]
                body.append(f"if {p}.__class__ is not int: {p} = _fx_as_int({p}, {p!r}, {rust!r})")
                body.append(f"if not {low} <= {p} <= {high}: raise _fx_range({p}, {p!r}, {rust!r})")
                argtypes.append(_CTYPES[ty["name"]])
                cargs.append(p)
                annotations[p] = int
            elif kind == "scalar" and ty["name"] in _FLOATS:
                body.append(f"if {p}.__class__ is not float: {p} = _fx_as_float({p}, {p!r}, {rust!r})")
                if ty["name"] == "f32":
                    body.append(
                        f"if not -_fx_f32_max <= {p} <= _fx_f32_max and {p} - {p} == 0: raise _fx_f32({p}, {p!r})"
                    )
                argtypes.append(_CTYPES[ty["name"]])
                cargs.append(p)
                annotations[p] = float
            elif kind == "scalar" and ty["name"] == "bool":
                body.append(f"if {p}.__class__ is not bool: {p} = _fx_as_bool({p}, {p!r})")
                argtypes.append(ctypes.c_bool)
                cargs.append(p)
                annotations[p] = bool
            elif kind == "str":
                body.append(f"_fx_b_{p} = _fx_as_str({p}, {p!r})")
                argtypes += [ctypes.c_char_p, ctypes.c_size_t]
                cargs += [f"_fx_b_{p}", f"len(_fx_b_{p})"]
                annotations[p] = str
            elif kind == "cstr":
                body.append(f"_fx_b_{p} = _fx_as_cstr({p}, {p!r})")
                argtypes.append(ctypes.c_char_p)
                cargs.append(f"_fx_b_{p}")
                annotations[p] = bytes
            elif kind == "slice":
                body.append(
                    f"_fx_p_{p}, _fx_n_{p}, _fx_k_{p} = _fx_buffer({p}, {p!r}, {ty['elem']!r}, {ty['mutable']!r})"
                )
                argtypes += [ctypes.c_void_p, ctypes.c_size_t]
                cargs += [f"_fx_p_{p}", f"_fx_n_{p}"]
                annotations[p] = "Buffer"
            else:
                raise LoadError(f"{name}: parameter {p!r} has a type this helper cannot pass: {rust}")
        cfunc.argtypes = argtypes
        restype, returns, annotation = self._return(export, ns)
        cfunc.restype = restype
        annotations["return"] = annotation
        call = f"_fx_cfn({', '.join(cargs)})"
        source = [f"def {name}({', '.join(names)}):"]
        source += [f"    {line}" for line in body]
        source.append("    _fx_n = _fx_faults.value")
        source.append(f"    _fx_r = {call}")
        source.append("    if _fx_faults.value != _fx_n: _fx_raise()")
        source.append(f"    return {returns}")
        exec("\n".join(source), ns)  # noqa: S102 - generated from the library's own description
        function = ns[name]
        function.__doc__ = self._docstring(export)
        function.__module__ = self.library._module_name
        function.__qualname__ = name
        function.__annotations__ = annotations
        return function

    def _return(self, export: Dict[str, Any], ns: Dict[str, Any]) -> Tuple[Any, str, Any]:
        """(restype, return expression over ``_fx_r``, annotation)."""
        ty = export["returns"]
        if ty["kind"] == "result":
            ty = ty["ok"]
        optional = ty["kind"] == "option"
        if optional:
            ty = ty["inner"]
        kind = ty["kind"]
        if kind in ("string", "vec"):
            free = self.cdll[export["free"]]
            free.argtypes = [ctypes.POINTER(_FfiBuffer)]
            free.restype = None
            ns["_fx_free"] = free
            if kind == "string":
                ns["_fx_take"] = _take_string
                expr, annotation = "_fx_take(_fx_r, _fx_free)", str
            else:
                ns["_fx_take"] = _take_vec
                ns["_fx_elem"] = _CTYPES[ty["elem"]]
                expr, annotation = "_fx_take(_fx_r, _fx_free, _fx_elem)", "Array"
            if optional:
                expr = f"{expr} if _fx_r.ptr else None"
            return _FfiBuffer, expr, annotation
        if kind == "scalar":
            py = {"bool": bool}.get(ty["name"], float if ty["name"] in _FLOATS else int)
            if optional:
                return _option_struct(ty["name"]), "_fx_r.value if _fx_r.is_some else None", Optional[py]
            return _CTYPES[ty["name"]], "_fx_r", py
        if kind == "unit" and not optional:
            return None, "None", None
        raise LoadError(f"{export['name']}: return type {_rust_type(export['returns'])} is not supported by this helper")

    @staticmethod
    def _docstring(export: Dict[str, Any]) -> str:
        params = ", ".join(f"{p['name']}: {_rust_type(p['type'])}" for p in export["params"])
        signature = f"fn {export['name']}({params})"
        if export["returns"]["kind"] != "unit":
            signature += f" -> {_rust_type(export['returns'])}"
        doc = export["doc"].strip()
        return f"{doc}\n\nRust: ``{signature}``" if doc else f"Rust: ``{signature}``"


class Library:
    """A loaded ffi-export library: one attribute per exported function.

    ``errors`` holds one :class:`FfiError` subclass per Rust error type the
    exports can return, e.g. ``lib.errors.ParseIntError``.
    """

    def __init__(self, path: "str | os.PathLike[str]") -> None:
        self.path = os.fspath(path)
        self._module_name = os.path.splitext(os.path.basename(self.path))[0]
        try:
            cdll = ctypes.CDLL(self.path)
        except OSError as error:
            raise LoadError(f"cannot load {self.path}: {error}") from error
        self._cdll = cdll
        try:
            version_fn = cdll["ffi_export_abi_version"]
        except AttributeError:
            raise LoadError(
                f"{self.path} was not built with ffi-export: it has no 'ffi_export_abi_version' symbol "
                "(add `ffi-export` as a dependency, put #[export] on functions, build a cdylib)"
            ) from None
        version_fn.restype = ctypes.c_uint32
        version_fn.argtypes = []
        version = version_fn()
        if version != ABI_VERSION:
            raise LoadError(
                f"{self.path} speaks ffi-export ABI version {version}, but this helper "
                f"(ffi_export.py {__version__}) speaks version {ABI_VERSION}: regenerate the helper "
                "with the ffi-export version the library was built with"
            )
        describe = cdll["ffi_export_describe"]
        describe.restype = ctypes.c_char_p
        describe.argtypes = []
        self._description: Dict[str, Any] = json.loads(describe().decode("utf-8"))
        self.errors = types.SimpleNamespace()
        binder = _Binder(self, cdll)
        self._exports: Dict[str, Dict[str, Any]] = {}
        for export in self._description["exports"]:
            self._exports[export["name"]] = export
            ty = export["returns"]
            if ty["kind"] == "result":
                self._error_class(ty["error"])
            setattr(self, export["name"], binder.bind(export))

    def _error_class(self, name: str) -> type:
        """The exception class for a Rust error type, created once per library."""
        cls = getattr(self.errors, name, None)
        if cls is None:
            cls = type(name, (FfiError,), {"rust_type": name, "__module__": self._module_name,
                                           "__doc__": f"The Rust error type `{name}`."})
            setattr(self.errors, name, cls)
        return cls

    @property
    def exports(self) -> Dict[str, Dict[str, Any]]:
        """The self-description of each export, by name."""
        return dict(self._exports)

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._exports))

    def __getattr__(self, name: str) -> Any:
        # Only called for missing attributes.
        if name.startswith("_"):
            raise AttributeError(name)
        raise AttributeError(
            f"{self.path} exports no function {name!r}; it exports: {', '.join(sorted(self._exports)) or 'nothing'}"
        )

    def __repr__(self) -> str:
        return f"<ffi_export.Library {self.path!r}: {len(self._exports)} exports>"


def load(path: "str | os.PathLike[str]") -> Library:
    """Loads the ffi-export library at ``path`` and binds all its exports."""
    return Library(path)


def _main(argv: List[str]) -> int:
    """``python ffi_export.py LIBRARY``: prints the exports' signatures."""
    if len(argv) != 1:
        print("usage: python ffi_export.py LIBRARY.so", file=sys.stderr)
        return 2
    library = load(argv[0])
    for name, export in sorted(library.exports.items()):
        print(getattr(library, name).__doc__.splitlines()[-1].replace("Rust: ", "").strip("`"))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
