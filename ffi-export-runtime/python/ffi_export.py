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

As a command it also writes what other tools need, from the same
description (``python ffi_export.py --help``)::

    python ffi_export.py describe LIB.so                 # the exports' Rust signatures
    python ffi_export.py stubs LIB.so --module mylib.py  # a typed module and its .pyi
    python ffi_export.py header LIB.so -o mylib.h        # a C header (--cdef: for cffi)
"""

from __future__ import annotations

import array
import collections
import ctypes
import enum
import inspect
import itertools
import json
import keyword
import operator
import os
import re
import struct
import sys
import sysconfig
import threading
import types as _pytypes
import warnings
import weakref
from typing import Any, Callable, Dict, List, Optional, Tuple

__all__ = [
    "ABI_VERSION",
    "FfiError",
    "InvalidArgument",
    "Library",
    "LoadError",
    "RustPanic",
    "generate_header",
    "generate_module",
    "generate_stub",
    "load",
    "load_package",
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

_CODE_ERROR, _CODE_PANIC, _CODE_INVALID, _CODE_CALLBACK = 1, 2, 3, 4


class _FfiBuffer(ctypes.Structure):
    _fields_ = [("ptr", ctypes.c_void_p), ("len", ctypes.c_size_t), ("cap", ctypes.c_size_t)]


class _FfiError(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int32), ("message", _FfiBuffer), ("type_name", _FfiBuffer)]


class _FfiCallback(ctypes.Structure):
    _fields_ = [("call", ctypes.c_void_p), ("context", ctypes.c_void_p)]


class _FfiAllocator(ctypes.Structure):
    _fields_ = [("alloc", ctypes.c_void_p), ("context", ctypes.c_void_p)]


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


def _rust_type(desc: Dict[str, Any], named: Optional[Dict[str, Any]] = None) -> str:
    """The Rust spelling of a type description, for messages and docs."""
    kind = desc["kind"]
    inner = lambda key: _rust_type(desc[key], named)  # noqa: E731
    if kind == "unit":
        return "()"
    if kind == "scalar":
        return str(desc["name"])
    if kind == "str":
        return "&str"
    if kind == "cstr":
        return "&CStr"
    if kind == "str_list":
        return "&[&str]"
    if kind == "slice":
        return f"&{'mut ' if desc['mutable'] else ''}[{inner('elem')}]"
    if kind == "string":
        return "String"
    if kind == "vec":
        return f"Vec<{inner('elem')}>"
    if kind == "option":
        return f"Option<{inner('inner')}>"
    if kind == "result":
        return f"Result<{inner('ok')}, {desc['error']}>"
    if kind == "callback":
        params = ", ".join(_rust_type(p, named) for p in desc["params"])
        result = "" if desc["ret"]["kind"] == "unit" else f" -> {inner('ret')}"
        return f"Callback<fn({params}){result}>"
    if kind == "allocator":
        return "Allocator"
    if kind in ("record", "enum", "object", "data_enum"):
        key = desc["key"]
        return str(named[key]["name"]) if named and key in named else key.rsplit("::", 1)[-1]
    return f"<unknown {kind}>"


# ---------------------------------------------------------------------------
# Argument conversion (called from the generated wrappers)


def _type_name(value: object) -> str:
    return type(value).__name__


def _as_int(value: object, param: str, rust: str) -> int:
    """Converts an int-like value (``int``, ``bool``, numpy integers)."""
    if isinstance(value, float):
        raise TypeError(f"{param} ({rust}) must be an int, not float")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{param} ({rust}) must be an int, not {_type_name(value)}") from None


def _out_of_range(value: int, param: str, rust: str) -> OverflowError:
    _, low, high = _INT_RANGES[rust]
    return OverflowError(f"{param} ({rust}) must be in {low}..={high}, got {value}")


def _as_float(value: object, param: str, rust: str) -> float:
    """Converts a real number (``float``, ``int``, numpy floats)."""
    if isinstance(value, (str, bytes, bytearray, complex)) or not hasattr(value, "__float__"):
        raise TypeError(f"{param} ({rust}) must be a float, not {_type_name(value)}")
    return float(value)  # type: ignore[arg-type]


def _f32_overflow(value: float, param: str) -> OverflowError:
    return OverflowError(f"{param} (f32) is finite but out of f32 range: {value!r}")


def _as_bool(value: object, param: str) -> bool:
    """Accepts ``bool`` and numpy's ``bool_`` only: ``1`` or ``"yes"`` are errors."""
    if type(value).__module__ == "numpy" and type(value).__name__ in ("bool_", "bool"):
        return bool(value)
    raise TypeError(f"{param} (bool) must be a bool, not {_type_name(value)}")


def _as_str(value: object, param: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{param} (&str) must be a str, not {_type_name(value)}")
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
                f"{param} (&CStr) must be bytes-like or str, not {_type_name(value)}"
            ) from None
    if b"\0" in data:
        raise ValueError(f"{param} (&CStr) contains a NUL byte at index {data.index(0)}")
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
    return _buffer_address(view, param, rust, writable, obj)


def _buffer_address(view: memoryview, param: str, rust: str, writable: bool,
                    obj: object) -> Tuple[Optional[int], int, object]:
    """Checks contiguity and writability; returns ``(address, length, keepalive)``."""
    if not view.c_contiguous:
        raise BufferError(f"argument '{param}' ({rust}) must be a C-contiguous buffer")
    if writable and view.readonly:
        raise BufferError(f"argument '{param}' ({rust}) must be writable, got a read-only {_type_name(obj)}")
    length = view.nbytes // view.itemsize if view.itemsize else 0
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

    def __reduce__(self) -> Any:
        # Copying or pickling the array would copy the owner: two owners of
        # one Rust buffer would free it twice.
        raise TypeError("a Vec returned by Rust owns its memory and cannot be copied or pickled "
                        "as is; copy its values instead (list(v), bytes(v), numpy.array(v))")

    def __del__(self) -> None:
        free = getattr(self, "free", None)
        if free is not None:
            free(self.buffer)


def _take_vec(buffer: _FfiBuffer, free: Callable[..., None], ctype: Any) -> Any:
    """Wraps a returned ``Vec<T>`` without copying; freed with the array."""
    try:
        array = (ctype * buffer.len).from_address(buffer.ptr)
        array._ffi_export_owner = _Owner(buffer, free)
    except BaseException:
        free(buffer)
        raise
    return array


def _read_then_free(read: Callable[[Any], Any], free: Callable[..., None]) -> Callable[[Any], Any]:
    """A converter that copies a returned value into Python objects and then
    frees the Rust side, whatever happens."""

    def take(value: Any) -> Any:
        try:
            return read(value)
        finally:
            free(value)

    return take


# ---------------------------------------------------------------------------
# Records, enums and nested values


class _Record:
    """Base of the classes made for ``#[export]`` structs: fields by name,
    ``==`` and ``repr``."""

    __slots__: Tuple[str, ...] = ()
    _fields: Tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(self._fields):
            raise TypeError(f"{type(self).__name__} takes {len(self._fields)} fields, got {len(args)}")
        values = dict(zip(self._fields, args))
        for key, value in kwargs.items():
            if key not in self._fields:
                raise TypeError(f"{type(self).__name__} has no field {key!r}")
            if key in values:
                raise TypeError(f"{type(self).__name__} got field {key!r} twice")
            values[key] = value
        missing = [f for f in self._fields if f not in values]
        if missing:
            raise TypeError(f"{type(self).__name__} is missing field(s): {', '.join(missing)}")
        for key in self._fields:
            object.__setattr__(self, key, values[key])

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__qualname__}({inner})"


class _PlainRecord(ctypes.Structure):
    """Base of the classes made for ``#[repr(C)]`` plain-data structs: a
    ``ctypes.Structure`` (zero-copy, arrays with ``Cls * n``) with ``==``
    and ``repr``."""

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f, _ in self._fields_)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f, _ in self._fields_)
        return f"{type(self).__name__}({inner})"


class _Object:
    """Base of the classes made for ``#[export] impl`` types. The Rust value
    lives in the library; this object holds its handle and frees it exactly
    once: on ``close()``, at the end of a ``with`` block, or when garbage
    collected. Calls after closing raise ``ValueError``."""

    __slots__ = ("_handle", "__weakref__")
    _ffi_free: Any = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        obj = object.__new__(cls)
        obj._handle = 0  # closed until a constructor fills it in
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(f"{type(self).__name__} has no `new` constructor; use its other constructors")

    @classmethod
    def _from_handle(cls, handle: int) -> Any:
        obj = object.__new__(cls)
        obj._handle = handle
        return obj

    def _ffi_close(self) -> None:
        handle = getattr(self, "_handle", 0)
        if handle:
            self._handle = 0
            type(self)._ffi_free(handle)

    def close(self) -> None:
        """Frees the Rust value now; later calls raise ``ValueError``. Closing
        twice is harmless."""
        self._ffi_close()

    @property
    def closed(self) -> bool:
        """Whether the Rust value was freed."""
        return not getattr(self, "_handle", 0)

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._ffi_close()

    def __del__(self) -> None:
        try:
            self._ffi_close()
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing to report to
            pass

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"handle {self._handle}"
        return f"<{type(self).__name__} ({state})>"


def _closed_error(obj: Any) -> ValueError:
    return ValueError(f"this {type(obj).__name__} is closed")


_STRUCT_CODES = {"i8": "b", "u8": "B", "i16": "h", "u16": "H", "i32": "i", "u32": "I",
                 "i64": "q", "u64": "Q", "isize": "n", "usize": "N", "f32": "f", "f64": "d"}


class _Types:
    """The Python side of one library's types: ctypes mirrors of their C
    forms, and converters between those and Python values, built once."""

    def __init__(self, named: Dict[str, Any], module: str) -> None:
        self.named = named
        self.module = module
        self.classes: Dict[str, Any] = {}
        self.mirrors: Dict[str, Any] = {}
        self.options: Dict[int, Any] = {}
        for key, desc in named.items():
            if desc["kind"] == "enum":
                cls: Any = enum.IntEnum(desc["name"], [(n, v) for n, v in desc["variants"]])  # type: ignore[misc]
                cls.__doc__ = desc["doc"] or f"The Rust enum `{desc['name']}`."
            elif desc["kind"] == "object":
                cls = type(desc["name"], (_Object,), {"__slots__": (), "__doc__": desc["doc"] or None})
            elif desc["kind"] == "data_enum":
                cls = type(desc["name"], (_Record,), {"__slots__": (), "__doc__": desc["doc"] or None})
                for tag, variant in enumerate(desc["variants"]):
                    fields = tuple(f["name"] for f in variant["fields"])
                    sub = type(variant["name"], (cls,), {
                        "__slots__": fields, "_fields": fields, "_tag": tag,
                        "__doc__": f"The `{desc['name']}::{variant['name']}` variant.",
                    })
                    sub.__qualname__ = f"{desc['name']}.{variant['name']}"
                    sub.__module__ = module
                    setattr(cls, variant["name"], sub)
            elif desc["pod"]:
                cls = type(desc["name"], (_PlainRecord,), {"__doc__": desc["doc"] or None})
            else:
                fields = tuple(f["name"] for f in desc["fields"])
                cls = type(desc["name"], (_Record,), {
                    "__slots__": fields, "_fields": fields, "__doc__": desc["doc"] or None,
                })
            cls.__module__ = module
            self.classes[key] = cls
        # Layouts need every class to exist first (fields refer to others).
        for key, desc in named.items():
            if desc["kind"] in ("record", "data_enum"):
                self._layout(key)

    def _layout(self, key: str) -> Any:
        """The ctypes type of a record's C form, laid out on first use (a
        record's fields may be records laid out later in `named`)."""
        desc = self.named[key]
        if desc["kind"] == "data_enum":
            if key not in self.mirrors:
                members = []
                for variant in desc["variants"]:
                    if variant["fields"]:
                        fields = [(f["name"], self.repr_type(f["type"])) for f in variant["fields"]]
                        members.append((variant["name"], type(f"{desc['name']}{variant['name']}Repr",
                                                              (ctypes.Structure,), {"_fields_": fields})))
                union = type(f"{desc['name']}Union", (ctypes.Union,), {"_fields_": members + [("__none", ctypes.c_uint8)]})
                self.mirrors[key] = type(f"{desc['name']}Repr", (ctypes.Structure,),
                                         {"_fields_": [("tag", ctypes.c_uint32), ("data", union)]})
            return self.mirrors[key]
        if desc["pod"]:
            cls = self.classes[key]
            if "_fields_" not in vars(cls):
                cls._fields_ = [(f["name"], self.repr_type(f["type"])) for f in desc["fields"]]
                # The mirror must have Rust's layout: elements of `&[T]` and
                # `Vec<T>` are read and written at Rust's stride.
                layout = (ctypes.sizeof(cls), ctypes.alignment(cls))
                if "size" in desc and layout != (desc["size"], desc["align"]):
                    raise LoadError(f"{desc['name']}: the Rust layout (size {desc['size']}, align "
                                    f"{desc['align']}) differs from C's natural layout (size "
                                    f"{layout[0]}, align {layout[1]})")
            return cls
        if key not in self.mirrors:
            fields = [(f["name"], self.repr_type(f["type"])) for f in desc["fields"]]
            self.mirrors[key] = type(f"{desc['name']}Repr", (ctypes.Structure,), {"_fields_": fields})
        return self.mirrors[key]

    # -- C forms ---------------------------------------------------------

    def repr_type(self, t: Dict[str, Any]) -> Any:
        """The ctypes type of a value's C form."""
        kind = t["kind"]
        if kind == "scalar":
            return _CTYPES[t["name"]]
        if kind in ("string", "vec"):
            return _FfiBuffer
        if kind == "option":
            inner = self.repr_type(t["inner"])
            if id(inner) not in self.options:
                self.options[id(inner)] = type(
                    f"FfiOption_{inner.__name__}", (ctypes.Structure,),
                    {"_fields_": [("is_some", ctypes.c_uint8), ("value", inner)]},
                )
            return self.options[id(inner)]
        if kind in ("record", "data_enum"):
            return self._layout(t["key"])
        if kind == "enum":
            return _CTYPES[self.named[t["key"]]["repr"]]
        if kind == "object":
            return ctypes.c_uint64
        raise LoadError(f"no C form for {_rust_type(t, self.named)}")

    def owns(self, t: Dict[str, Any], seen: Optional[set] = None) -> bool:
        """Whether the C form holds memory to free."""
        kind = t["kind"]
        if kind in ("string", "vec"):
            return True
        if kind == "option":
            return self.owns(t["inner"], seen)
        if kind in ("record", "data_enum"):
            seen = seen or set()
            if t["key"] in seen:
                return False
            seen.add(t["key"])
            desc = self.named[t["key"]]
            fields = desc["fields"] if kind == "record" else [f for v in desc["variants"] for f in v["fields"]]
            return any(self.owns(f["type"], seen) for f in fields)
        return False

    # -- Rust → Python (copies) ------------------------------------------

    def reader(self, t: Dict[str, Any]) -> Callable[[Any], Any]:
        """A function turning a C form (as ctypes hands it out) into a Python value."""
        kind = t["kind"]
        if kind == "scalar":
            return _identity
        if kind == "string":
            return _read_string
        if kind == "enum":
            return self.classes[t["key"]]
        if kind == "object":
            return self.classes[t["key"]]._from_handle
        if kind == "data_enum":
            key = t["key"]
            return lambda r: self._read_variant(key, r)
        if kind == "option":
            read = self.reader(t["inner"])
            return lambda o: read(o.value) if o.is_some else None
        if kind == "vec":
            elem = t["elem"]
            ctype = self.repr_type(elem)
            if elem["kind"] == "scalar":
                return lambda b: list((ctype * b.len).from_address(b.ptr)) if b.len else []
            read = self.reader(elem)
            return lambda b: [read(x) for x in (ctype * b.len).from_address(b.ptr)] if b.len else []
        if kind == "record":
            key = t["key"]
            cls = self.classes[key]
            if self.named[key]["pod"]:
                return cls.from_buffer_copy
            return self._record_reader(key)
        raise LoadError(f"cannot read {_rust_type(t, self.named)}")

    def _record_reader(self, key: str) -> Callable[[Any], Any]:
        """A reader generated for one record (a function with one line per
        field), compiled on first use. Nested records are read through a
        lookup at call time, so recursive records work."""
        cache_key = "reader:" + key
        if cache_key in self.mirrors:
            return self.mirrors[cache_key]

        def deferred(repr_value: Any) -> Any:
            return self.mirrors[cache_key](repr_value)

        self.mirrors[cache_key] = deferred  # what fields of this very type use
        desc = self.named[key]
        ns: Dict[str, Any] = {"_cls": self.classes[key], "_new": object.__new__,
                              "_set": object.__setattr__, "_get": getattr, "_rs": _read_string}
        lines = ["def read(r):", "    o = _new(_cls)"]
        for index, field in enumerate(desc["fields"]):
            name = field["name"]
            plain = name.isidentifier() and not keyword.iskeyword(name)
            source = f"r.{name}" if plain else f"_get(r, {name!r})"
            kind = field["type"]["kind"]
            if kind == "scalar":
                value = source
            elif kind == "string":
                value = f"_rs({source})"
            else:
                ns[f"_r{index}"] = self.reader(field["type"])
                value = f"_r{index}({source})"
            lines.append(f"    o.{name} = {value}" if plain else f"    _set(o, {name!r}, {value})")
        lines.append("    return o")
        exec("\n".join(lines), ns)  # noqa: S102 - generated from the library's own description
        self.mirrors[cache_key] = ns["read"]
        return ns["read"]

    def _read_variant(self, key: str, repr_value: Any) -> Any:
        desc = self.named[key]
        variant = desc["variants"][repr_value.tag]
        cls = getattr(self.classes[key], variant["name"])
        cache_key = f"readers:{key}:{variant['name']}"
        if cache_key not in self.mirrors:
            self.mirrors[cache_key] = [(f["name"], self.reader(f["type"])) for f in variant["fields"]]
        value = cls.__new__(cls)
        if variant["fields"]:
            member = getattr(repr_value.data, variant["name"])
            for name, read in self.mirrors[cache_key]:
                object.__setattr__(value, name, read(getattr(member, name)))
        return value

    def writer(self, t: Dict[str, Any]) -> Callable[[Any, List[Any], str], Any]:
        """A function turning a Python value into a C form, appending to
        ``keep`` whatever must outlive the call; ``where`` names the value in
        error messages."""
        kind = t["kind"]
        if kind == "scalar":
            name = t["name"]
            if name in _INT_RANGES:
                _, low, high = _INT_RANGES[name]

                def write_int(v: Any, keep: List[Any], where: str) -> int:
                    v = _as_int(v, where, name)
                    if not low <= v <= high:
                        raise _out_of_range(v, where, name)
                    return v
                return write_int
            if name in _FLOATS:
                def write_float(v: Any, keep: List[Any], where: str) -> float:
                    v = _as_float(v, where, name)
                    if name == "f32" and not -_F32_MAX <= v <= _F32_MAX and v - v == 0:
                        raise _f32_overflow(v, where)
                    return v
                return write_float
            return lambda v, keep, where: v if v.__class__ is bool else _as_bool(v, where)
        if kind == "string":
            def write_string(v: Any, keep: List[Any], where: str) -> _FfiBuffer:
                data = _as_str(v, where)
                keep.append(data)
                return _FfiBuffer(ctypes.cast(data, ctypes.c_void_p), len(data), 0)
            return write_string
        if kind == "enum":
            cls = self.classes[t["key"]]
            rust = self.named[t["key"]]["name"]

            def write_enum(v: Any, keep: List[Any], where: str) -> int:
                if isinstance(v, cls):
                    return int(v)
                if isinstance(v, enum.Enum) or isinstance(v, (bool, float)) or not hasattr(v, "__index__"):
                    raise TypeError(f"{where} ({rust}) must be a {rust} or its int value, not {_type_name(v)}")
                try:
                    return int(cls(operator.index(v)))
                except ValueError:
                    valid = ", ".join(f"{m.name}={m.value}" for m in cls)
                    raise ValueError(f"{where} ({rust}): {v} is not a {rust} (variants: {valid})") from None
            return write_enum
        if kind == "option":
            inner_write = self.writer(t["inner"])
            option_type = self.repr_type(t)
            return lambda v, keep, where: option_type() if v is None else option_type(1, inner_write(v, keep, where))
        if kind == "vec":
            elem_write = self.writer(t["elem"])
            elem_type = self.repr_type(t["elem"])

            def write_vec(v: Any, keep: List[Any], where: str) -> _FfiBuffer:
                if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
                    raise TypeError(f"{where} ({_rust_type(t, self.named)}) must be a sequence, not {_type_name(v)}")
                items = [elem_write(x, keep, f"{where}[{i}]") for i, x in enumerate(v)]
                array = (elem_type * len(items))(*items)
                keep.append(array)
                return _FfiBuffer(ctypes.addressof(array), len(items), 0)
            return write_vec
        if kind == "record":
            key = t["key"]
            cls = self.classes[key]
            desc = self.named[key]
            if desc["pod"]:
                def write_plain(v: Any, keep: List[Any], where: str) -> Any:
                    if not isinstance(v, cls):
                        raise TypeError(f"{where} must be a {desc['name']}, not {_type_name(v)}")
                    return v
                return write_plain
            mirror = self._layout(key)
            return lambda v, keep, where: self._write_record(key, cls, mirror, v, keep, where)
        if kind == "data_enum":
            key = t["key"]
            return lambda v, keep, where: self._write_variant(key, v, keep, where)
        raise LoadError(f"cannot pass {_rust_type(t, self.named)}")

    def _write_variant(self, key: str, value: Any, keep: List[Any], where: str) -> Any:
        base = self.classes[key]
        desc = self.named[key]
        if not isinstance(value, base) or type(value) is base:
            variants = ", ".join(f"{desc['name']}.{v['name']}" for v in desc["variants"])
            raise TypeError(f"{where} must be one of {variants}, not {_type_name(value)}")
        variant = desc["variants"][type(value)._tag]
        cache_key = f"writers:{key}:{variant['name']}"
        if cache_key not in self.mirrors:
            self.mirrors[cache_key] = [(f["name"], self.writer(f["type"])) for f in variant["fields"]]
        mirror = self._layout(key)()
        mirror.tag = type(value)._tag
        if variant["fields"]:
            member = getattr(mirror.data, variant["name"])
            for name, write in self.mirrors[cache_key]:
                setattr(member, name, write(getattr(value, name), keep, f"{where}.{name}"))
        return mirror

    def _write_record(self, key: str, cls: Any, mirror: Any, value: Any, keep: List[Any], where: str) -> Any:
        if not isinstance(value, cls):
            raise TypeError(f"{where} must be a {cls.__name__}, not {_type_name(value)}")
        cache_key = "writers:" + key
        if cache_key not in self.mirrors:
            self.mirrors[cache_key] = [(f["name"], self.writer(f["type"])) for f in self.named[key]["fields"]]
        return mirror(*[write(getattr(value, name), keep, f"{where}.{name}") for name, write in self.mirrors[cache_key]])

    def callback_maker(self, t: Dict[str, Any]) -> Callable[[Any, List[Any], str, "_Call"], Any]:
        """A function turning a Python callable into an ``FfiCallback`` for
        ``Callback<fn(..) -> R>``; the first exception it raises during the
        call is kept in the call's :class:`_Call` and re-raised by the
        exported function's Python wrapper."""
        arg_types = [self.repr_type(a) for a in t["params"]]
        unit = t["ret"]["kind"] == "unit"
        ret_type = None if unit else self.repr_type(t["ret"])
        write_ret = None if unit else self.writer(t["ret"])
        proto = ctypes.CFUNCTYPE(ret_type, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint8), *arg_types)
        # Making a C trampoline costs microseconds: reuse it for the same
        # Python function (a bounded cache, so passing fresh lambdas in a
        # loop does not grow memory). The call it belongs to arrives as the
        # C context, so one trampoline serves any number of calls at once.
        cache: "collections.OrderedDict[int, Tuple[Any, int, Any]]" = collections.OrderedDict()

        def make(function: Any, keep: List[Any], where: str, call: "_Call") -> _FfiCallback:
            hit = cache.get(id(function))
            if hit is not None and hit[0]() is function:
                cache.move_to_end(id(function))
                keep.append((function, hit))
                return _FfiCallback(hit[1], call.token)
            if not callable(function):
                raise TypeError(f"{where} ({_rust_type(t, self.named)}) must be callable, not {_type_name(function)}")
            # The cache holds the function weakly (the call's `keep` holds it
            # strongly meanwhile), so caching never keeps a callable, or what
            # it closes over, alive. Callables without weak references
            # (builtins) are not cached.
            try:
                ref: Any = weakref.ref(function)
            except TypeError:
                ref = None
                ref_strong = function

                def target_of() -> Any:
                    return ref_strong
            else:
                def target_of() -> Any:
                    return ref()

            def trampoline(context: Any, failed: Any, *args: Any) -> Any:
                try:
                    result = target_of()(*args)
                    return None if write_ret is None else write_ret(result, [], "the callback's result")
                except BaseException as exc:  # noqa: BLE001 - re-raised after the Rust call
                    _Call.fail(context, exc)
                    failed[0] = 1
                    return None if unit else 0

            cfunc = proto(trampoline)
            entry = (ref, ctypes.cast(cfunc, ctypes.c_void_p).value, cfunc)
            if ref is not None:
                cache[id(function)] = entry
                if len(cache) > 128:
                    cache.popitem(last=False)
            keep.append((function, entry))
            return _FfiCallback(entry[1], call.token)

        return make

    def python_type(self, t: Dict[str, Any]) -> Any:
        """The annotation for a value of this type."""
        kind = t["kind"]
        if kind == "scalar":
            return {"bool": bool}.get(t["name"], float if t["name"] in _FLOATS else int)
        if kind in ("string", "str"):
            return str
        if kind in ("record", "enum", "object", "data_enum"):
            return self.classes[t["key"]]
        if kind == "option":
            return Optional[self.python_type(t["inner"])]
        if kind == "vec":
            return List[self.python_type(t["elem"])]  # type: ignore[misc]
        if kind == "result":
            return self.python_type(t["ok"])
        if kind == "unit":
            return None
        if kind == "cstr":
            return bytes
        if kind == "str_list":
            return List[str]
        if kind == "callback":
            return Callable[..., self.python_type(t["ret"])]  # type: ignore[misc]
        if kind == "allocator":
            return Any
        return "Buffer"


def _identity(value: Any) -> Any:
    return value


def _read_string(buffer: Any) -> str:
    return ctypes.string_at(buffer.ptr, buffer.len).decode("utf-8") if buffer.len else ""


def _struct_items(fmt: str) -> Optional[List[Tuple[str, str]]]:
    """The ``(code, name)`` items of a PEP 3118 struct format like
    ``T{<d:x:<d:y:}`` (names may be empty)."""
    match = re.fullmatch(r"[@=<>!]?T\{(.*)\}", fmt)
    if not match:
        return None
    items = re.findall(r"([@=<>!]?)(\d*)([a-zA-Z?])(?::([^:]*):)?", match.group(1))
    result = []
    for order, count, code, name in items:
        if order and order not in ("@", "=", _NATIVE_ORDER):
            return None
        result += [(code, name)] * int(count or 1)
    return result


def _plain_buffer(obj: object, param: str, cls: Any, writable: bool) -> Tuple[Optional[int], int, object]:
    """Checks a buffer of ``#[repr(C)]`` records: a ctypes array of the class,
    or any buffer whose struct format has the same field types (numpy
    structured arrays)."""
    rust = f"&{'mut ' if writable else ''}[{cls.__name__}]"
    try:
        view = memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"argument '{param}' ({rust}) must be a buffer of {cls.__name__}, "
                        f"e.g. ({cls.__name__} * n)(), not {_type_name(obj)}") from None
    expected = [(_STRUCT_CODES[_scalar_name(ctype)], name) for name, ctype in cls._fields_]
    got = _struct_items(view.format)
    # Same field types in the same order, and the same names where the
    # buffer names its fields (numpy and ctypes do).
    same = (
        got is not None
        and len(got) == len(expected)
        and all(_code_layout(c) == _code_layout(e) and (not n or n == en)
                for (c, n), (e, en) in zip(got, expected))
    )
    if not same or view.itemsize != ctypes.sizeof(cls):
        fields = ", ".join(f"{name}: {code}" for code, name in expected)
        raise TypeError(f"argument '{param}' ({rust}) needs a buffer of {cls.__name__} "
                        f"({fields}), got format '{view.format}'")
    return _buffer_address(view, param, rust, writable, obj)


def _code_layout(code: str) -> Tuple[Optional[str], int]:
    """A struct item code's kind and native size."""
    return _FORMAT_KIND.get(code), struct.calcsize("@" + code)


def _scalar_name(ctype: Any) -> str:
    for name, known in _CTYPES.items():
        if known is ctype and name not in ("isize", "usize"):
            return name
    raise LoadError(f"plain-data records hold numbers only, not {ctype}")


# ---------------------------------------------------------------------------
# Callbacks and the caller's allocator

_ALLOC_KINDS = {1: "i8", 2: "i16", 3: "i32", 4: "i64", 5: "u8", 6: "u16", 7: "u32", 8: "u64",
                9: "isize", 10: "usize", 11: "f32", 12: "f64"}
_ALLOC_PROTO = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_size_t)
_EMPTY_OUTPUT = ctypes.create_string_buffer(16)  # what a zero-length output points at


class _Call:
    """One call of an export that takes callbacks or an allocator: where the
    first exception they raise is kept until the call returns.

    Its ``token`` travels as the callbacks' C context, so a trampoline
    always reports to its own call: a finalizer or signal handler making
    other calls meanwhile, on this thread or another, cannot take or
    replace the exception."""

    __slots__ = ("token", "exception")
    _open: Dict[int, "_Call"] = {}
    _tokens = itertools.count(1)

    def __init__(self) -> None:
        self.token = next(_Call._tokens)
        self.exception: Optional[BaseException] = None
        _Call._open[self.token] = self

    def close(self) -> None:
        """Forgets the call (it returned)."""
        _Call._open.pop(self.token, None)

    @staticmethod
    def fail(token: Optional[int], exc: BaseException) -> None:
        """Keeps ``exc`` for the call ``token`` unless it already failed: the
        first exception is the one the caller sees."""
        call = _Call._open.get(token or 0)
        if call is not None and call.exception is None:
            call.exception = exc


def _array_output(rust: str, length: int) -> Any:
    """An ``array.array`` of ``length`` zeros of a Rust element type."""
    code = _ARRAY_CODES.get(rust) or {"isize": "q", "usize": "Q"}[rust]
    return array.array(code, [0]) * length


def _numpy_output(rust: str, length: int) -> Any:
    """A numpy array of ``length`` zeros of a Rust element type."""
    import numpy  # noqa: PLC0415 - optional dependency, only when asked for

    dtype = {"isize": "intp", "usize": "uintp", "bool": "bool"}.get(rust) or (
        ("float" if rust[0] == "f" else ("uint" if rust[0] == "u" else "int")) + rust[1:]
    )
    return numpy.zeros(length, dtype=dtype)


class _Outputs:
    """One call's allocator: allocates what Rust asks for, keeps it alive,
    and hands the outputs back after the call."""

    def __init__(self, spec: Any, where: str, call: _Call) -> None:
        self.call = call
        if spec is None or spec == "array":
            self.make: Callable[[str, int], Any] = _array_output
        elif spec == "numpy":
            self.make = _numpy_output
        elif callable(spec):
            self.make = spec
        else:
            raise TypeError(f"{where} must be None, 'array', 'numpy' or a function (rust_type, length) -> buffer")
        # A function of the caller's may keep what it returns and write it
        # during the call (from a later allocation or a callback): Rust then
        # fills a private copy, copied into the caller's object afterwards.
        # The built-in kinds make objects nothing else references.
        self.private = callable(spec)
        self.copies: List[Tuple[int, Any, int]] = []  # (caller's address, private copy, bytes)
        self.outputs: List[Tuple[bool, Any, Any]] = []  # (is_text, object, keepalive)
        self.regions: List[Tuple[int, int]] = []  # (address, bytes) Rust may hold
        self.cfunc = _ALLOC_PROTO(self._alloc)
        self.c_value = _FfiAllocator(ctypes.cast(self.cfunc, ctypes.c_void_p), None)

    def _alloc(self, _context: Any, kind: int, length: int) -> Optional[int]:
        try:
            if kind == 0:
                obj: Any = bytearray(length)
                rust = "u8"
            else:
                rust = _ALLOC_KINDS[kind]
                obj = self.make(rust, length)
            address, got, keep = _buffer(obj, "allocator output", rust, True)
            if got != length:
                raise ValueError(f"the allocator returned {got} elements of {rust}, {length} were asked for")
            if length:
                nbytes = memoryview(obj).nbytes
                # Rust gets a `&mut [T]`: it must not alias another output or
                # a borrowed argument of the call.
                for start, size in self.regions:
                    if address < start + size and start < address + nbytes:
                        raise ValueError("the allocator returned memory that overlaps another output "
                                         "or an argument of the call")
                self.regions.append((address, nbytes))
                # Outputs start zeroed, whatever the allocator returned.
                ctypes.memset(address, 0, nbytes)
                if self.private and kind != 0:
                    copy = (ctypes.c_uint64 * ((nbytes + 7) // 8))()
                    self.copies.append((address, copy, nbytes))
                    keep = (keep, copy)
                    address = ctypes.addressof(copy)
            self.outputs.append((kind == 0, obj, keep))
            return address if length else ctypes.addressof(_EMPTY_OUTPUT)
        except BaseException as exc:  # noqa: BLE001 - re-raised after the Rust call
            _Call.fail(self.call.token, exc)
            return None

    def borrow(self, address: Optional[int], nbytes: int) -> None:
        """Records memory an argument of the call lends to Rust."""
        if address and nbytes:
            self.regions.append((address, nbytes))

    def finish(self) -> List[Any]:
        """The outputs in allocation order: ``str`` for text, arrays as made."""
        for address, copy, nbytes in self.copies:
            ctypes.memmove(address, copy, nbytes)
        self.copies.clear()
        results = [bytes(obj).decode("utf-8") if is_text else obj for is_text, obj, _ in self.outputs]
        self.outputs.clear()
        return results


# ---------------------------------------------------------------------------
# Binding


def _python_name(name: str, taken: set) -> str:
    """A Rust parameter name as a Python identifier."""
    while keyword.iskeyword(name) or name in taken or name.startswith("_fx_"):
        name += "_"
    return name


def _str_list(value: object, param: str) -> Tuple[Optional[int], int, object]:
    """A ``list[str]`` as an array of string views for ``&[&str]``."""
    if isinstance(value, (str, bytes, bytearray)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{param} (&[&str]) must be a list of str, not {_type_name(value)}")
    encoded = [_as_str(item, f"{param}[{i}]") for i, item in enumerate(value)]  # type: ignore[attr-defined]
    if not encoded:
        return None, 0, None
    views = (_FfiBuffer * len(encoded))(
        *[_FfiBuffer(ctypes.cast(data, ctypes.c_void_p), len(data), 0) for data in encoded]
    )
    return ctypes.addressof(views), len(encoded), (views, encoded)


def _private_copy(address: Optional[int], nbytes: int, writable: bool, keep: object,
                  backs: Optional[List[Any]]) -> Tuple[Optional[int], object]:
    """A private, 8-byte-aligned copy of ``nbytes`` lent at ``address``, for
    a call during which Python code runs: Rust reads (and for ``&mut``
    writes) the copy, which no Python code can reach; ``backs`` collects
    what :func:`_write_back` copies back into a writable original."""
    if not address or not nbytes:
        return address, keep
    copy = (ctypes.c_uint64 * ((nbytes + 7) // 8))()
    ctypes.memmove(copy, address, nbytes)
    if writable and backs is not None:
        backs.append((address, copy, nbytes))
    return ctypes.addressof(copy), (copy, keep)


def _write_back(backs: List[Any]) -> None:
    """Copies what Rust wrote into private copies back into the caller's
    buffers (after the call: no Rust reference to them remains)."""
    for address, copy, nbytes in backs:
        ctypes.memmove(address, copy, nbytes)


def _boxer(ctype: Any) -> Callable[[Any], Any]:
    """Wraps a converted value in a ctypes object so it can be passed by
    pointer (``Option<T>`` parameters)."""
    if issubclass(ctype, ctypes._SimpleCData):  # type: ignore[attr-defined]
        return ctype
    return _identity


# ---------------------------------------------------------------------------
# The CPython fast path (see ffi-export-runtime/src/python.rs)

def _fast_path_maker(cdll: ctypes.CDLL, raise_fault: Callable[..., None]) -> Optional[Callable[[str, Any], Any]]:
    """Turns on the library's CPython fast path, or returns None where it
    cannot be used (another Python implementation, a debug build, or
    ``FFI_EXPORT_NO_FAST=1``).

    The library lists the objects and C-API functions it needs
    (``ffi_export_python_api``, one line each, in the order of its table),
    so the table is built from that list and cannot drift from it."""
    # The native code reads object headers (type pointer, float value) with
    # the layout of regular CPython builds: debug builds (Py_TRACE_REFS) and
    # free-threaded builds lay objects out differently, so they keep ctypes.
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    if (sys.implementation.name != "cpython" or hasattr(sys, "gettotalrefcount") or free_threaded
            or os.environ.get("FFI_EXPORT_NO_FAST") == "1"):
        return None
    try:
        layout_fn = cdll["ffi_export_python_api"]
        init = cdll["ffi_export_python_init"]
        make = cdll["ffi_export_python_function"]
    except AttributeError:
        return None
    layout_fn.restype = ctypes.c_char_p
    layout_fn.argtypes = []
    objects = {"int": int, "float": float, "str": str, "True": True, "False": False, "None": None,
               "raise_fault": raise_fault}
    values: List[Tuple[str, int]] = []
    for line in layout_fn().decode("ascii").splitlines():
        kind, _, name = line.partition(" ")
        if kind == "object" and name in objects:
            values.append((f"o_{name}", id(objects[name])))
        elif kind == "function" and hasattr(ctypes.pythonapi, name):
            values.append((name, ctypes.cast(getattr(ctypes.pythonapi, name), ctypes.c_void_p).value or 0))
        else:  # a role this helper does not know, or a missing entry point: keep ctypes
            return None
    table_type = type("_PyApi", (ctypes.Structure,), {
        "_fields_": [("size", ctypes.c_size_t)] + [(name, ctypes.c_void_p) for name, _ in values]})
    api = table_type(ctypes.sizeof(table_type), *[value for _, value in values])
    # Called with the GIL held: these functions use the C API.
    init_fn = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.POINTER(table_type))(ctypes.cast(init, ctypes.c_void_p).value)
    if init_fn(ctypes.byref(api)) != 1:
        return None
    make_fn = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_char_p, ctypes.py_object)(
        ctypes.cast(make, ctypes.c_void_p).value)
    _fast_keepalive.append((raise_fault, init_fn, make_fn))
    return lambda name, slow: make_fn(name.encode(), slow)


#: Objects the Rust side holds pointers to: they live as long as the process.
_fast_keepalive: List[Any] = []


class _Binder:
    """Generates one specialised Python function per export, once, at load."""

    def __init__(self, library: "Library", cdll: ctypes.CDLL, types: _Types) -> None:
        self.library = library
        self.cdll = cdll
        self.types = types
        self.faults = ctypes.c_uint64.in_dll(cdll, "FFI_EXPORT_FAULTS")
        # `cdll[name]` makes a private function object: argtypes set here
        # cannot be changed by other code using `cdll.name`.
        take = cdll["ffi_export_error_take_since"]
        take.argtypes = [ctypes.c_uint64, ctypes.POINTER(_FfiError)]
        take.restype = ctypes.c_bool
        free = cdll["ffi_export_error_free"]
        free.argtypes = [ctypes.POINTER(_FfiError)]
        free.restype = None
        self.take_error = take
        self.free_error = free
        self.fast = _fast_path_maker(cdll, self.raise_fault)

    def raise_since(self, since: int, receiver: Any = None, call: Optional[_Call] = None) -> None:
        """Raises the error of this thread's call made after the fault
        counter read ``since``, if that call failed (the counter also moves
        when another thread fails: then there is nothing to raise).

        Python code that ran since the call (finalizers, signal handlers,
        other exports) cannot hide or replace that error: the library keeps
        each failure under its own number until it is taken."""
        error = _FfiError()
        if not self.take_error(since, error):
            return
        try:
            message = ctypes.string_at(error.message.ptr, error.message.len).decode("utf-8", "replace")
            name = ctypes.string_at(error.type_name.ptr, error.type_name.len).decode("utf-8", "replace")
            code = error.code
        finally:
            self.free_error(error)
        self.raise_fault(code, name, message, receiver, call)

    def raise_fault(self, code: int, name: str, message: str, receiver: Any = None,
                    call: Optional[_Call] = None) -> None:
        """Raises the Python exception for a failed call: ``RustPanic``,
        ``InvalidArgument``, the callback's own exception, or
        ``lib.errors.<name>``. The native fast path calls this too (with
        the failure it already took), so both paths raise the same classes.
        ``receiver`` is a method's ``self``: a call that failed because the
        object was closed meanwhile (by another thread) raises the same
        ``ValueError`` as a call on a closed object."""
        pending = call.exception if call is not None else None
        if call is not None:
            call.exception = None
        if code == _CODE_CALLBACK and pending is not None:
            raise pending
        if code == _CODE_INVALID and isinstance(receiver, _Object) and receiver.closed:
            raise _closed_error(receiver) from None
        exc: FfiError
        if code == _CODE_PANIC:
            exc = RustPanic(message)
        elif code == _CODE_INVALID:
            exc = InvalidArgument(message)
        elif code == _CODE_CALLBACK:
            exc = FfiError(message)
        else:
            exc = self.library._error_class(name)(message)
        # A callback that raised while Rust was already failing: shown as the
        # context of the error the call ended with.
        exc.__context__ = pending
        raise exc

    def bind(self, export: Dict[str, Any]) -> Callable[..., Any]:
        name = export["name"]
        types = self.types
        cfunc = self.cdll[name]
        ns: Dict[str, Any] = {
            "_fx_cfn": cfunc,
            "_fx_faults": self.faults,
            "_fx_raise": self.raise_since,
            "_fx_as_int": _as_int,
            "_fx_range": _out_of_range,
            "_fx_as_float": _as_float,
            "_fx_f32": _f32_overflow,
            "_fx_f32_max": _F32_MAX,
            "_fx_as_bool": _as_bool,
            "_fx_as_str": _as_str,
            "_fx_as_cstr": _as_cstr,
            "_fx_buffer": _buffer,
            "_fx_plain_buffer": _plain_buffer,
            "_fx_str_list": _str_list,
        }
        argtypes: List[Any] = []
        body: List[str] = []
        cargs: List[str] = []
        names: List[str] = []
        annotations: Dict[str, Any] = {}
        taken: set = set()
        keep_list = False
        allocator: Optional[str] = None
        lent: List[Tuple[str, int]] = []  # slice parameters: (name, element size)
        # Callbacks and the allocator run Python code during the call and
        # report their exceptions to it.
        per_call = any(p["type"]["kind"] in ("callback", "allocator") for p in export["params"])
        if export["kind"] in ("method", "method_mut"):
            names.append("self")
            taken.add("self")
            ns["_fx_closed"] = _closed_error
            body.append("_fx_h = getattr(self, '_handle', 0)")
            body.append("if not _fx_h: raise _fx_closed(self)")
            argtypes.append(ctypes.c_uint64)
            cargs.append("_fx_h")
        for param in export["params"]:
            p = _python_name(param["name"], taken)
            taken.add(p)
            names.append(p)
            ty = param["type"]
            kind = ty["kind"]
            rust = _rust_type(ty, types.named)
            where = f"argument '{p}'"
            annotations[p] = types.python_type(ty)
            if kind == "scalar" and ty["name"] in _INT_RANGES:
                _, low, high = _INT_RANGES[ty["name"]]
                body.append(f"if {p}.__class__ is not int: {p} = _fx_as_int({p}, {where!r}, {rust!r})")
                body.append(f"if not {low} <= {p} <= {high}: raise _fx_range({p}, {where!r}, {rust!r})")
                argtypes.append(_CTYPES[ty["name"]])
                cargs.append(p)
            elif kind == "scalar" and ty["name"] in _FLOATS:
                body.append(f"if {p}.__class__ is not float: {p} = _fx_as_float({p}, {where!r}, {rust!r})")
                if ty["name"] == "f32":
                    body.append(
                        f"if not -_fx_f32_max <= {p} <= _fx_f32_max and {p} - {p} == 0: raise _fx_f32({p}, {where!r})"
                    )
                argtypes.append(_CTYPES[ty["name"]])
                cargs.append(p)
            elif kind == "scalar" and ty["name"] == "bool":
                body.append(f"if {p}.__class__ is not bool: {p} = _fx_as_bool({p}, {where!r})")
                argtypes.append(ctypes.c_bool)
                cargs.append(p)
            elif kind == "enum":
                ns[f"_fx_w_{p}"] = types.writer(ty)
                body.append(f"{p} = _fx_w_{p}({p}, None, {where!r})")
                argtypes.append(types.repr_type(ty))
                cargs.append(p)
            elif kind == "str":
                body.append(f"_fx_b_{p} = _fx_as_str({p}, {where!r})")
                argtypes += [ctypes.c_char_p, ctypes.c_size_t]
                cargs += [f"_fx_b_{p}", f"len(_fx_b_{p})"]
            elif kind == "cstr":
                body.append(f"_fx_b_{p} = _fx_as_cstr({p}, {where!r})")
                argtypes.append(ctypes.c_char_p)
                cargs.append(f"_fx_b_{p}")
            elif kind == "str_list":
                body.append(f"_fx_p_{p}, _fx_n_{p}, _fx_k_{p} = _fx_str_list({p}, {where!r})")
                argtypes += [ctypes.c_void_p, ctypes.c_size_t]
                cargs += [f"_fx_p_{p}", f"_fx_n_{p}"]
            elif kind == "slice":
                elem = ty["elem"]
                if elem["kind"] == "scalar":
                    call = f"_fx_buffer({p}, {p!r}, {elem['name']!r}, {ty['mutable']!r})"
                else:
                    ns[f"_fx_cls_{p}"] = types.classes[elem["key"]]
                    call = f"_fx_plain_buffer({p}, {p!r}, _fx_cls_{p}, {ty['mutable']!r})"
                body.append(f"_fx_p_{p}, _fx_n_{p}, _fx_k_{p} = {call}")
                size = ctypes.sizeof(types.repr_type(elem))
                lent.append((p, size))
                if per_call:
                    # Python code runs during this call (callbacks, the
                    # allocator, and signal handlers or finalizers inside
                    # them): Rust gets a private copy, so nothing can write
                    # memory it holds as `&[T]`/`&mut [T]`; `&mut` is copied
                    # back after the call.
                    ns["_fx_private"] = _private_copy
                    body.append(f"_fx_o_{p} = _fx_p_{p}")
                    body.append(f"_fx_p_{p}, _fx_k_{p} = _fx_private(_fx_p_{p}, _fx_n_{p} * {size}, "
                                f"{ty['mutable']!r}, _fx_k_{p}, _fx_backs)")
                argtypes += [ctypes.c_void_p, ctypes.c_size_t]
                cargs += [f"_fx_p_{p}", f"_fx_n_{p}"]
            elif kind == "callback":
                keep_list = True
                ns[f"_fx_cb_{p}"] = types.callback_maker(ty)
                body.append(f"_fx_a_{p} = _fx_cb_{p}({p}, _fx_keep, {where!r}, _fx_call)")
                argtypes.append(_FfiCallback)
                cargs.append(f"_fx_a_{p}")
            elif kind == "allocator":
                if allocator is not None:
                    raise LoadError(f"{name}: only one Allocator parameter is supported")
                names.pop()
                allocator = p
                ns["_fx_outputs"] = _Outputs
                body.append(f"_fx_out = _fx_outputs({p}, {where!r}, _fx_call)")
                argtypes.append(_FfiAllocator)
                cargs.append("_fx_out.c_value")
            elif kind in ("record", "option", "data_enum"):
                keep_list = True
                target = ty["inner"] if kind == "option" else ty
                ns[f"_fx_w_{p}"] = types.writer(target)
                repr_type = types.repr_type(target)
                argtypes.append(ctypes.POINTER(repr_type))
                converted = f"_fx_w_{p}({p}, _fx_keep, {where!r})"
                if kind == "option":
                    ns[f"_fx_box_{p}"] = _boxer(repr_type)
                    converted = f"None if {p} is None else _fx_box_{p}({converted})"
                body.append(f"_fx_a_{p} = {converted}")
                cargs.append(f"_fx_a_{p}")
            else:
                raise LoadError(f"{name}: parameter {p!r} has a type this helper cannot pass: {rust}")
        if keep_list:
            body.insert(0, "_fx_keep = []")
        cfunc.argtypes = argtypes
        restype, returns, annotation = self._return(export, ns)
        cfunc.restype = restype
        annotations["return"] = annotation
        if allocator is not None:
            # Outputs must not overlap the buffers this call lends to Rust.
            for p, size in lent:
                body.append(f"_fx_out.borrow(_fx_o_{p}, _fx_n_{p} * {size})")
        call = f"_fx_cfn({', '.join(cargs)})"
        if allocator is not None:
            # Outputs come back from the call: the allocator is keyword-only
            # and optional, and the result is the outputs (with the value).
            names += ["*", f"{allocator}=None"]
            annotations["return"] = List[Any] if annotations["return"] is None else Tuple[annotations["return"], List[Any]]
            returns = "_fx_out.finish()" if returns == "None" else f"({returns}, _fx_out.finish())"
        method = export["kind"] in ("method", "method_mut")
        receiver = "self" if method else "None"
        write_back = ["_fx_write_back(_fx_backs)"] if per_call and any(
            p["type"]["kind"] == "slice" and p["type"]["mutable"] for p in export["params"]) else []
        if write_back:
            ns["_fx_write_back"] = _write_back
            body.insert(0, "_fx_backs = []")
        elif per_call:
            body.insert(0, "_fx_backs = None")
        lines = body + [
            "_fx_n = _fx_faults.value",
            f"_fx_r = {call}",
            *write_back,
            f"if _fx_faults.value != _fx_n: _fx_raise(_fx_n, {receiver}, {'_fx_call' if per_call else 'None'})",
            f"return {returns}",
        ]
        source = [f"def {name}({', '.join(names)}):"]
        if per_call:
            ns["_fx_Call"] = _Call
            source += ["    _fx_call = _fx_Call()", "    try:"]
            source += [f"        {line}" for line in lines]
            source += ["    finally:", "        _fx_call.close()"]
        else:
            source += [f"    {line}" for line in lines]
        exec("\n".join(source), ns)  # noqa: S102 - generated from the library's own description
        function = ns[name]
        fast = self.fast(name, function) if self.fast is not None and export.get("fast") else None
        if fast is not None:
            # The native function reads exact int/float/bool/str/buffer
            # arguments itself and hands anything else to `function`, the
            # fully checking ctypes wrapper; this def keeps keyword arguments
            # and the signature.
            fast_ns = {"_fx_fast": fast}
            positional = ", ".join(names)
            forwarded = positional
            if export["kind"] in ("method", "method_mut"):
                # The handle is read here (a slot), the rest in Rust.
                forwarded = ", ".join(["self", "self._handle"] + names[1:])
            exec(f"def {name}({positional}):\n    return _fx_fast({forwarded})", fast_ns)  # noqa: S102
            function = fast_ns[name]
        function.__doc__ = self._docstring(export)
        function.__module__ = self.library._module_name
        function.__qualname__ = name
        if export["owner"]:
            owner = types.named[export["owner"]["key"]]["name"]
            function.__name__ = export["name"][len(owner) + 1:]
            function.__qualname__ = f"{owner}.{function.__name__}"
        function.__annotations__ = annotations
        if export.get("batch"):
            function.map = self._batch(export)  # type: ignore[attr-defined]
        return function

    def _batch(self, export: Dict[str, Any]) -> Callable[..., Any]:
        """``f.map(*arrays)``: the function over whole arrays in one call
        (``#[export(batch)]``). Each argument is a buffer (all of the same
        length) or a single value used for every element; the result is a
        numpy array when numpy inputs were given, else an ``array.array``."""
        types = self.types
        params = export["params"]
        names = [p["name"] for p in params]
        elems = [p["type"]["name"] for p in params]
        writers = [types.writer(p["type"]) for p in params]
        ret = export["returns"]["ok"] if export["returns"]["kind"] == "result" else export["returns"]
        ret_elem = ret["name"]
        cfunc = self.cdll[export["batch"]]
        cfunc.argtypes = [ctypes.c_size_t] + [ctypes.c_void_p, ctypes.c_size_t] * len(params) + [ctypes.c_void_p]
        cfunc.restype = ctypes.c_size_t
        faults, raise_since = self.faults, self.raise_since

        def map(*args: Any, **kwargs: Any) -> Any:  # noqa: A001 - the documented name
            values = list(args) + [kwargs.pop(n) for n in names[len(args):] if n in kwargs]
            if kwargs or len(values) != len(names):
                raise TypeError(f"{export['name']}.map takes {len(names)} arguments ({', '.join(names)})")
            length: Optional[int] = None
            flat: List[Any] = []
            keep: List[Any] = []
            use_numpy = False
            for value, name, elem, write in zip(values, names, elems, writers):
                if isinstance(value, (int, float)) or type(value).__module__ == "numpy" and not hasattr(value, "__len__"):
                    box = _CTYPES[elem](write(value, keep, f"argument '{name}'"))
                    keep.append(box)
                    flat += [ctypes.addressof(box), 0]
                    continue
                use_numpy = use_numpy or type(value).__module__ == "numpy"
                address, count, anchor = _buffer(value, name, elem, False)
                keep.append(anchor)
                if length is not None and count != length:
                    raise ValueError(f"{export['name']}.map: argument '{name}' has {count} elements, "
                                     f"the others {length}")
                length = count
                flat += [address, 1]
            length = 1 if length is None else length
            out = _numpy_output(ret_elem, length) if use_numpy else _array_output(
                "u8" if ret_elem == "bool" else ret_elem, length)
            out_address, _, out_anchor = _buffer(out, "out", "u8" if ret_elem == "bool" and not use_numpy else ret_elem, True)
            before = faults.value
            cfunc(length, *flat, out_address)
            del out_anchor
            if faults.value != before:
                raise_since(before)
            return out

        map.__doc__ = f"{export['name']} over whole arrays in one call: see ``map`` in the ffi_export docs."
        return map

    def _return(self, export: Dict[str, Any], ns: Dict[str, Any]) -> Tuple[Any, str, Any]:
        """(restype, return expression over ``_fx_r``, annotation)."""
        types = self.types
        ty = export["returns"]
        annotation = types.python_type(ty)
        if ty["kind"] == "result":
            ty = ty["ok"]
        kind = ty["kind"]
        if kind == "unit":
            return None, "None", None
        restype = types.repr_type(ty)
        if kind == "scalar" or (kind == "record" and types.named[ty["key"]]["pod"]):
            return restype, "_fx_r", annotation
        free = None
        if export["free"]:
            free = self.cdll[export["free"]]
            free.argtypes = [ctypes.POINTER(restype)]
            free.restype = None
            ns["_fx_free"] = free
        if kind == "string" and free is not None:
            ns["_fx_take"] = _take_string
            return restype, "_fx_take(_fx_r, _fx_free)", annotation
        if kind == "vec" and ty["elem"]["kind"] == "scalar" and free is not None:
            ns["_fx_take"] = _take_vec
            ns["_fx_elem"] = types.repr_type(ty["elem"])
            return restype, "_fx_take(_fx_r, _fx_free, _fx_elem)", "Array"
        read = types.reader(ty)
        ns["_fx_take"] = read if free is None else _read_then_free(read, free)
        return restype, "_fx_take(_fx_r)", annotation

    def _docstring(self, export: Dict[str, Any]) -> str:
        named = self.types.named
        params = [f"{p['name']}: {_rust_type(p['type'], named)}" for p in export["params"]]
        name = export["name"]
        if export["owner"]:
            name = name[len(named[export["owner"]["key"]]["name"]) + 1:]
            receiver = {"method": "&self", "method_mut": "&mut self"}.get(export["kind"])
            params = ([receiver] if receiver else []) + params
        signature = f"fn {name}({', '.join(params)})"
        if export["returns"]["kind"] != "unit":
            signature += f" -> {_rust_type(export['returns'], named)}"
        doc = export["doc"].strip()
        return f"{doc}\n\nRust: ``{signature}``" if doc else f"Rust: ``{signature}``"


def _unbindable(export: Dict[str, Any], why: str) -> Callable[..., Any]:
    """Stands in for an export the helper could not bind."""

    def unbound(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{export['name']} cannot be called through this helper: {why}")

    unbound.__name__ = unbound.__qualname__ = export["name"]
    if export["owner"]:
        owner = export["owner"]["key"].rsplit("::", 1)[-1]
        unbound.__name__ = export["name"][len(owner) + 1:]
    return unbound


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
        self.errors = _pytypes.SimpleNamespace()
        self._types = _Types(self._description.get("types", {}), self._module_name)
        #: The classes of the library's records and enums, by Rust name.
        self.types = _pytypes.SimpleNamespace()
        for key, cls in self._types.classes.items():
            setattr(self.types, self._types.named[key]["name"], cls)
        binder = _Binder(self, cdll, self._types)
        self._exports: Dict[str, Dict[str, Any]] = {}
        for export in self._description["exports"]:
            self._exports[export["name"]] = export
            ty = export["returns"]
            if ty["kind"] == "result":
                self._error_class(ty["error"])
            try:
                function = binder.bind(export)
            except LoadError as error:
                # One export this helper cannot bind (e.g. a helper older than
                # the library) must not make the whole library unusable.
                warnings.warn(f"{self.path}: {error}; calling it raises NotImplementedError",
                              RuntimeWarning, stacklevel=2)
                function = _unbindable(export, str(error))
            if export["owner"]:
                self._install(self._types.classes[export["owner"]["key"]], export, function)
            else:
                setattr(self, export["name"], function)
        for key, desc in self._types.named.items():
            if desc["kind"] == "object":
                free = cdll[desc["free"]]
                free.argtypes = [ctypes.c_uint64]
                free.restype = None
                self._types.classes[key]._ffi_free = free
        # Records and enums are also reachable as `lib.Name` unless an export
        # has that name.
        for name, cls in vars(self.types).items():
            if name not in self._exports:
                setattr(self, name, cls)

    @staticmethod
    def _install(cls: Any, export: Dict[str, Any], function: Callable[..., Any]) -> None:
        """Puts a bound associated function on its object class."""
        name = function.__name__
        kind = export["kind"]
        if kind in ("method", "method_mut"):
            setattr(cls, name, function)
            return
        setattr(cls, name, staticmethod(function))
        if kind == "constructor" and name == "new":
            def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
                if getattr(self, "_handle", 0):
                    # A second __init__ would replace (and leak) the Rust value.
                    raise TypeError(f"this {cls.__name__} is already initialised; make a new one")
                made = function(*args, **kwargs)
                if made is None:
                    raise ValueError(f"{cls.__name__}.new returned None")
                self._handle, made._handle = made._handle, 0

            signature = inspect.signature(function)
            __init__.__signature__ = signature.replace(  # type: ignore[attr-defined]
                parameters=[inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                            *signature.parameters.values()],
                return_annotation=None,
            )
            __init__.__doc__ = function.__doc__
            cls.__init__ = __init__

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


_loaded: Dict[str, Library] = {}
_loading = threading.Lock()


def load(path: "str | os.PathLike[str]") -> Library:
    """Loads the ffi-export library at ``path`` and binds all its exports.

    Loading the same file again returns the same :class:`Library` (the
    process has one copy of the native library either way), so its classes
    and exception types are the same objects everywhere."""
    key = os.path.realpath(os.fspath(path))
    with _loading:
        library = _loaded.get(key)
        if library is None:
            library = _loaded[key] = Library(path)
        return library

def load_package(package: str, name: Optional[str] = None) -> Library:
    """Loads the ffi-export library shipped inside an installed Python
    package: ``ffi_export.load_package("mypkg")`` finds ``mypkg``'s directory
    and the one cdylib in it built with ffi-export (or the file ``name``), so
    users never spell the ``.so`` path."""
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.find_spec(package)
    if spec is None:
        raise LoadError(f"no installed package {package!r}")
    dirs = list(spec.submodule_search_locations or []) or [os.path.dirname(spec.origin or "")]
    for directory in dirs:
        if name is not None:
            if os.path.exists(os.path.join(directory, name)):
                return load(os.path.join(directory, name))
            continue
        for entry in sorted(os.listdir(directory)):
            if entry.endswith((".so", ".dylib", ".dll")) and ".cpython-" not in entry and ".abi3." not in entry:
                path = os.path.join(directory, entry)
                try:
                    if hasattr(ctypes.CDLL(path), "ffi_export_abi_version"):
                        return load(path)
                except OSError:
                    continue
    raise LoadError(f"package {package!r} ({', '.join(dirs)}) holds no library built with ffi-export"
                    + (f" named {name!r}" if name else ""))


# ---------------------------------------------------------------------------
# Generators: typed stubs and a C header, from a library's description


def _describe(path: str) -> Dict[str, Any]:
    """A library's self-description (checked like :func:`load` does)."""
    library = load(path)
    return library._description


#: ``python ffi_export.py stubs --helper-stub``: the types of this helper's
#: public API, for mypy (``ffi_export.pyi`` next to ``ffi_export.py``).
HELPER_STUB = '''\
# Types of the ffi_export helper's public API (written by
# `python ffi_export.py stubs ... --helper-stub DIR`).
import os
from typing import Any, Dict, List, Optional

__version__: str
ABI_VERSION: int
HELPER_STUB: str

class FfiError(Exception):
    rust_type: str

class RustPanic(FfiError): ...
class InvalidArgument(FfiError, ValueError): ...
class LoadError(ImportError): ...

class Library:
    path: str
    errors: Any
    types: Any
    def __init__(self, path: str | os.PathLike[str]) -> None: ...
    @property
    def exports(self) -> Dict[str, Dict[str, Any]]: ...
    def __getattr__(self, name: str) -> Any: ...

def load(path: str | os.PathLike[str]) -> Library: ...
def load_package(package: str, name: Optional[str] = None) -> Library: ...
def generate_stub(description: Dict[str, Any], module: str = ..., vendored: bool = ...) -> str: ...
def generate_module(description: Dict[str, Any], library: str, module: str = ..., vendored: bool = ...) -> str: ...
def generate_header(description: Dict[str, Any], library: str = ..., cdef: bool = ...) -> str: ...
'''


class _StubWriter:
    """Writes the ``.pyi`` of one library description."""

    def __init__(self, description: Dict[str, Any]) -> None:
        self.desc = description
        self.named: Dict[str, Any] = description.get("types", {})
        self.exports = description["exports"]

    def name(self, key: str) -> str:
        return str(self.named[key]["name"])

    def value(self, t: Dict[str, Any], param: bool) -> str:
        """The Python type of a value (``param``: what a call accepts, else
        what it returns)."""
        kind = t["kind"]
        if kind == "scalar":
            return "bool" if t["name"] == "bool" else "float" if t["name"] in _FLOATS else "int"
        if kind in ("string", "str"):
            return "str"
        if kind == "cstr":
            return "Buffer | str"
        if kind == "str_list":
            return "Iterable[str]"
        if kind == "slice":
            return "WritableBuffer" if t["mutable"] else "Buffer"
        if kind == "unit":
            return "None"
        if kind in ("record", "object", "data_enum"):
            return self.name(t["key"])
        if kind == "enum":
            return f"{self.name(t['key'])} | int" if param else self.name(t["key"])
        if kind == "option":
            return f"Optional[{self.value(t['inner'], param)}]"
        if kind == "vec":
            inner = self.value(t["elem"], param)
            return f"Sequence[{inner}]" if param else f"List[{inner}]"
        if kind == "result":
            return self.value(t["ok"], param)
        if kind == "callback":
            args = ", ".join(self.value(a, False) for a in t["params"])
            ret = "object" if t["ret"]["kind"] == "unit" else self.value(t["ret"], True)
            return f"Callable[[{args}], {ret}]"
        return "Any"

    def returns(self, export: Dict[str, Any]) -> str:
        ty = export["returns"]
        ok = ty["ok"] if ty["kind"] == "result" else ty
        if ok["kind"] == "vec" and ok["elem"]["kind"] == "scalar" and export["free"]:
            result = f"Vec[{self.value(ok['elem'], False)}]"
        else:
            result = self.value(ty, False)
        if any(p["type"]["kind"] == "allocator" for p in export["params"]):
            result = "List[Any]" if result == "None" else f"Tuple[{result}, List[Any]]"
        return result

    def params(self, export: Dict[str, Any], receiver: bool) -> List[str]:
        taken: set = {"self"} if receiver else set()
        out = ["self"] if receiver else []
        alloc = None
        for param in export["params"]:
            p = _python_name(param["name"], taken)
            taken.add(p)
            if param["type"]["kind"] == "allocator":
                alloc = p
                continue
            out.append(f"{p}: {self.value(param['type'], True)}")
        if alloc is not None:
            out += ["*", f"{alloc}: AllocatorSpec = None"]
        return out

    @staticmethod
    def doc(text: str, indent: str) -> List[str]:
        text = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
        if not text:
            return []
        lines = text.splitlines()
        if len(lines) == 1:
            return [f'{indent}"""{lines[0]}"""']
        return [f'{indent}"""{lines[0]}'] + [f"{indent}{line}" if line else "" for line in lines[1:]] + [f'{indent}"""']

    def function(self, export: Dict[str, Any], indent: str, name: str, receiver: bool,
                 static: bool) -> List[str]:
        lines = [f"{indent}@staticmethod"] if static else []
        params = ", ".join(self.params(export, receiver))
        lines.append(f"{indent}def {name}({params}) -> {self.returns(export)}:")
        docstring = _Binder._docstring(_pytypes.SimpleNamespace(types=_pytypes.SimpleNamespace(named=self.named)),  # type: ignore[arg-type]
                                       export)
        body = self.doc(docstring, indent + "    ")
        if body:
            lines += body + [f"{indent}    ..."]
        else:
            lines[-1] += " ..."
        return lines

    def record(self, key: str, desc: Dict[str, Any]) -> List[str]:
        name = desc["name"]
        fields = [(f["name"], f["type"]) for f in desc["fields"]]
        base = "ctypes.Structure" if desc["pod"] else "_Record"
        lines = [f"class {name}({base}):"]
        lines += self.doc(desc["doc"], "    ")
        for field, ty in fields:
            lines.append(f"    {field}: {self.value(ty, False)}")
        default = " = ..." if desc["pod"] else ""
        args = "".join(f", {field}: {self.value(ty, False)}{default}" for field, ty in fields)
        lines.append(f"    def __init__(self{args}) -> None: ...")
        return lines

    def data_enum(self, key: str, desc: Dict[str, Any]) -> List[str]:
        name = desc["name"]
        lines = [f"class {name}(_Record):"]
        lines += self.doc(desc["doc"], "    ")
        for variant in desc["variants"]:
            lines.append(f"    class {variant['name']}({name}):")
            lines.append(f'        """The `{name}::{variant["name"]}` variant."""')
            fields = [(f["name"], self.value(f["type"], False)) for f in variant["fields"]]
            for field, ty in fields:
                lines.append(f"        {field}: {ty}")
            args = "".join(f", {field}: {ty}" for field, ty in fields)
            lines.append(f"        def __init__(self{args}) -> None: ...")
        return lines

    def object(self, key: str, desc: Dict[str, Any]) -> List[str]:
        name = desc["name"]
        lines = [f"class {name}(_Object):"]
        lines += self.doc(desc["doc"], "    ")
        for export in self.exports:
            if not export["owner"] or export["owner"]["key"] != key:
                continue
            short = export["name"][len(name) + 1:]
            method = export["kind"] in ("method", "method_mut")
            if export["kind"] == "constructor" and short == "new":
                init = self.function(export, "    ", "__init__", True, False)
                init[0] = init[0].rsplit(" -> ", 1)[0] + " -> None:" + (" ..." if init[0].endswith(" ...") else "")
                lines += init
            lines += self.function(export, "    ", short, method, not method)
        return lines

    def write(self, module: str, vendored: bool = False) -> str:
        out = [
            f'"""Types of the ffi-export library {module!r} (ffi-export ABI {self.desc.get("abi_version")}).',
            "",
            "Written by `python ffi_export.py stubs`; regenerate it after changing the Rust exports.",
            '"""',
            "import ctypes",
            "import enum",
            "import types",
            "from typing import Any, Callable, Iterable, Iterator, List, Literal, Optional, Protocol, "
            "Self, Sequence, Tuple, TypeVar, Union",
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
            "#: How an `Allocator` parameter makes output arrays.",
            'AllocatorSpec = Union[None, Literal["array", "numpy"], Callable[[str, int], Any]]',
            "",
            "class _Record:",
            "    def __eq__(self, other: object) -> bool: ...",
            "",
            "class _Object:",
            "    def close(self) -> None: ...",
            "    @property",
            "    def closed(self) -> bool: ...",
            "    def __enter__(self) -> Self: ...",
            "    def __exit__(self, *exc: object) -> None: ...",
            "",
            "#: The loaded library.",
            "library: ffi_export.Library",
            "",
        ]
        errors = sorted({e["returns"]["error"] for e in self.exports if e["returns"]["kind"] == "result"})
        out.append("class errors:")
        out.append('    """The exception classes of the Rust error types, subclasses of `ffi_export.FfiError`."""')
        for error in errors:
            out.append(f"    class {error}(ffi_export.FfiError): ...")
        out.append("")
        for key, desc in self.named.items():
            kind = desc["kind"]
            if kind == "enum":
                lines = [f"class {desc['name']}(enum.IntEnum):"] + self.doc(desc["doc"], "    ")
                lines += [f"    {variant} = {value}" for variant, value in desc["variants"]]
            elif kind == "record":
                lines = self.record(key, desc)
            elif kind == "data_enum":
                lines = self.data_enum(key, desc)
            else:
                lines = self.object(key, desc)
            out += lines + [""]
        for export in self.exports:
            if export["owner"]:
                continue
            if keyword.iskeyword(export["name"]):
                out.append(f"# {export['name']}: a Python keyword, reached as getattr(library, {export['name']!r})")
            elif export.get("batch"):
                cls = f"_{export['name']}_batched"
                out.append(f"class {cls}(Protocol):")
                out += self.function(export, "    ", "__call__", True, False)
                out.append("    def map(self, *args: Any) -> Any:")
                out.append('        """The function over whole arrays in one call (`#[export(batch)]`)."""')
                out.append("        ...")
                out.append(f"{export['name']}: {cls}")
            else:
                out += self.function(export, "", export["name"], False, False)
            out.append("")
        return "\n".join(out).rstrip() + "\n"


def generate_stub(description: Dict[str, Any], module: str = "library", vendored: bool = False) -> str:
    """The ``.pyi`` text of the typed module for a library description
    (``vendored``: the module is a package's ``__init__`` next to its own
    copy of this helper)."""
    return _StubWriter(description).write(module, vendored)


def generate_module(description: Dict[str, Any], library: str, module: str = "library",
                    vendored: bool = False) -> str:
    """A thin typed module loading ``library``: the ``.so`` next to the
    module if there is one (a package), else the path given here
    (``<MODULE>_LIBRARY`` in the environment overrides both). ``vendored``:
    it imports the helper from its own package (``from . import ffi_export``)."""
    names = sorted(e["name"] for e in description["exports"] if not e["owner"] and not keyword.iskeyword(e["name"]))
    types = sorted({d["name"] for d in description.get("types", {}).values()} - set(names))
    env = re.sub(r"\W", "_", module).upper() + "_LIBRARY"
    lines = [
        f'"""Typed access to {os.path.basename(library)} (written by `python ffi_export.py stubs`).',
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
        "library = _ffi_export.load(_PATH)",
        "errors = library.errors",
    ]
    lines += [f"{name} = library.{name}" for name in names]
    lines += [f"{name} = library.types.{name}" for name in types]
    lines.append("")
    lines.append(f"__all__ = {['library', 'errors'] + names + types!r}")
    return "\n".join(lines) + "\n"


_C_SCALARS = {"i8": "int8_t", "i16": "int16_t", "i32": "int32_t", "i64": "int64_t",
              "u8": "uint8_t", "u16": "uint16_t", "u32": "uint32_t", "u64": "uint64_t",
              "isize": "ssize_t", "usize": "size_t", "f32": "float", "f64": "double",
              "bool": "uint8_t"}

_C_RUNTIME = '''\
/* ---- Runtime types (ffi-export-runtime/src/abi.rs, callback.rs) ---- */

/* An owned array handed to the caller: a String's UTF-8 bytes (followed by a
 * NUL that len does not count) or a Vec's elements. NULL ptr = no value.
 * Give it back exactly once to the <function>_free paired with the function
 * that returned it; the free resets it to NULL, so a second free is a no-op.
 * As an input (&[&str] items, String fields of records passed in) only ptr
 * and len are read, cap is ignored, and the caller keeps ownership. */
typedef struct FfiBuffer { void *ptr; size_t len; size_t cap; } FfiBuffer;

/* The calling thread's last error: code is one of FFI_EXPORT_OK..
 * FFI_EXPORT_CALLBACK_FAILED; message and type_name are owned UTF-8
 * (NUL-terminated) buffers, released by ffi_export_error_free. */
typedef struct FfiError { int32_t code; FfiBuffer message; FfiBuffer type_name; } FfiError;

enum {
    FFI_EXPORT_OK = 0,               /* no error */
    FFI_EXPORT_ERROR = 1,            /* the function returned Err(e): message is e's Display */
    FFI_EXPORT_PANIC = 2,            /* the function panicked: message is the panic message */
    FFI_EXPORT_INVALID_ARGUMENT = 3, /* an argument was refused before the function ran */
    FFI_EXPORT_CALLBACK_FAILED = 4   /* a callback or the allocator reported a failure */
};

/* A caller function for Callback<fn(A, ..) -> R>: call is
 * R (*)(void *context, uint8_t *failed, A...); set *failed = 1 to make the
 * Rust function unwind (the call then fails with FFI_EXPORT_CALLBACK_FAILED).
 * Borrowed for the duration of the call only. */
typedef struct FfiCallback { const void *call; void *context; } FfiCallback;

/* The caller's allocator for an Allocator parameter: alloc(context, kind, len)
 * returns a zeroed buffer of len elements of `kind` (FFI_EXPORT_ALLOC_*),
 * owned by the caller and aligned for the type, or NULL to fail the call. */
typedef void *(*FfiAllocFn)(void *context, uint32_t kind, size_t len);
typedef struct FfiAllocator { FfiAllocFn alloc; void *context; } FfiAllocator;

enum {
    FFI_EXPORT_ALLOC_TEXT = 0, FFI_EXPORT_ALLOC_I8 = 1, FFI_EXPORT_ALLOC_I16 = 2,
    FFI_EXPORT_ALLOC_I32 = 3, FFI_EXPORT_ALLOC_I64 = 4, FFI_EXPORT_ALLOC_U8 = 5,
    FFI_EXPORT_ALLOC_U16 = 6, FFI_EXPORT_ALLOC_U32 = 7, FFI_EXPORT_ALLOC_U64 = 8,
    FFI_EXPORT_ALLOC_ISIZE = 9, FFI_EXPORT_ALLOC_USIZE = 10, FFI_EXPORT_ALLOC_F32 = 11,
    FFI_EXPORT_ALLOC_F64 = 12
};

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
'''


class _HeaderWriter:
    """Writes the C header of one library description."""

    def __init__(self, description: Dict[str, Any]) -> None:
        self.desc = description
        self.named: Dict[str, Any] = description.get("types", {})
        self.defined: set = set()
        self.blocks: List[str] = []
        self.cdef = False

    def type_name(self, key: str) -> str:
        desc = self.named[key]
        name = desc["name"]
        if desc["kind"] == "record":
            return name if desc["pod"] else f"{name}_repr"
        if desc["kind"] == "data_enum":
            return f"{name}_repr"
        if desc["kind"] == "object":
            return f"{name}_handle"
        return str(name)

    def c_form(self, t: Dict[str, Any]) -> str:
        """The C type of a value's C form, defining it first if needed."""
        kind = t["kind"]
        if kind == "scalar":
            return _C_SCALARS[t["name"]]
        if kind in ("string", "vec"):
            if kind == "vec":
                self.c_form(t["elem"])  # element types are defined for the reader
            return "FfiBuffer"
        if kind == "result":
            return self.c_form(t["ok"])
        if kind == "unit":
            return "void"
        if kind == "option":
            inner = self.c_form(t["inner"])
            name = "FfiOption_" + re.sub(r"\W", "_", inner)
            if name not in self.defined:
                self.defined.add(name)
                self.blocks.append(f"/* Option<{_rust_type(t['inner'], self.named)}>: value is zero when is_some is 0. */\n"
                                   f"typedef struct {name} {{ uint8_t is_some; {inner} value; }} {name};")
            return name
        if kind in ("record", "enum", "data_enum", "object"):
            self.define(t["key"])
            return self.type_name(t["key"])
        raise LoadError(f"no C form for {_rust_type(t, self.named)}")

    def comment(self, text: str, indent: str = "") -> str:
        text = text.strip().replace("*/", "* /")
        if not text:
            return ""
        lines = text.splitlines()
        return "\n".join([f"{indent}/* {lines[0]}"] + [f"{indent} * {line}".rstrip() for line in lines[1:]]) + " */\n"

    def define(self, key: str) -> None:
        if key in self.defined:
            return
        self.defined.add(key)
        desc = self.named[key]
        name = desc["name"]
        c_name = self.type_name(key)
        kind = desc["kind"]
        doc = self.comment(desc["doc"])
        if kind == "enum":
            # C enumerators are ints: larger discriminants become #defines
            # (integer literals, which cffi's cdef also accepts).
            small = [(v, n) for v, n in desc["variants"] if -2**31 <= n < 2**31]
            large = [(v, n) for v, n in desc["variants"] if not -2**31 <= n < 2**31]
            values = ",\n".join(f"    {name}_{variant} = {value}" for variant, value in small)
            block = (f"{doc}/* enum {name}: its #[repr] integer; other values are refused. */\n"
                     f"typedef {_C_SCALARS[desc['repr']]} {name};")
            if small:
                block += f"\nenum {{\n{values}\n}};"
            for variant, value in large:
                suffix = "" if self.cdef else ("ULL" if value > 0 else "LL")
                block += f"\n#define {name}_{variant} {value}{suffix}"
        elif kind == "object":
            block = (f"{doc}/* A {name} living in Rust, named by a checked handle (0 = none).\n"
                     f" * Free it exactly once with {desc['free']}(handle); stale handles are refused. */\n"
                     f"typedef uint64_t {c_name};")
        elif kind == "record":
            fields = [(f["name"], self.c_form(f["type"]), f["type"]) for f in desc["fields"]]
            body = "".join(f"    {ctype} {field}; /* {_rust_type(ty, self.named)} */\n" for field, ctype, ty in fields)
            what = ("plain data: crosses as itself" if desc["pod"] else
                    f"the C form of the record {name}: its fields' C forms in order.\n"
                    " * Returned: owned, release with the paired <function>_free (deep).\n"
                    " * Passed in (by pointer): borrowed, String fields are {ptr, len} UTF-8")
            block = f"{doc}/* {what}. */\ntypedef struct {c_name} {{\n{body}}} {c_name};"
        else:  # data_enum
            members = []
            tags = []
            for index, variant in enumerate(desc["variants"]):
                tags.append(f"    {name}_{variant['name']}_tag = {index}")
                if not variant["fields"]:
                    continue
                vname = f"{name}_{variant['name']}_repr"
                fields = "".join(f"    {self.c_form(f['type'])} {f['name']}; /* {_rust_type(f['type'], self.named)} */\n"
                                 for f in variant["fields"])
                self.blocks.append(f"typedef struct {vname} {{\n{fields}}} {vname};")
                members.append(f"        {vname} {variant['name']};\n")
            tag_list = ",\n".join(tags)
            block = (f"{doc}/* enum {name} with data: tag selects the live member of data\n"
                     " * (unknown tags are refused). */\n"
                     f"enum {{\n{tag_list}\n}};\n"
                     f"typedef struct {c_name} {{\n    uint32_t tag;\n    union {{\n{''.join(members)}"
                     f"        uint8_t none_;\n    }} data;\n}} {c_name};")
        self.blocks.append(block)

    def params(self, export: Dict[str, Any]) -> List[Tuple[str, str]]:
        """(C declaration, comment) per C parameter."""
        out: List[Tuple[str, str]] = []
        if export["kind"] in ("method", "method_mut"):
            owner = self.c_form(export["owner"])
            out.append((f"{owner} handle", "the object (checked)"))
        for param in export["params"]:
            p = param["name"]
            t = param["type"]
            kind = t["kind"]
            rust = _rust_type(t, self.named)
            if kind == "str":
                out += [(f"const uint8_t *{p}", f"{rust}: UTF-8, borrowed"), (f"size_t {p}_len", "")]
            elif kind == "cstr":
                out.append((f"const char *{p}", f"{rust}: NUL-terminated, not NULL"))
            elif kind == "str_list":
                out += [(f"const FfiBuffer *{p}", f"{rust}: {{ptr, len}} UTF-8 items, borrowed"), (f"size_t {p}_len", "")]
            elif kind == "slice":
                elem = self.c_form(t["elem"])
                const = "" if t["mutable"] else "const "
                out += [(f"{const}{elem} *{p}", f"{rust}: borrowed for the call"), (f"size_t {p}_len", "")]
            elif kind in ("record", "data_enum"):
                out.append((f"const {self.c_form(t)} *{p}", f"{rust}: copied in, not NULL"))
            elif kind == "option":
                out.append((f"const {self.c_form(t['inner'])} *{p}", f"{rust}: NULL for None"))
            elif kind == "callback":
                args = "".join(f", {self.c_form(a)}" for a in t["params"])
                ret = self.c_form(t["ret"])
                out.append((f"FfiCallback {p}", f"{rust}: call is {ret} (*)(void *, uint8_t *failed{args})"))
            elif kind == "allocator":
                out.append((f"FfiAllocator {p}", f"{rust}: outputs belong to the caller"))
            else:
                out.append((f"{self.c_form(t)} {p}", rust))
        return out

    def export(self, export: Dict[str, Any]) -> str:
        ret = self.c_form(export["returns"])
        params = self.params(export)
        doc = self.comment(export["doc"])
        rust = _Binder._docstring(_pytypes.SimpleNamespace(types=_pytypes.SimpleNamespace(named=self.named)),  # type: ignore[arg-type]
                                  dict(export, doc="")).replace("Rust: ", "").strip("`")
        notes = [f"Rust: {rust}"]
        if export["returns"]["kind"] == "result":
            notes.append(f"Err({export['returns']['error']}): returns zero/NULL, error code 1 (ffi_export_error_take).")
        if export["free"]:
            notes.append(f"Owned result: release it exactly once with {export['free']}.")
        lines = [doc + "/* " + "\n * ".join(notes) + " */"]
        if not params:
            lines.append(f"{ret} {export['name']}(void);")
        else:
            decl = [f"    {c}{',' if i < len(params) - 1 else ''}{f' /* {note} */' if note else ''}"
                    for i, (c, note) in enumerate(params)]
            lines.append(f"{ret} {export['name']}(\n" + "\n".join(decl) + ");")
        if export["free"]:
            lines.append(f"void {export['free']}({ret} *value);")
        if export.get("batch"):
            inputs = "".join(f", const {self.c_form(p['type'])} *{p['name']}, size_t {p['name']}_step"
                             for p in export["params"])
            lines.append(f"/* {export['name']} over arrays: each input steps by 1 (len values) or 0 (one value);\n"
                         " * returns len, or 0 after the first failing element (its error says \"element i: ...\"). */")
            lines.append(f"size_t {export['batch']}(size_t len{inputs}, {ret} *out);")
        return "\n".join(lines)

    def write(self, library: str, cdef: bool) -> str:
        self.cdef = cdef
        exports = []
        for key, desc in self.named.items():
            self.define(key)
        for export in self.desc["exports"]:
            exports.append(self.export(export))
        for key, desc in self.named.items():
            if desc["kind"] == "object":
                exports.append(f"/* Drops the {desc['name']} behind handle; 0 and freed handles are no-ops. */\n"
                               f"void {desc['free']}({self.type_name(key)} handle);")
        guard = "FFI_EXPORT_" + re.sub(r"\W", "_", os.path.basename(library)).upper() + "_H"
        head = [
            f"/* C declarations of {os.path.basename(library)}, written by `python ffi_export.py header`",
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
        if not cdef:
            head += [f"#ifndef {guard}", f"#define {guard}", "",
                     "#include <stdbool.h>", "#include <stddef.h>", "#include <stdint.h>",
                     "#include <sys/types.h> /* ssize_t */", "",
                     "#ifdef __cplusplus", 'extern "C" {', "#endif", ""]
        body = [_C_RUNTIME % {"abi": self.desc.get("abi_version")},
                "/* ---- Types ---- */\n", "\n\n".join(self.blocks), "",
                "/* ---- Exports ---- */\n", "\n\n".join(exports), ""]
        tail = [] if cdef else ["#ifdef __cplusplus", "}", "#endif", "", f"#endif /* {guard} */", ""]
        return "\n".join(head + body + tail)


def generate_header(description: Dict[str, Any], library: str = "library", cdef: bool = False) -> str:
    """The C header of a library description; ``cdef=True`` leaves out the
    preprocessor lines (what ``cffi.FFI().cdef`` accepts)."""
    return _HeaderWriter(description).write(library, cdef)


def _write(text: str, output: Optional[str]) -> None:
    if output is None or output == "-":
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)


def _main(argv: List[str]) -> int:
    """``python ffi_export.py [describe|stubs|header] LIBRARY ...``."""
    import argparse  # noqa: PLC0415

    if argv and argv[0] not in ("describe", "stubs", "header", "-h", "--help"):
        argv = ["describe"] + argv  # the original form: `ffi_export.py LIBRARY`
    parser = argparse.ArgumentParser(prog="python ffi_export.py",
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
    args = parser.parse_args(argv)
    try:
        description = _describe(args.library)
    except LoadError as error:
        print(f"ffi_export.py: LoadError: {error}", file=sys.stderr)
        return 1
    if args.command == "describe":
        if args.json:
            print(json.dumps(description, indent=2))
            return 0
        writer = _pytypes.SimpleNamespace(types=_pytypes.SimpleNamespace(named=description.get("types", {})))
        for export in sorted(description["exports"], key=lambda e: e["name"]):
            line = _Binder._docstring(writer, dict(export, doc=""))  # type: ignore[arg-type]
            print(f"{export['name']}: {line.replace('Rust: ', '').strip('`')}")
        return 0
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
        return 0
    _write(generate_header(description, args.library, args.cdef), args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
