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
  type (``lib.errors.<Name>``); when ``e``'s type is an ``#[export]`` enum,
  each variant has its own subclass (``lib.errors.<Name>.<Variant>``) and
  the value's fields are attributes of the exception. A panic raises
  :class:`RustPanic`.

This file is stdlib-only (numpy is used when installed, never required) and
is all a program needs at run time. Its companion ``ffi_export_tools.py``
(next to it) writes what other tools need, from the same description; the
commands run as ``python ffi_export_tools.py ...`` or ``python ffi_export.py
...``::

    python ffi_export_tools.py describe LIB.so                 # the exports' Rust signatures
    python ffi_export_tools.py stubs LIB.so --module mylib.py  # a typed module and its .pyi
    python ffi_export_tools.py header LIB.so -o mylib.h        # a C header (--cdef: for cffi)

Inside: the primitive table; the C ABI mirrors; argument and result
conversions; the bases of the generated classes; one library's types; the
call machinery of callbacks and the allocator; the type kinds (one class per
kind of type description, everything about that kind, looked up by
:func:`_kind`); binding; :class:`Library`.
"""

from __future__ import annotations

import array
import atexit
import collections
import contextlib
import copy as _copy
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
from typing import (
    Any,
    Callable,
    ClassVar,
    Dict,
    Iterator,
    List,
    Optional,
    Protocol,
    Sequence,
    Set,
    Tuple,
    Type,
    TypeVar,
    cast,
)

__all__ = [
    "ABI_VERSION",
    "FfiError",
    "InvalidArgument",
    "Library",
    "LoadError",
    "RustIterator",
    "RustPanic",
    "load",
    "load_package",
]

__version__ = "0.1.0"

#: The ffi-export C ABI version this helper speaks.
ABI_VERSION = 4

#: One object of the self-description (an export, a type, a field...).
_Desc = Dict[str, Any]
#: Turns a C form, as ctypes hands it out, into a Python value.
_Reader = Callable[[Any], Any]
#: Turns a Python value into a C form: ``(value, keep, where)``, appending to
#: ``keep`` what must outlive the call; ``where`` names the value in errors.
_Writer = Callable[[Any, List[Any], str], Any]


class FfiError(Exception):
    """Base class of every error raised by a call into an ffi-export library.

    ``rust_type`` is the Rust error type's short name (``RustPanic`` for a
    panic, ``InvalidArgument`` for an argument refused by the Rust side);
    ``str(exc)`` is the error's ``Display`` (or the panic message).

    When the error type is an ``#[export]`` record or enum, ``value`` is
    the error value (an instance of ``lib.<Type>``, copied out of Rust),
    ``variant`` the name of its variant (enums), and each field of the value
    is also an attribute of the exception (``exc.code``, tuple fields
    ``exc._0``...), unless the exception already has an attribute of that
    name (``args``, ``value``, ``variant``...): that field is read as
    ``exc.value.<name>``. Otherwise ``value`` and ``variant`` are None.
    """

    rust_type: str = "FfiError"
    #: The name of the error value's variant (``#[export]`` enums), else None.
    variant: Optional[str] = None
    #: The error value (``#[export]`` types), else None.
    value: Any = None
    #: The fields of the value copied onto the exception (per class).
    _fields: ClassVar[Tuple[str, ...]] = ()
    #: An ``#[export]`` enum's class: its variants' classes, by index.
    _variants: ClassVar[Tuple[Type[FfiError], ...]] = ()


class RustPanic(FfiError):
    """The Rust function panicked; ``str(exc)`` is the panic message."""

    rust_type = "RustPanic"


class InvalidArgument(FfiError, ValueError):
    """The Rust side refused an argument before running the function."""

    rust_type = "InvalidArgument"


class LoadError(ImportError):
    """The file is not a library built with a compatible ffi-export."""


# ---------------------------------------------------------------------------
# Primitives: one row per Rust scalar, with everything the helper needs
# about it

#: The element kind of a PEP 3118 / struct format code.
_FORMAT_KIND = {**dict.fromkeys("bhilqn", "i"), **dict.fromkeys("BHILQNc", "u"), **dict.fromkeys("efd", "f"), "?": "b"}
_NATIVE_ORDER = "<" if sys.byteorder == "little" else ">"
_F32_MAX = 3.4028234663852886e38


class _Prim:
    """One Rust primitive: its ctypes type, buffer and ``array`` codes,
    numpy dtype, C type, allocator code, and how a generated wrapper checks
    an argument of it."""

    #: The Python type of its values (annotations, stubs).
    py_type: ClassVar[type] = int

    def __init__(self, name: str, ctype: Any, code: str, array_code: str, dtype: str, c: str,
                 alloc: int) -> None:
        self.name = name
        self.ctype = ctype
        self.size = ctypes.sizeof(ctype)
        #: Its struct / buffer format code, and the element kind that code
        #: denotes ("" for types no buffer format holds).
        self.code = code
        self.format_kind = _FORMAT_KIND.get(code, "")
        #: The ``array.array`` typecode of its size ("" if none).
        self.array_code = array_code
        self.dtype = dtype
        #: Its C type name (headers, the ABI structs' fields).
        self.c = c
        #: Its ``FFI_EXPORT_ALLOC_*`` code (0: not an allocator element).
        self.alloc = alloc

    def bind(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        """Adds the wrapper lines that check and convert argument ``p``."""
        raise NotImplementedError

    def writer(self) -> _Writer:
        """Converts a value to this primitive, checking it like an argument."""
        raise NotImplementedError

    def reader(self) -> _Reader:
        """Its Python value from its C form (the C form itself for most)."""
        return _identity

    @property
    def native(self) -> bool:
        """Whether its C form is a ctypes simple type (its own Python value):
        not the 128-bit integers."""
        return bool(self.code)


class _IntPrim(_Prim):
    """An integer: range-checked."""

    def __init__(self, name: str, ctype: Any, code: str, array_code: str, dtype: str, c: str,
                 alloc: int) -> None:
        super().__init__(name, ctype, code, array_code, dtype, c, alloc)
        bits = 8 * self.size
        self.low = -(2 ** (bits - 1)) if name[0] == "i" else 0
        self.high = 2 ** (bits - 1) - 1 if name[0] == "i" else 2**bits - 1

    def bind(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        """``int`` (or an int-like value), in range."""
        w.body.append(f"if {p}.__class__ is not int: {p} = _fx_as_int({p}, {where!r}, {rust!r})")
        w.body.append(f"if not {self.low} <= {p} <= {self.high}: raise _fx_range({p}, {where!r}, {rust!r})")

    def writer(self) -> _Writer:
        """``int`` (or an int-like value), in range."""
        name, low, high = self.name, self.low, self.high

        def write_int(v: Any, keep: List[Any], where: str) -> Any:
            v = _as_int(v, where, name)
            if not low <= v <= high:
                raise _out_of_range(v, where, name)
            return v

        return write_int


class _FloatPrim(_Prim):
    """A float; ``f32`` also refuses finite values out of its range."""

    py_type = float

    def __init__(self, name: str, ctype: Any, code: str, array_code: str, dtype: str, c: str,
                 alloc: int) -> None:
        super().__init__(name, ctype, code, array_code, dtype, c, alloc)
        self.max: Optional[float] = _F32_MAX if self.size == 4 else None

    def bind(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        """A real number; for ``f32``, finite values in its range."""
        w.body.append(f"if {p}.__class__ is not float: {p} = _fx_as_float({p}, {where!r}, {rust!r})")
        if self.max is not None:
            w.body.append(
                f"if not -_fx_f32_max <= {p} <= _fx_f32_max and {p} - {p} == 0: raise _fx_f32({p}, {where!r})"
            )

    def writer(self) -> _Writer:
        """A real number; for ``f32``, finite values in its range."""
        name, high = self.name, self.max

        def write_float(v: Any, keep: List[Any], where: str) -> Any:
            v = _as_float(v, where, name)
            if high is not None and not -high <= v <= high and v - v == 0:
                raise _f32_overflow(v, where)
            return v

        return write_float


class _BoolPrim(_Prim):
    """``bool``: a ``bool`` or numpy's ``bool_``, nothing else."""

    py_type = bool

    def bind(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        """``bool`` only."""
        w.body.append(f"if {p}.__class__ is not bool: {p} = _fx_as_bool({p}, {where!r})")

    def writer(self) -> _Writer:
        """``bool`` only."""
        return lambda v, keep, where: v if v.__class__ is bool else _as_bool(v, where)


#: Every Rust primitive, by name: (ctypes type, format code, array code,
#: numpy dtype, C type, allocator code).
_PRIMS: Dict[str, _Prim] = {prim.name: prim for prim in [
    _IntPrim("i8", ctypes.c_int8, "b", "b", "int8", "int8_t", 1),
    _IntPrim("i16", ctypes.c_int16, "h", "h", "int16", "int16_t", 2),
    _IntPrim("i32", ctypes.c_int32, "i", "i", "int32", "int32_t", 3),
    _IntPrim("i64", ctypes.c_int64, "q", "q", "int64", "int64_t", 4),
    _IntPrim("u8", ctypes.c_uint8, "B", "B", "uint8", "uint8_t", 5),
    _IntPrim("u16", ctypes.c_uint16, "H", "H", "uint16", "uint16_t", 6),
    _IntPrim("u32", ctypes.c_uint32, "I", "I", "uint32", "uint32_t", 7),
    _IntPrim("u64", ctypes.c_uint64, "Q", "Q", "uint64", "uint64_t", 8),
    _IntPrim("isize", ctypes.c_ssize_t, "n", "q", "intp", "ssize_t", 9),
    _IntPrim("usize", ctypes.c_size_t, "N", "Q", "uintp", "size_t", 10),
    _FloatPrim("f32", ctypes.c_float, "f", "f", "float32", "float", 11),
    _FloatPrim("f64", ctypes.c_double, "d", "d", "float64", "double", 12),
    _BoolPrim("bool", ctypes.c_bool, "?", "", "bool", "uint8_t", 0),
]}
#: The allocator's element kinds (``FFI_EXPORT_ALLOC_*``; 0 is text).
_ALLOC_PRIMS = {prim.alloc: prim for prim in _PRIMS.values() if prim.alloc}
#: The C types the ABI structs' fields are spelled in.
_C_TYPES: Dict[str, Any] = {"void *": ctypes.c_void_p}
for _prim in _PRIMS.values():
    _C_TYPES.setdefault(_prim.c, _prim.ctype)


def _prim_of(ctype: Any) -> _Prim:
    """The primitive a ctypes type stands for (the first of its aliases)."""
    for prim in _PRIMS.values():
        if prim.ctype is ctype:
            return prim
    raise LoadError(f"plain-data records hold numbers only, not {ctype}")


# ---------------------------------------------------------------------------
# The C ABI: mirrors of ffi-export-runtime/src/abi.rs, made from one table
# and checked at load against the library's own description of those
# structs (`abi_types`)

_CODE_ERROR, _CODE_PANIC, _CODE_INVALID, _CODE_CALLBACK = 1, 2, 3, 4

#: The runtime's ABI structs as this helper knows them (abi.rs `ABI_TYPES`):
#: their fields' names and C types, ``T`` being a generic struct's parameter.
_ABI_STRUCTS: Dict[str, List[Tuple[str, str]]] = {
    "FfiBuffer": [("ptr", "void *"), ("len", "size_t"), ("cap", "size_t")],
    "FfiOption": [("is_some", "uint8_t"), ("value", "T")],
    "FfiError": [("code", "int32_t"), ("variant", "int32_t"), ("message", "FfiBuffer"), ("type_name", "FfiBuffer"),
                 ("value", "void *")],
    "FfiCallback": [("call", "void *"), ("context", "void *")],
    "FfiAllocator": [("alloc", "void *"), ("context", "void *")],
    "FfiForeign": [("call", "void *"), ("retain", "void *"), ("release", "void *"), ("context", "void *")],
    "FfiI128": [("lo", "uint64_t"), ("hi", "uint64_t")],
    "FfiU128": [("lo", "uint64_t"), ("hi", "uint64_t")],
}
#: The module's mirrors, by C name (what fields of other structs refer to).
_ABI_MIRRORS: Dict[str, Any] = {}
_S = TypeVar("_S", bound=type)


def _abi_fields(name: str, generic: Any = None) -> List[Tuple[str, Any]]:
    """The ctypes fields of the ABI struct ``name`` (``generic``: ``T``)."""
    return [(field, generic if c_type == "T" else _C_TYPES.get(c_type) or _ABI_MIRRORS[c_type])
            for field, c_type in _ABI_STRUCTS[name]]


def _abi_mirror(cls: _S) -> _S:
    """Lays out a mirror class (``_FfiBuffer``...) from :data:`_ABI_STRUCTS`."""
    name = cls.__name__.lstrip("_")
    setattr(cls, "_fields_", _abi_fields(name))  # noqa: B010 - set after the class is made
    _ABI_MIRRORS[name] = cls
    return cls


@_abi_mirror
class _FfiBuffer(ctypes.Structure):
    """``FfiBuffer``: an owned array (a ``String``'s bytes, a ``Vec``'s elements)."""


@_abi_mirror
class _FfiError(ctypes.Structure):
    """``FfiError``: a failed call's code, message and Rust error type name,
    and an ``#[export]`` error's variant index and value (its C form)."""


@_abi_mirror
class _FfiCallback(ctypes.Structure):
    """``FfiCallback``: a C function and the context it is called with."""


@_abi_mirror
class _FfiAllocator(ctypes.Structure):
    """``FfiAllocator``: the caller's allocation function and its context."""


@_abi_mirror
class _FfiForeign(ctypes.Structure):
    """``FfiForeign``: a Python object Rust keeps (a trait implementation,
    a stored closure): the dispatcher, retain and release, and its key."""


@_abi_mirror
class _FfiI128(ctypes.Structure):
    """``FfiI128``: an ``i128`` in two halves, low first."""


@_abi_mirror
class _FfiU128(ctypes.Structure):
    """``FfiU128``: a ``u128`` in two halves, low first."""


class _WidePrim(_IntPrim):
    """``i128`` / ``u128``: range-checked like the other integers, crossing
    as two ``uint64_t`` halves (C has no standard 128-bit integer)."""

    def __init__(self, name: str, ctype: Any) -> None:
        _Prim.__init__(self, name, ctype, "", "", "", ctype.__name__.lstrip("_"), 0)
        self.low = -(2**127) if name[0] == "i" else 0
        self.high = 2**127 - 1 if name[0] == "i" else 2**128 - 1

    def bind(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        """An ``int`` in range, as its two halves."""
        w.ns[f"_fx_wide_{self.name}"] = self.writer()
        w.body.append(f"{p} = _fx_wide_{self.name}({p}, None, {where!r})")

    def writer(self) -> _Writer:
        """An ``int`` in range, as its two halves."""
        check, ctype = super().writer(), self.ctype

        def write_wide(v: Any, keep: List[Any], where: str) -> Any:
            bits = check(v, keep, where) & (2**128 - 1)
            return ctype(bits & (2**64 - 1), bits >> 64)

        return write_wide

    def reader(self) -> _Reader:
        """The ``int`` of two halves."""
        signed = self.name[0] == "i"

        def read_wide(halves: Any) -> int:
            value = int(halves.lo) | int(halves.hi) << 64
            return value - 2**128 if signed and value >= 2**127 else value

        return read_wide


for _wide in (_WidePrim("i128", _FfiI128), _WidePrim("u128", _FfiU128)):
    _PRIMS[_wide.name] = _wide


def _option_struct(inner: Any) -> Any:
    """The mirror of ``FfiOption<T>``, ``T``'s C form being ``inner``."""
    return type(f"FfiOption_{inner.__name__}", (ctypes.Structure,), {"_fields_": _abi_fields("FfiOption", inner)})


def _abi_types() -> List[_Desc]:
    """The ABI structs as this helper lays them out, shaped like the
    description's ``abi_types`` (``T`` as ``u64``, as Rust describes it)."""
    described = []
    for name, fields in _ABI_STRUCTS.items():
        generic = any(c_type == "T" for _, c_type in fields)
        layout = type(name, (ctypes.Structure,), {"_fields_": _abi_fields(name, ctypes.c_uint64)})
        described.append({
            "name": name, "doc": "", "generic": "T" if generic else "",
            "size": ctypes.sizeof(layout), "align": ctypes.alignment(layout),
            "fields": [{"name": field, "c_type": c_type, "offset": getattr(layout, field).offset}
                       for field, c_type in fields],
        })
    return described


def _check_abi_types(described: List[_Desc]) -> None:
    """Checks this helper's ABI structs against the library's description of
    them (fields' names, C types and offsets, size, alignment): a
    disagreement is a :class:`LoadError`, never a misread value."""

    def spelled(desc: _Desc) -> str:
        fields = ", ".join(f"{f['c_type']} {f['name']} @{f['offset']}" for f in desc["fields"])
        return f"{fields}; size {desc['size']}, align {desc['align']}"

    theirs = {desc["name"]: desc for desc in described}
    for mine in _abi_types():
        desc = theirs.get(mine["name"])
        if desc is None:
            raise LoadError(f"the library does not describe the ABI struct {mine['name']} this helper uses")
        if any(desc.get(key) != mine[key] for key in ("generic", "size", "align", "fields")):
            raise LoadError(f"the library's {mine['name']} ({spelled(desc)}) differs from this helper's "
                            f"({spelled(mine)}): regenerate the helper with the ffi-export version the "
                            "library was built with")


# ---------------------------------------------------------------------------
# Argument conversion (called from the generated wrappers)


def _type_name(value: object) -> str:
    return type(value).__qualname__


def _as_int(value: object, param: str, rust: str) -> int:
    """Converts an int-like value (``int``, ``bool``, numpy integers)."""
    if isinstance(value, float):
        raise TypeError(f"{param} ({rust}) must be an int, not float")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{param} ({rust}) must be an int, not {_type_name(value)}") from None


def _out_of_range(value: int, param: str, rust: str) -> OverflowError:
    prim = _PRIMS[rust]
    assert isinstance(prim, _IntPrim)
    return OverflowError(f"{param} ({rust}) must be in {prim.low}..={prim.high}, got {value}")


def _as_float(value: object, param: str, rust: str) -> float:
    """Converts a real number (``float``, ``int``, numpy floats)."""
    if isinstance(value, (str, bytes, bytearray, complex)) or not hasattr(value, "__float__"):
        raise TypeError(f"{param} ({rust}) must be a float, not {_type_name(value)}")
    return float(value)


def _f32_overflow(value: float, param: str) -> OverflowError:
    return OverflowError(f"{param} (f32) is finite but out of f32 range: {value!r}")


def _as_bool(value: object, param: str) -> bool:
    """Accepts ``bool`` and numpy's ``bool_`` only: ``1`` or ``"yes"`` are errors."""
    if type(value).__module__ == "numpy" and type(value).__name__ in ("bool_", "bool"):
        return bool(value)
    raise TypeError(f"{param} (bool) must be a bool, not {_type_name(value)}")


def _as_str(value: object, param: str, rust: str = "&str") -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{param} ({rust}) must be a str, not {_type_name(value)}")
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
    _fields_ = (
        ("buf", ctypes.c_void_p), ("obj", ctypes.c_void_p), ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t), ("readonly", ctypes.c_int), ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p), ("shape", ctypes.c_void_p), ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p), ("internal", ctypes.c_void_p),
    )


#: CPython's C API through ctypes; PyPy has none (``ctypes.pythonapi`` is
#: missing there), and the helper does without it (see the callers).
_PYTHONAPI: Any = getattr(ctypes, "pythonapi", None)
if _PYTHONAPI is not None:
    _get_buffer = _PYTHONAPI.PyObject_GetBuffer
    _get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
    _get_buffer.restype = ctypes.c_int
    _release_buffer = _PYTHONAPI.PyBuffer_Release
    _release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]
    _release_buffer.restype = None


def _readonly_buffer(view: memoryview) -> Tuple[int, object]:
    """The address of a read-only buffer and what keeps it valid.

    CPython: the buffer itself, valid while ``view`` lives (the memoryview
    holds its own export of the underlying object). PyPy, which has no
    C API to ask for a read-only buffer's address: a copy (Rust only reads
    a read-only buffer, so it cannot tell; a documented difference)."""
    if _PYTHONAPI is None:
        copy = (ctypes.c_char * view.nbytes).from_buffer_copy(view)
        return ctypes.addressof(copy), copy
    info = _PyBuffer()
    _get_buffer(view, ctypes.byref(info), 0)
    try:
        return int(info.buf or 0), view
    finally:
        _release_buffer(ctypes.byref(info))


def _format_element(fmt: str, itemsize: int) -> Optional[str]:
    """The Rust scalar a buffer format denotes, if any."""
    if fmt[:1] in ("@", "=", _NATIVE_ORDER):
        fmt = fmt[1:]
    kind = _FORMAT_KIND.get(fmt) if len(fmt) == 1 else None
    for prim in _PRIMS.values():
        if (prim.format_kind, prim.size) == (kind, itemsize):
            return prim.name
    return None


def _buffer(obj: object, where: str, elem: str, writable: bool) -> Tuple[Optional[int], int, object]:
    """Checks a buffer argument (``where``, e.g. ``argument 'x'``, names it
    in errors) and returns ``(address, length, keepalive)``.

    The buffer is borrowed, never copied: ``keepalive`` must outlive the call
    (it holds the buffer export, which also stops a ``bytearray`` from being
    resized meanwhile).
    """
    rust = f"&{'mut ' if writable else ''}[{elem}]"
    try:
        view = memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        if not writable and _is_sequence(obj):
            # A list (any iterable) of numbers: copied into an array.
            return _number_array(obj, where, _PRIMS[elem], rust)
        if writable and _is_sequence(obj):
            raise TypeError(
                f"{where} ({rust}) must be a writable buffer, not {_type_name(obj)}: Rust writes "
                f"into it in place, e.g. values = array.array('{_PRIMS[elem].array_code or 'B'}', "
                f"[...]) or numpy.array([...]), then read the values back"
            ) from None
        raise TypeError(
            f"{where} ({rust}) must be a buffer (bytes, bytearray, memoryview, "
            f"array.array, numpy array) or a sequence of {elem}, not {_type_name(obj)}"
        ) from None
    prim = _PRIMS[elem]
    got = view.format
    if got[:1] in ("@", "=", _NATIVE_ORDER):
        got = got[1:]
    if len(got) != 1 or _FORMAT_KIND.get(got) != prim.format_kind or _itemsize(view, prim.size) != prim.size:
        found = _format_element(view.format, view.itemsize)
        found_text = f"{found} ('{view.format}')" if found else f"format '{view.format}' ({view.itemsize}-byte items)"
        hint = f"; e.g. array.array('{prim.array_code}', ...)" if prim.array_code else ""
        raise TypeError(f"{where} ({rust}) needs a buffer of {elem}, got {found_text}{hint}")
    return _buffer_address(view, where, rust, writable, obj)


def _itemsize(view: memoryview, expected: int) -> int:
    """A buffer's item size; ``expected`` for an empty buffer reporting 0
    (CPython 3.9's memoryview of an empty ctypes array does)."""
    return expected if view.itemsize == 0 and view.nbytes == 0 else view.itemsize


def _is_sequence(value: object) -> bool:
    """Whether ``value`` is an iterable of items (not text or bytes)."""
    return hasattr(value, "__iter__") and not isinstance(value, (str, bytes, bytearray, memoryview))


def _number_array(value: Any, where: str, prim: _Prim, rust: str) -> Tuple[Optional[int], int, object]:
    """An iterable of numbers copied into an array of ``prim``:
    ``(address, length, keepalive)``. ``array.array`` converts in C (range
    and type checked); on a problem each item is checked to name it."""
    items = value if isinstance(value, (list, tuple)) else list(value)
    if not items:
        return None, 0, None
    if prim.array_code and (prim.name[0] != "f" or prim.size == 8):
        try:
            converted: Any = array.array(prim.array_code, items)
        except (TypeError, OverflowError, ValueError):
            converted = None
        if converted is not None:
            address, _ = converted.buffer_info()
            return address, len(items), converted
    write = prim.writer()
    checked = [write(x, [], f"{where}[{i}]") for i, x in enumerate(items)]
    array_ = (prim.ctype * len(checked))(*checked)
    return ctypes.addressof(array_), len(checked), array_


def _items_of(value: Any, where: str, rust: str) -> Sequence[Any]:
    """The items of a sequence argument (any iterable but text and bytes)."""
    if not _is_sequence(value):
        raise TypeError(f"{where} ({rust}) must be a sequence, not {_type_name(value)}")
    return value if isinstance(value, (list, tuple)) else list(value)


def _write_array(items: Sequence[Any], write: _Writer, ctype: Any, keep: List[Any], where: str) -> Any:
    """A ctypes array of ``ctype`` holding ``items`` converted by ``write``
    (each named ``where[i]`` in errors), kept alive by ``keep``."""
    converted = [write(x, keep, f"{where}[{i}]") for i, x in enumerate(items)]
    array_ = (ctype * len(converted))(*converted)
    keep.append(array_)
    return array_


def _copied_items(kind: _Kind, types: _Types) -> Callable[[Any, str], Tuple[Optional[int], int, object]]:
    """For a ``&[T]`` of a type copied in: a sequence converted into an
    array of ``T``'s C form, ``(address, length, keepalive)``."""
    write, ctype = kind.writer(types), kind.c_type(types)
    rust = f"&[{kind.rust(types.named)}]"

    def items(value: Any, param: str) -> Tuple[Optional[int], int, object]:
        where = f"argument {param!r}"
        listed = _items_of(value, where, rust)
        if not listed:
            return None, 0, None
        keep: List[Any] = []
        array_ = _write_array(listed, write, ctype, keep, where)
        return ctypes.addressof(array_), len(listed), keep

    return items


def _buffer_address(view: memoryview, where: str, rust: str, writable: bool,
                    obj: object) -> Tuple[Optional[int], int, object]:
    """Checks contiguity and writability; returns ``(address, length, keepalive)``."""
    if not view.c_contiguous:
        raise BufferError(f"{where} ({rust}) must be a C-contiguous buffer")
    if writable and view.readonly:
        raise BufferError(f"{where} ({rust}) must be writable, got a read-only {_type_name(obj)}")
    length = view.nbytes // view.itemsize if view.itemsize else 0
    if length == 0:
        return None, 0, view
    if not view.readonly:
        anchor = (ctypes.c_char * view.nbytes).from_buffer(view)
        return ctypes.addressof(anchor), length, anchor
    address, keepalive = _readonly_buffer(view)
    return address, length, keepalive


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


def _plain_buffer(obj: object, where: str, cls: Any, writable: bool) -> Tuple[Optional[int], int, object]:
    """Checks a buffer of ``#[repr(C)]`` records: a ctypes array of the class,
    or any buffer whose struct format has the same field types (numpy
    structured arrays)."""
    rust = f"&{'mut ' if writable else ''}[{cls.__qualname__}]"
    try:
        view = memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        if not writable and _is_sequence(obj):
            # A list of records: copied into an array of them.
            items = obj if isinstance(obj, (list, tuple)) else list(obj)  # type: ignore[call-overload]
            for i, item in enumerate(items):
                if not isinstance(item, cls):
                    raise TypeError(f"{where}[{i}] must be a {cls.__qualname__}, "
                                    f"not {_type_name(item)}") from None
            if not items:
                return None, 0, None
            array_ = (cls * len(items))(*items)
            return ctypes.addressof(array_), len(items), array_
        raise TypeError(f"{where} ({rust}) must be a buffer of {cls.__qualname__}, "
                        f"e.g. ({cls.__qualname__} * n)(), or (not for `&mut`) a sequence of them, "
                        f"not {_type_name(obj)}") from None
    expected = [(_prim_of(ctype).code, name) for name, ctype in cls._fields_]
    got = _struct_items(view.format)
    # Same field types in the same order, and the same names where the
    # buffer names its fields (numpy and ctypes do).
    same = (
        got is not None
        and len(got) == len(expected)
        and all(_code_layout(c) == _code_layout(e) and (not n or n == en)
                for (c, n), (e, en) in zip(got, expected))
    )
    if not same or _itemsize(view, ctypes.sizeof(cls)) != ctypes.sizeof(cls):
        fields = ", ".join(f"{name}: {code}" for code, name in expected)
        raise TypeError(f"{where} ({rust}) needs a buffer of {cls.__qualname__} "
                        f"({fields}), got format '{view.format}'")
    return _buffer_address(view, where, rust, writable, obj)


def _code_layout(code: str) -> Tuple[Optional[str], int]:
    """A struct item code's kind and native size."""
    return _FORMAT_KIND.get(code), struct.calcsize("@" + code)


def _bytes_address(data: bytes, keep: List[Any]) -> Optional[int]:
    """The address of a ``bytes`` object's data, valid while ``keep`` lives.

    What ``keep`` gets is the ``c_char_p``: on CPython it points into the
    ``bytes`` object (and holds it), on PyPy at a copy it owns (PyPy's
    ``bytes`` may move), freed with it. The pointer is read in place
    (``from_address`` of the ``c_char_p``'s own storage) rather than with
    ``ctypes.cast``, a foreign call that would wrap a ``RecursionError``
    raised at a deep nesting level in ``ctypes.ArgumentError``, or
    ``from_buffer``, whose export PyPy never releases (it leaked ~80 bytes
    per string there)."""
    pointer = ctypes.c_char_p(data)
    keep.append(pointer)
    return ctypes.c_void_p.from_address(ctypes.addressof(pointer)).value


def _str_list(value: object, param: str) -> Tuple[Optional[int], int, object]:
    """A ``list[str]`` as an array of string views for ``&[&str]``."""
    if isinstance(value, (str, bytes, bytearray)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{param} (&[&str]) must be a list of str, not {_type_name(value)}")
    encoded = [_as_str(item, f"{param}[{i}]") for i, item in enumerate(value)]
    if not encoded:
        return None, 0, None
    pointers: List[Any] = []
    views = (_FfiBuffer * len(encoded))(
        *[_FfiBuffer(_bytes_address(data, pointers), len(data), 0) for data in encoded]
    )
    return ctypes.addressof(views), len(encoded), (views, pointers)


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
    if issubclass(ctype, ctypes._SimpleCData):
        return ctype  # type: ignore[no-any-return]
    return _identity


# ---------------------------------------------------------------------------
# Result conversion


def _identity(value: Any) -> Any:
    return value


def _read_string(buffer: Any) -> str:
    return ctypes.string_at(buffer.ptr, buffer.len).decode("utf-8") if buffer.len else ""


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


#: PyPy: a buffer taken from a ctypes array (``numpy.asarray``,
#: ``memoryview``) does not keep the array alive there, so a returned ``Vec``
#: is copied into memory PyPy owns and the Rust one freed at once (CPython:
#: zero-copy, freed with the last view).
_COPY_VECS = sys.implementation.name == "pypy"


def _take_vec(buffer: _FfiBuffer, free: Callable[..., None], ctype: Any) -> Any:
    """Wraps a returned ``Vec<T>`` without copying; freed with the array."""
    if _COPY_VECS:
        try:
            copy = (ctype * buffer.len)()
            ctypes.memmove(copy, buffer.ptr, ctypes.sizeof(copy))
        finally:
            free(buffer)
        return copy
    try:
        array = (ctype * buffer.len).from_address(buffer.ptr)
        array._ffi_export_owner = _Owner(buffer, free)
    except BaseException:
        free(buffer)
        raise
    return array


def _read_then_free(read: _Reader, free: Callable[..., None]) -> _Reader:
    """A converter that copies a returned value into Python objects and then
    frees the Rust side, whatever happens."""

    def take(value: Any) -> Any:
        try:
            return read(value)
        finally:
            free(value)

    return take


# ---------------------------------------------------------------------------
# The bases of the classes made for records, enums with data and objects


def _defaulted_fields(fields: List[_Desc], zero: bool) -> Set[str]:
    """The fields of a record (or variant) that have a default: those given
    one, every field of plain data (``zero``), and the ``Option`` fields
    that only fields with defaults follow."""
    defaulted = {f["name"] for f in fields if "default" in f or zero}
    for field in reversed(fields):
        if field["name"] in defaulted:
            continue
        if field["type"].get("kind") != "option":
            break
        defaulted.add(field["name"])
    return defaulted


def _record_init(cls: Any, fields: List[_Desc], types: _Types, zero: bool) -> None:
    """Gives a record (or variant) class an ``__init__`` taking its fields
    in order, by position or name, with their defaults: the field's
    ``#[ffi(default = ..)]``, ``None`` for an ``Option`` field when every
    later field has a default too (Python's own rule), and (``zero``: a
    ``ctypes.Structure``) zero for the others. The class gets typed
    ``__annotations__``."""
    kinds = [(f["name"], _kind(f["type"])) for f in fields]
    defaults: Dict[str, Any] = {}
    defaulted = _defaulted_fields(fields, zero)
    for field, (name, kind) in zip(fields, kinds):
        if "default" in field:
            defaults[name] = kind.default(field["default"], types)
        elif zero:
            defaults[name] = kind.c_type(types)() if isinstance(kind, _RecordKind) else kind.c_type(types)().value
        elif name in defaulted:
            defaults[name] = None  # a trailing Option field
    taken: Set[str] = {"self"}
    params, names = [], []
    for name, _ in kinds:
        p = _python_name(name, taken)
        taken.add(p)
        names.append((p, name))
        params.append(f"{p}=_fx_d_{p}" if name in defaults else p)
    ns: Dict[str, Any] = {f"_fx_d_{p}": defaults[name] for p, name in names if name in defaults}
    if zero:
        ns["_fx_init"] = ctypes.Structure.__init__
        body = [f"    _fx_init(self, {', '.join(p for p, _ in names)})"]
    else:
        ns["_fx_set"] = object.__setattr__
        ns["_fx_copy"] = _copy.deepcopy
        # A mutable default is copied for each instance, never shared.
        body = [f"    if {p} is _fx_d_{p}: {p} = _fx_copy({p})" for p, name in names
                if isinstance(defaults.get(name), (list, dict, set))]
        body += [f"    _fx_set(self, {name!r}, {p})" for p, name in names] or ["    pass"]
    source = "\n".join([f"def __init__(self, {', '.join(params)}):" if params else "def __init__(self):", *body])
    exec(source, ns)  # noqa: S102 - generated from the library's own description
    init = ns["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    annotations = {name: kind.python_type(types) for name, kind in kinds}
    init.__annotations__ = {**{p: annotations[name] for p, name in names}, "return": None}
    cls.__init__ = init
    cls.__annotations__ = annotations


class _Record:
    """Base of the classes made for ``#[export]`` structs: fields by name,
    ``==`` and ``repr``."""

    __slots__: Tuple[str, ...] = ()
    _fields: Tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(self._fields):
            raise TypeError(f"{type(self).__qualname__} takes {len(self._fields)} fields, got {len(args)}")
        values = dict(zip(self._fields, args))
        for key, value in kwargs.items():
            if key not in self._fields:
                raise TypeError(f"{type(self).__qualname__} has no field {key!r}")
            if key in values:
                raise TypeError(f"{type(self).__qualname__} got field {key!r} twice")
            values[key] = value
        missing = [f for f in self._fields if f not in values]
        if missing:
            raise TypeError(f"{type(self).__qualname__} is missing field(s): {', '.join(missing)}")
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

    def __reduce__(self) -> Any:
        return _reduce_value(self, [getattr(self, f) for f in self._fields])


# The bases' own attributes are not fields: ``typing.get_type_hints`` of a
# record class (which walks its bases) gives exactly its fields' types.
_Record.__annotations__ = {}


class _PlainRecord(ctypes.Structure):
    """Base of the classes made for ``#[repr(C)]`` plain-data structs: a
    ``ctypes.Structure`` (zero-copy, arrays with ``Cls * n``) with ``==``
    and ``repr``."""

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f, *_ in self._fields_)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f, *_ in self._fields_)
        return f"{type(self).__qualname__}({inner})"

    def __reduce__(self) -> Any:
        return _reduce_value(self, [getattr(self, f) for f, *_ in self._fields_])


class _Object:
    """Base of the classes made for ``#[export] impl`` types. The Rust value
    lives in the library; this object holds its handle and frees it exactly
    once: on ``close()``, at the end of a ``with`` block, or when garbage
    collected. Calls after closing raise ``ValueError``. Two objects are
    equal (``==``, ``hash``) when they name the same Rust value: a shared
    value (``Arc<T>``) returned twice comes back under the same handle.
    Passed by value to a Rust function (a parameter ``T``, ``Vec<T>``, a
    record field...), the value is moved into Rust and this object closes,
    unless the call refused its arguments (``InvalidArgument``)."""

    # `_fresh`: set by the fast path's native `__new__` on the instance it
    # made, cleared by the native `__init__` that accepts it.
    __slots__ = ("__weakref__", "_fresh", "_handle", "_id", "_moved")
    _handle: int
    _id: int
    _ffi_free: Any = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        obj = object.__new__(cls)
        obj._handle = 0  # closed until a constructor fills it in
        obj._id = 0
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(f"{type(self).__name__} has no `new` constructor; use its other constructors")

    @classmethod
    def _from_handle(cls, handle: int) -> Any:
        obj = object.__new__(cls)
        obj._handle = handle
        obj._id = handle  # kept after closing: the identity of the value it named
        return obj

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self is other or (self._id != 0 and self._id == other._id)

    def __hash__(self) -> int:
        return hash((type(self), self._id)) if self._id else id(self)

    def _ffi_moved(self, into: str) -> None:
        """Closes this object without freeing its value, which a Rust call
        took (``into`` says which, for the error of a later use)."""
        self._handle = 0
        self._moved = into

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

    def __exit__(self, *exc: object) -> None:
        self._ffi_close()

    def __del__(self) -> None:
        try:
            self._ffi_close()
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing to report to
            pass

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"handle {self._handle}"
        return f"<{type(self).__name__} ({state})>"

    def __reduce__(self) -> Any:
        # Without this, pickle and copy would duplicate the handle: two
        # Python objects freeing one Rust value.
        raise TypeError(f"cannot pickle or copy a {type(self).__qualname__}: its value lives in Rust, "
                        "behind a handle")


#: Python's rich comparisons, by the sign of Rust's ``cmp``/``partial_cmp``
#: (-1, 0, 1) each accepts.
_COMPARISONS = {"__lt__": (-1,), "__le__": (-1, 0), "__gt__": (1,), "__ge__": (0, 1)}

#: Rust's binary operators, by protocol: Python's dunder.
_OPERATORS = {"add": "__add__", "sub": "__sub__", "mul": "__mul__", "div": "__truediv__"}


def _install_protocols(cls: Any, shims: Dict[str, Callable[..., Any]]) -> None:
    """Gives the class of a record, enum or object the dunders of the Rust
    traits it opted in to (``#[export(Display, Eq, Hash, ..)]``), each
    calling its shim: ``shims`` maps a protocol (``eq``, ``hash``,
    ``cmp``, ``display``, ``debug``, ``clone``, ``default``, ``add``,
    ``sub``, ``mul``, ``div``, ``neg``, ``index``, ``pylen``, ``pybool``)
    to the bound export. An operand of another type gives
    ``NotImplemented`` (Python then raises its usual ``TypeError``); a
    panic raises ``RustPanic``; a closed object raises ``ValueError``."""
    # Each shim is reachable by its qualified name too (``Bag._ffi_eq``).
    members: Dict[str, Any] = {f"_ffi_{protocol}": staticmethod(shim) for protocol, shim in shims.items()}
    for protocol, shim in shims.items():
        shim.__name__ = f"_ffi_{protocol}"
        shim.__qualname__ = f"{cls.__qualname__}._ffi_{protocol}"
    eq = shims.get("eq")
    if eq is not None:
        # (`!=` is Python's default: the negation of `__eq__`.)
        members.update(__eq__=eq if getattr(eq, "_ffi_dunder", False) else _operator(cls, eq), __hash__=None)
    # An object's one-operand shims are methods (the fast path's): the
    # dunder is the shim itself.
    if "hash" in shims:
        members["__hash__"] = shims["hash"]
    cmp = shims.get("cmp")
    if cmp is not None:
        for name, signs in _COMPARISONS.items():
            members[name] = _comparison(cls, cmp, signs)
    for protocol, name in _OPERATORS.items():
        if protocol in shims:
            members[name] = _operator(cls, shims[protocol])
    _install_unary(members, shims)
    default = shims.get("default")
    if default is not None:
        members["default"] = staticmethod(default)
        members.update(_default_init(cls, default))
    for name, member in members.items():
        if callable(member) and not isinstance(member, staticmethod):
            member.__name__ = name
            member.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, member)


def _comparison(cls: Any, cmp: Callable[..., Optional[int]], signs: Tuple[int, ...]) -> Callable[..., Any]:
    """One rich comparison through Rust's ``cmp``: true when the ordering's
    sign is one of ``signs``; unordered (``partial_cmp`` gave ``None``) is
    false, as for a float NaN."""
    def compare(self: Any, other: object) -> Any:
        if not isinstance(other, cls):
            return NotImplemented
        return cmp(self, other) in signs
    return compare


def _operator(cls: Any, shim: Callable[..., Any]) -> Callable[..., Any]:
    """A binary operator through its Rust impl (``Self`` operands only)."""
    def operate(self: Any, other: object) -> Any:
        return shim(self, other) if isinstance(other, cls) else NotImplemented
    return operate


def _install_unary(members: Dict[str, Any], shims: Dict[str, Callable[..., Any]]) -> None:
    """The protocols of one operand: ``str``, ``repr``, ``-``, ``len``,
    ``bool``, ``copy``, ``obj[i]``."""
    display, debug, clone = shims.get("display"), shims.get("debug"), shims.get("clone")
    if display is not None:
        members["__str__"] = display
    if debug is not None:
        def __repr__(self: Any) -> str:
            # What tracebacks, debuggers and logging call: it never raises.
            # A closed object has no Rust value to show: it says so, as
            # without `Debug`; a panicking `Debug` says it panicked.
            if isinstance(self, _Object) and self.closed:
                return _Object.__repr__(self)
            try:
                return str(debug(self))
            except RustPanic as panic:
                where = f" (handle {self._handle})" if isinstance(self, _Object) else ""
                return f"<{type(self).__name__}{where}: Debug panicked: {panic}>"
        members["__repr__"] = __repr__
    if clone is not None:
        members["__copy__"] = lambda self: clone(self)
        members["__deepcopy__"] = lambda self, memo: clone(self)
    for protocol, name in (("neg", "__neg__"), ("pylen", "__len__"), ("pybool", "__bool__")):
        shim = shims.get(protocol)
        if shim is not None:
            members[name] = shim
    index = shims.get("index")
    if index is not None:
        members["__getitem__"] = _getitem(index, shims.get("pylen"))


def _getitem(index: Callable[..., Any], length: Optional[Callable[..., int]]) -> Callable[..., Any]:
    """``obj[i]`` through ``Index<I>``. With a ``len`` method too, an
    integer index is Python's: negative ones count from the end and one
    out of range raises ``IndexError`` (so ``for x in obj`` ends) instead
    of reaching Rust's bounds check, which panics."""
    if length is None:
        return lambda self, key: index(self, key)

    def __getitem__(self: Any, key: Any) -> Any:
        if isinstance(key, int) and not isinstance(key, bool):
            size = length(self)
            position = key + size if key < 0 else key
            if not 0 <= position < size:
                raise IndexError(f"{type(self).__name__} index {key} out of range (len {size})")
            key = position
        return index(self, key)
    return __getitem__


def _default_init(cls: Any, default: Callable[..., Any]) -> Dict[str, Any]:
    """``Default``: ``Cls()`` without arguments makes the Rust default (a
    record takes its fields from it; an object without a ``new``
    constructor takes its value)."""
    if issubclass(cls, _Object):
        if "__init__" in cls.__dict__:
            return {}  # `new` is the constructor; `Cls.default()` makes the default

        def init_object(self: Any) -> None:
            if getattr(self, "_handle", 0):
                raise TypeError(f"this {cls.__name__} is already initialised; make a new one")
            made = default()
            self._handle, self._id, made._handle = made._handle, made._id, 0
        return {"__init__": init_object}
    if not issubclass(cls, _Record) or "__init__" not in cls.__dict__:
        return {}  # an enum: `Cls.default()`
    fields_init = cls.__dict__["__init__"]

    def init_record(self: Any, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            fields_init(self, *args, **kwargs)
            return
        made = default()
        for field in cls._fields:
            object.__setattr__(self, field, getattr(made, field))
    init_record.__signature__ = inspect.signature(fields_init)  # type: ignore[attr-defined]
    init_record.__doc__ = "The fields, or none for the Rust `Default`."
    return {"__init__": init_record}


def _closed_error(obj: Any, where: str = "") -> ValueError:
    moved = getattr(obj, "_moved", "")
    why = f": it was moved into a Rust call ({moved})" if moved else ""
    return ValueError(f"{where + ': ' if where else ''}this {type(obj).__name__} is closed{why}")


class _MovedArg:
    """An object a call moves into Rust (kept in the call's ``_fx_keep``):
    closed once the call took it."""

    __slots__ = ("obj", "where")

    def __init__(self, obj: _Object, where: str) -> None:
        self.obj = obj
        self.where = where


def _close_moved(keep: List[Any], function: str, live: Optional[Callable[[int], bool]] = None) -> None:
    """Closes the objects moved into the call of ``function`` (the
    ``_MovedArg`` entries of its ``keep`` list): Rust owns their values now.
    ``live`` (after a failed call): only those whose handle the library no
    longer holds (a call failing before its function ran took nothing)."""
    for entry in keep:
        if type(entry) is _MovedArg:
            handle = getattr(entry.obj, "_handle", 0)
            if handle and (live is None or not live(handle)):
                entry.obj._ffi_moved(f"{function}, {entry.where}")


def _moves_objects(desc: Any, named: _NamedDescs, seen: Set[str]) -> bool:
    """Whether a parameter of type ``desc`` (passed by value) moves objects
    into Rust: an object by value, or a value holding one (``seen``: the
    named types looked into)."""
    if isinstance(desc, list):
        return any(_moves_objects(item, named, seen) for item in desc)
    if not isinstance(desc, dict):
        return False
    kind = desc.get("kind")
    if kind == "object":
        return True
    if kind == "shared":
        return False
    key = desc.get("key")
    if isinstance(key, str) and key in named and key not in seen:
        seen.add(key)
        if _moves_objects(named[key], named, seen):
            return True
    return any(_moves_objects(value, named, seen) for name, value in desc.items() if name != "key")


# ---------------------------------------------------------------------------
# Records as values: pickling and copying


#: The libraries of this process, by their token (see ``_mark_values``).
_libraries: weakref.WeakValueDictionary[str, Library] = weakref.WeakValueDictionary()
_library_numbers = itertools.count(1)


def _lives_in_rust(desc: Any, named: _NamedDescs, seen: Set[str]) -> Optional[str]:
    """The kind of a value of type ``desc`` that lives in Rust (an object,
    a trait object or closure the caller implements), if a value of it can
    hold one; ``seen``: the named types looked into."""
    if isinstance(desc, list):
        return next((found for item in desc if (found := _lives_in_rust(item, named, seen))), None)
    if not isinstance(desc, dict):
        return None
    kind = desc.get("kind")
    if kind in ("object", "shared", "trait", "closure", "callback", "fn_ref", "iterator"):
        return str(kind)
    key = desc.get("key")
    if isinstance(key, str) and key in named and key not in seen:
        seen.add(key)
        found = _lives_in_rust(named[key], named, seen)
        if found:
            return found
    return next((found for name, value in desc.items() if name != "key"
                 if (found := _lives_in_rust(value, named, seen))), None)


def _mark_values(library: Library) -> None:
    """Gives the record and enum-with-data classes of ``library`` what their
    ``__reduce__`` needs: where to find their class again (the library's
    path and this process's token for it, the type's key and variant), and
    the first field, if any, holding a value that lives in Rust (such a
    record cannot be pickled: it says which field)."""
    token = f"{os.getpid()}:{next(_library_numbers)}"
    _libraries[token] = library
    named = library._types.named
    for key, cls in library._types.classes.items():
        desc = named[key]
        if desc.get("kind") == "enum":
            cls._ffi_origin = (library.path, token, key, None)
            cls.__reduce_ex__ = _reduce_enum
            continue
        if desc.get("kind") == "record":
            parts = [(cls, None, desc["fields"])]
        elif desc.get("kind") == "data_enum":
            parts = [(getattr(cls, v["name"]), v["name"], v["fields"]) for v in desc["variants"]]
        else:
            continue
        for part, variant, fields in parts:
            part._ffi_origin = (library.path, token, key, variant)
            part._ffi_in_rust = next(((f["name"], found) for f in fields
                                      if (found := _lives_in_rust(f["type"], named, {key}))), None)


def _reduce_value(value: Any, fields: List[Any]) -> Any:
    """``__reduce__`` of a record or variant: rebuilt from its fields (each
    pickled or deep-copied in turn), its class found again through the
    library it came from (in another process: loaded from the same path)."""
    cls = type(value)
    in_rust = getattr(cls, "_ffi_in_rust", None)
    if in_rust is not None:
        field, kind = in_rust
        raise TypeError(f"cannot pickle or copy {cls.__qualname__}: its field {field!r} holds a value that "
                        f"lives in Rust (an {kind}); copy the other fields into a record without it")
    origin = getattr(cls, "_ffi_origin", None)
    if origin is None:
        raise TypeError(f"cannot pickle {cls.__qualname__}: not a class of a loaded library")
    return _rebuild_value, (origin, tuple(fields))


def _reduce_enum(member: Any, protocol: int) -> Any:
    """``__reduce_ex__`` of a field-less enum's member: its value, its class
    found again as a record's is."""
    return _rebuild_enum, (type(member)._ffi_origin, int(member))


def _rebuild_enum(origin: Tuple[str, str, str, Optional[str]], value: int) -> Any:
    """The enum member ``__reduce_ex__`` described."""
    return _class_of(origin)(value)


def _class_of(origin: Tuple[str, str, str, Optional[str]]) -> Any:
    """The class of a pickled value (``origin``: library path, token, type
    key, variant): this process's library of that token if it has one, else
    the library at that path, loaded."""
    path, token, key, variant = origin
    library = _libraries.get(token)
    if library is None or library.path != path:
        library = load(path)
    cls = library._types.classes[key]
    return cls if variant is None else getattr(cls, variant)


def _rebuild_value(origin: Tuple[str, str, str, Optional[str]], fields: Tuple[Any, ...]) -> Any:
    """The record or variant ``__reduce__`` described (``origin``: library
    path, token, type key, variant), with ``fields``."""
    return _class_of(origin)(*fields)


# ---------------------------------------------------------------------------
# The exception classes of ``#[export]`` error types


def _error_attribute(name: str) -> bool:
    """Whether a field of an error value is also an attribute of its
    exception: not when the exception already has an attribute of that name
    (``args``, ``value``, ``variant``, ``with_traceback``...)."""
    return not hasattr(FfiError, name)


def _error_classes(name: str, doc: str, module: str, fields: List[str],
                   variants: Optional[List[Tuple[str, List[str]]]]) -> Type[FfiError]:
    """The exception class of the ``#[export]`` error type ``name``: a
    record's (its ``fields``), or an enum's with one subclass per variant
    (``variants``: each one's name and fields, in declaration order; the
    variant index the library reports picks the subclass)."""
    base: Type[FfiError] = type(name, (FfiError,), {
        "rust_type": name, "__module__": module, "__qualname__": f"errors.{name}",
        "__doc__": doc or f"The Rust error type `{name}`.",
        "_fields": tuple(f for f in fields if _error_attribute(f)),
    })
    subclasses = []
    for variant, variant_fields in variants or []:
        sub = type(variant, (base,), {
            "variant": variant, "__module__": module, "__doc__": f"The Rust error `{name}::{variant}`.",
            "_fields": tuple(f for f in variant_fields if _error_attribute(f)),
        })
        sub.__qualname__ = f"errors.{name}.{variant}"
        if not hasattr(base, variant):
            setattr(base, variant, sub)
        subclasses.append(sub)
    base._variants = tuple(subclasses)
    return base


def _error_exception(base: Type[FfiError], message: str, variant: int, value: Any) -> FfiError:
    """The exception of an error ``value`` (already read into Python) of the
    class ``base``: its variant's class, its fields as attributes."""
    cls = base._variants[variant] if 0 <= variant < len(base._variants) else base
    exc = cls(message)
    exc.value = value
    for field in cls._fields:
        setattr(exc, field, getattr(value, field))
    return exc


# Names: where a library's functions and types are reached from Python, and
# what their C forms are called

#: What a name of a namespace stands for: ``("function", export)``,
#: ``("type", key)``, ``("module", path)`` (a Rust module path), or
#: ``("reserved", name)`` (an attribute of the library itself).
_Entry = Tuple[str, Any]
#: The library's own attributes (and its typed module's): no export or type
#: takes these names at the top.
_RESERVED = ("errors", "exports", "library", "path", "types")


def _module_parts(item: _Desc) -> Tuple[str, ...]:
    """An item's ``module_path!()`` as Python names (``r#`` dropped)."""
    return tuple(part.removeprefix("r#") for part in str(item.get("module") or "").split("::") if part)


class _Named(Dict[str, _Desc]):
    """The description's named types (records, enums, objects) by key, and
    where the library's items live.

    Rust names are per module, C and Python attribute names are not, so:

    - each function and type is reached at its Rust module path relative to
      the library's crate (``lib.geometry.Spot``, ``lib.geometry.area`` for
      ``mycrate::geometry``); the crate's own items are at the top;
    - each function is also at the top by its C name (``lib.sprites_area``),
      which is unique in the library; each type by its Rust name when no
      other type has it (``lib.Person``). A shared name is at the top only
      for the crate root's own type, and never stands for one of several:
      ``lib.Spot`` then raises, naming the paths;
    - a name already taken in its namespace (by the library's own
      attributes, ``errors``, ``exports``, ``library``, ``path``, ``types``;
      by a function, for a type or module of the same name, which Rust
      allows) gets a trailing ``_``: a module ``mycrate::errors`` is
      ``lib.errors_``;
    - a type's C form is named after it when its name is unique, else after
      its module path too (``geometry_Spot_repr``).
    """

    def __init__(self, types: Dict[str, _Desc], exports: Sequence[_Desc] = ()) -> None:
        super().__init__(types)
        functions = [e for e in exports if not e.get("owner")]
        crates = collections.Counter(_module_parts(item)[:1] for item in [*types.values(), *functions])
        #: The crate most items come from: paths are relative to it (items of
        #: other crates linked in keep their crate's name as a first part).
        self.crate = min(crates, key=lambda c: (-crates[c], c)) if crates else ()
        counts = collections.Counter(str(desc["name"]) for desc in types.values())
        #: Type names more than one type has.
        self.shared: Set[str] = {name for name, count in counts.items() if count > 1}
        #: Every namespace by Rust module path (``()`` is the library), and
        #: what its names stand for.
        self.tree: Dict[Tuple[str, ...], Dict[str, _Entry]] = {(): {name: ("reserved", name) for name in _RESERVED}}
        #: Each namespace's Python path from the library (``geometry.solid``).
        self.dotted: Dict[Tuple[str, ...], str] = {(): ""}
        #: Each type's name in its module's namespace.
        self.names: Dict[str, str] = {}
        for export in functions:
            self._put((), str(export["name"]), ("function", export))
        for export in functions:
            path = self.path(export)
            if path:
                self._put(path, _rust_name(export), ("function", export))
        for key, desc in types.items():
            self.names[key] = self._put(self.path(desc), str(desc["name"]), ("type", key))
        paths = {path[:i] for path in list(self.tree) for i in range(1, len(path) + 1)}
        for path in sorted(paths, key=lambda p: (len(p), p)):
            name = self._put(path[:-1], path[-1], ("module", path))
            self.dotted[path] = f"{self.dotted[path[:-1]]}.{name}".lstrip(".")
        top = self.tree[()]
        for key, desc in types.items():
            if desc["name"] not in self.shared:
                top.setdefault(str(desc["name"]), ("type", key))
        #: The C names of the types' C forms (a record's is ``<name>_repr``):
        #: the Rust name, or for a shared one the module path and the name.
        self.c_names = {key: "_".join([*self.path(desc), str(desc["name"])]) if desc["name"] in self.shared
                        else str(desc["name"]) for key, desc in types.items()}
        taken = collections.Counter(self.c_names.values())
        for key, desc in types.items():
            if taken[self.c_names[key]] > 1 and desc["name"] in self.shared:
                # `geometry_Spot` is also a type's own name: the crate too.
                self.c_names[key] = "_".join([*_module_parts(desc), str(desc["name"])])
        given: Set[str] = set()
        for key in sorted(self.c_names, key=lambda k: (self[k]["name"] in self.shared, k)):
            name = base = self.c_names[key]
            for n in itertools.count(2):
                if name not in given:
                    break
                name = f"{base}_{n}"  # `_` joins are ambiguous (`a_b::c`, `a::b_c`): never mind
            self.c_names[key] = name
            given.add(name)

    def path(self, item: _Desc) -> Tuple[str, ...]:
        """The Rust module of an item, relative to the crate."""
        parts = _module_parts(item)
        return parts[len(self.crate):] if parts[:len(self.crate)] == self.crate else parts

    def _put(self, path: Tuple[str, ...], name: str, entry: _Entry) -> str:
        """Gives ``entry`` the name ``name`` in the namespace ``path`` (with
        trailing ``_`` while that is taken); returns the name given."""
        table = self.tree.setdefault(path, {})
        while table.get(name, entry) != entry:
            name += "_"
        table[name] = entry
        return name

    def python_path(self, key: str) -> str:
        """Where the class of the type ``key`` is reached from the library:
        ``Person`` (at the top) or ``geometry.Spot`` (its module's)."""
        name = str(self[key]["name"])
        if self.tree[()].get(name) == ("type", key):
            return name
        return f"{self.dotted[self.path(self[key])]}.{self.names[key]}".lstrip(".")

    def ref(self, key: str) -> str:
        """How a ``.pyi`` names the class of the type ``key``, wherever the
        name is written: its Python path, through a private alias of the
        top-level name it starts with when a class body could have a member
        of that name (``_ns_geometry.Spot``; ``_ty_Badge`` for a type at the
        top whose name a module's type shares). The stub writer defines the
        aliases (``stub_aliases``)."""
        path = self.python_path(key)
        first, dot, rest = path.partition(".")
        if dot:
            return f"_ns_{first}.{rest}"
        return f"_ty_{path}" if self[key]["name"] in self.shared else path

    def stub_aliases(self) -> List[str]:
        """The private aliases :meth:`ref` uses, as ``.pyi`` lines."""
        top = self.tree[()]
        return [f"_ns_{name}: TypeAlias = {name}" if what == "module" else f"_ty_{name}: TypeAlias = {name}"
                for name, (what, value) in top.items()
                if what == "module" or (what == "type" and self[value]["name"] in self.shared)]

    def sharing(self, name: str) -> List[str]:
        """The Python paths of the types sharing the name ``name``."""
        if name not in self.shared:
            return []
        return sorted(f"lib.{self.python_path(key)}" for key, desc in self.items() if desc["name"] == name)


#: The description's named types, by key, and where everything is reached.
_NamedDescs = _Named


class _Namespace:
    """A Rust module of a loaded library (``lib.geometry``): its exported
    functions, types and submodules, by Rust name."""

    def __init__(self, library: Library, path: Tuple[str, ...]) -> None:
        self._library = library
        self._path = path

    def __getattr__(self, name: str) -> Any:
        # Only called for missing attributes.
        if name.startswith("_"):
            raise AttributeError(name)
        public = sorted(n for n in vars(self) if not n.startswith("_"))
        raise AttributeError(f"lib.{self._library._types.named.dotted[self._path]} ({self._rust()} in "
                             f"{self._library.path}) has no {name!r}; it has: {', '.join(public) or 'nothing'}")

    def _rust(self) -> str:
        return "::".join([*self._library._types.named.crate, *self._path])

    def __repr__(self) -> str:
        return f"<ffi_export module {self._rust()} of {self._library.path!r}>"


class _TypesNamespace(_Namespace):
    """``lib.types``: every class of the library whose Rust name is its own."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        sharing = self._library._types.named.sharing(name)
        if sharing:
            raise AttributeError(f"{name!r} names {len(sharing)} types of {self._library.path}: "
                                 f"{', '.join(sharing)}; reach each by its module path")
        public = sorted(n for n in vars(self) if not n.startswith("_"))
        raise AttributeError(f"{self._library.path} has no type {name!r}; it has: {', '.join(public) or 'none'}")

    def __repr__(self) -> str:
        return f"<ffi_export types of {self._library.path!r}>"


class _Types:
    """One library's named types: their kinds and Python classes, the
    ctypes mirrors of their C forms and their converters, made once."""

    def __init__(self, named: Dict[str, _Desc], module: str, exports: Sequence[_Desc] = ()) -> None:
        #: The named types' kinds, classes and C forms (records, enums with data), by key.
        self.kinds: Dict[str, _NamedKind] = {key: _named_kind(key, desc) for key, desc in named.items()}
        self.named = named if isinstance(named, _Named) else _Named(named, exports)
        self.module = module
        self.classes: Dict[str, Any] = {}
        self.mirrors: Dict[str, Any] = {}
        #: Readers and writers of records and variants, made on first use.
        self.converters: Dict[str, Any] = {}
        self.options: Dict[int, Any] = {}
        self.tuples: Dict[Any, Any] = {}
        #: The library's exception classes, by Rust error name, and those of
        #: ``#[export]`` error types by key (filled by :class:`Library`):
        #: what a Python trait implementation raises is matched against them.
        self.error_classes: Dict[str, Type[FfiError]] = {}
        self.typed_errors: Dict[str, Type[FfiError]] = {}
        #: Every class made (variants included): their ``__module__`` is the library's.
        self.made: List[Any] = []
        for key, kind in self.kinds.items():
            cls = kind.make_class(self)
            cls.__qualname__ = self.qualname(key)
            self.made.append(cls)
            self.classes[key] = cls
        self.rename(module)
        # C forms need every class first (fields refer to other records).
        for kind in self.kinds.values():
            kind.c_type(self)
        # Constructors last: field annotations and defaults name the classes.
        for kind in self.kinds.values():
            kind.finish_class(self)

    def qualname(self, key: str) -> str:
        """The ``__qualname__`` of the class of ``key``: where the library
        (or its typed module) has it, ``Person`` or ``geometry.Spot``."""
        return self.named.python_path(key)

    def rename(self, module: str) -> None:
        """Sets the ``__module__`` of every class made."""
        self.module = module
        for cls in self.made:
            cls.__module__ = module

    def repr_type(self, desc: _Desc) -> Any:
        """The ctypes type of a type description's C form."""
        return _kind(desc).c_type(self)

    def option_type(self, inner: Any) -> Any:
        """The ``FfiOption`` mirror for the C form ``inner``, made once."""
        if id(inner) not in self.options:
            self.options[id(inner)] = _option_struct(inner)
        return self.options[id(inner)]

    def tuple_type(self, elems: List[Any]) -> Any:
        """The ``FfiTupleN`` mirror of the C forms ``elems``, made once."""
        key = ("tuple", *map(id, elems))
        if key not in self.tuples:
            fields = [(f"_{i}", elem) for i, elem in enumerate(elems)]
            name = "FfiTuple_" + "_".join(elem.__name__ for elem in elems)
            self.tuples[key] = type(name, (ctypes.Structure,), {"_fields_": fields})
        return self.tuples[key]


# ---------------------------------------------------------------------------
# Callbacks and the caller's allocator

_ALLOC_PROTO = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_size_t)
_EMPTY_OUTPUT = ctypes.create_string_buffer(16)  # what a zero-length output points at


#: Numbers the calls of exports that take callbacks or an allocator; the
#: number travels to the trampolines as the callbacks' C context.
_call_numbers = itertools.count(1)
#: The first exception a callback or allocation raised, by call number,
#: until the call's wrapper takes it.
_call_failures: Dict[int, BaseException] = {}


def _call_failed(call: Optional[int], exc: BaseException) -> None:
    """Keeps ``exc`` for call number ``call`` unless it already failed: the
    first exception is the one the caller sees. Keyed by the call's own
    number, so a finalizer or signal handler making other calls meanwhile
    (on this thread or another) cannot take or replace it."""
    _call_failures.setdefault(call or 0, exc)


def _array_output(rust: str, length: int) -> Any:
    """An ``array.array`` of ``length`` zeros of a Rust element type."""
    return array.array(_PRIMS[rust].array_code, [0]) * length


def _numpy_output(rust: str, length: int, fill: bool = True) -> Any:
    """A numpy array of ``length`` zeros of a Rust element type; with
    ``fill`` false its contents are left as they are (for an output Rust
    writes in full before anyone reads it)."""
    import numpy  # noqa: PLC0415 - optional dependency, only when asked for

    return (numpy.zeros if fill else numpy.empty)(length, dtype=_PRIMS[rust].dtype)


class _Outputs:
    """One call's allocator: allocates what Rust asks for, keeps it alive,
    and hands the outputs back after the call."""

    def __init__(self, spec: Any, where: str, call: int) -> None:
        self.call = call
        if spec is None or spec == "array":
            self.make: Callable[[str, int], Any] = _array_output
        elif spec == "numpy":
            # Imported now, before the call: not by the allocator while Rust
            # waits (an import error is then raised before anything runs).
            import numpy  # noqa: F401, PLC0415 - optional dependency, only when asked for

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

    def _alloc(self, _context: Any, code: int, length: int) -> Optional[int]:
        try:
            if code == 0:  # text
                obj: Any = bytearray(length)
                rust = "u8"
            else:
                rust = _ALLOC_PRIMS[code].name
                obj = self.make(rust, length)
            address, got, keep = _buffer(obj, "the allocator's output", rust, True)
            if got != length:
                raise ValueError(f"the allocator returned {got} elements of {rust}, {length} were asked for")
            if length:
                assert address is not None
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
                if self.private and code != 0:
                    copy = (ctypes.c_uint64 * ((nbytes + 7) // 8))()
                    self.copies.append((address, copy, nbytes))
                    keep = (keep, copy)
                    address = ctypes.addressof(copy)
            self.outputs.append((code == 0, obj, keep))
            return address if length else ctypes.addressof(_EMPTY_OUTPUT)
        except BaseException as exc:  # noqa: BLE001 - re-raised after the Rust call
            _call_failed(self.call, exc)
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
# Type kinds: one class per kind of type description, holding everything
# about it; `_kind` (the registry) is the one place a description's `kind`
# is read. Adding a kind: one subclass here and its Rust `TypeDesc`.


class _StubContext(Protocol):
    """What kinds need from the stub writer (``ffi_export_tools``)."""

    named: _NamedDescs

    def doc(self, text: str, indent: str) -> List[str]:
        """A docstring's lines."""
        ...

    def members(self, key: str, name: str) -> List[str]:
        """The stub lines of the object type ``key``'s associated functions."""
        ...

    def protocols(self, key: str, indent: str) -> List[str]:
        """The stub lines of the dunders type ``key``'s protocols give."""
        ...

    def has_protocol(self, key: str, protocol: str) -> bool:
        """Whether type ``key`` opted in to ``protocol`` (``default``, ..)."""
        ...


class _HeaderContext(Protocol):
    """What kinds need from the C header writer (``ffi_export_tools``)."""

    named: _NamedDescs
    cdef: bool

    def define(self, kind: _NamedKind) -> None:
        """Defines a named type's C form (once, before its first use)."""
        ...

    def option(self, inner: str, rust: str) -> str:
        """The name of ``FfiOption`` over the C type ``inner``, defined once."""
        ...

    def tuple(self, elems: List[str], rust: str) -> str:
        """The name of ``FfiTupleN`` over the C types ``elems``, defined once."""
        ...

    def comment(self, text: str, indent: str = "") -> str:
        """A doc comment as a C comment."""
        ...

    def add(self, block: str) -> None:
        """Adds a definition, after those made so far."""
        ...

    def define_block(self, name: str, block: str) -> None:
        """Adds the definition ``block`` named ``name`` once."""
        ...


#: A parameter without a default value.
_NO_DEFAULT: Any = object()

#: Every kind, by its name in the description (filled in by `_Kind`'s subclasses).
_KINDS: Dict[str, Type[_Kind]] = {}


class _Kind:
    """Everything about one kind of type description: its Rust spelling,
    its C form (ctypes, and C for headers), how a generated wrapper takes it
    as an argument and returns it, how it is read and written inside other
    values (record fields, ``Vec`` elements), its Python annotation and stub
    text. A subclass per kind registers itself under ``kind``; the base
    refuses what a kind cannot do with a :class:`LoadError`."""

    #: Its name in the description (``{"kind": ...}``).
    kind: ClassVar[str] = ""
    #: ``()``: no value.
    unit: ClassVar[bool] = False
    #: A number: its C form is its Python value (a returned ``Vec`` of it
    #: is a ctypes array over the Rust allocation).
    number: bool = False
    #: Runs Python code during the call (callbacks, the allocator).
    runs_python: ClassVar[bool] = False
    #: The call's outputs (an allocator): a keyword-only parameter
    #: defaulting to None, its outputs returned with the result.
    outputs: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            _KINDS[cls.kind] = cls

    def __init__(self, desc: _Desc) -> None:
        """Reads the kind's own keys of ``desc`` (none here)."""

    def rust(self, named: _NamedDescs) -> str:
        """Its Rust spelling, for messages and docs."""
        raise NotImplementedError

    def python_type(self, types: _Types) -> Any:
        """The annotation of a value of this type."""
        raise NotImplementedError

    def stub(self, named: _NamedDescs, param: bool) -> str:
        """Its type in a ``.pyi`` (``param``: what a call accepts, else what it returns)."""
        raise NotImplementedError

    # -- As a value inside others, and its C form

    def c_type(self, types: _Types) -> Any:
        """The ctypes type of its C form."""
        raise LoadError(f"no C form for {self.rust(types.named)}")

    def owns(self, named: _NamedDescs, seen: Set[str]) -> bool:
        """Whether its C form holds memory to free (``seen``: records met)."""
        return False

    def reader(self, types: _Types) -> _Reader:
        """Turns its C form into a Python value (a copy)."""
        raise LoadError(f"cannot read {self.rust(types.named)}")

    def read_source(self, source: str) -> Optional[str]:
        """An expression reading its C form ``source`` inline in a generated
        record reader, or None to call :meth:`reader`."""
        return None

    def writer(self, types: _Types) -> _Writer:
        """Turns a Python value into its C form."""
        raise LoadError(f"cannot pass {self.rust(types.named)}")

    # -- As a parameter and a result of an export

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        """Adds what the wrapper needs to pass argument ``p``: checks and
        conversions, ``argtypes``, C arguments."""
        raise LoadError(f"{w.name}: parameter {p!r} has a type this helper cannot pass: {rust}")

    def default(self, value: Any, types: _Types) -> Any:
        """The Python value of a default the description gives as JSON
        (``#[ffi(default = ..)]``): numbers, text and ``None`` as they are;
        kinds that take sequences, maps or enum variants convert those."""
        if isinstance(value, (list, dict)):
            raise LoadError(f"a default of {value!r} for {self.rust(types.named)}")
        return value

    def slice_call(self, w: _Wrapper, p: str, mutable: bool) -> str:
        """As the element of a ``&[T]`` parameter ``p``: the call that checks
        the argument and returns ``(address, length, keepalive)``. By
        default the elements are copied in (Rust lifts them into a ``Vec``):
        any iterable of values, converted by :meth:`writer`."""
        if mutable:
            raise LoadError(f"{w.name}: parameter {p!r}: a `&mut [{self.rust(w.types.named)}]` cannot be lent")
        w.ns[f"_fx_items_{p}"] = _copied_items(self, w.types)
        return f"_fx_items_{p}({p}, {p!r})"

    def bind_return(self, w: _Wrapper, free: Optional[str]) -> Tuple[Any, str]:
        """``(restype, expression over _fx_r)`` of a result of this type;
        ``free`` names the export's paired free."""
        restype = self.c_type(w.types)
        free_fn = w.free(free, restype)
        read = self.reader(w.types)
        w.ns["_fx_take"] = read if free_fn is None else _read_then_free(read, free_fn)
        return restype, "_fx_take(_fx_r)"

    def ok(self) -> _Kind:
        """The type of a successful result (``T`` of ``Result<T, E>``)."""
        return self

    def error(self) -> Optional[str]:
        """The Rust error type's name of a ``Result``, else None."""
        return None

    def error_kind(self) -> Optional[_NamedKind]:
        """The ``#[export]`` error type of a ``Result`` (whose errors carry
        their value), else None."""
        return None

    # -- Stubs and C headers (ffi_export_tools)

    def stub_return(self, named: _NamedDescs, free: bool) -> str:
        """Its type in a ``.pyi`` as an export's result (``free``: owned)."""
        return self.stub(named, False)

    def results(self) -> List[_Kind]:
        """The results a call of an export returning this type may give,
        itself included: their error types get exception classes."""
        return [self]

    def c_companions(self, h: _HeaderContext) -> List[str]:
        """Declarations of the exports that come with one returning this
        type (an iterator's ``next`` and ``free``)."""
        return []

    def c_form(self, h: _HeaderContext) -> str:
        """The C type of its C form, defining it first if needed."""
        raise LoadError(f"no C form for {self.rust(h.named)}")

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        """The C parameters of parameter ``p``: (declaration, comment)."""
        return [(f"{self.c_form(h)} {p}", rust)]


def _kind_class(desc: _Desc) -> Type[_Kind]:
    """The class of a type description's kind."""
    kind = desc["kind"] if isinstance(desc, dict) and "kind" in desc else None
    cls = _KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise LoadError(f"a type of unknown kind {kind!r}: the library is newer than this helper? "
                        "(regenerate the helper with the ffi-export version it was built with)")
    return cls


def _kind(desc: _Desc) -> _Kind:
    """The kind of a type description (a parameter's, a field's, a result's...)."""
    return _kind_class(desc)(desc)


def _named_kind(key: str, desc: _Desc) -> _NamedKind:
    """The kind of the named type ``key``, ``desc`` being its entry in the
    description's ``types``."""
    cls = _kind_class(desc)
    if not issubclass(cls, _NamedKind):
        raise LoadError(f"{key}: {cls.kind!r} is not the kind of a named type")
    return cls({"key": key})


#: The Rust receivers of the method roles of an export (``ExportDesc::kind``).
_RECEIVERS = {"method": "&self", "method_mut": "&mut self", "method_shared": "self: Arc<Self>",
              "protocol_method": "&self"}


def _receiver(export: _Desc) -> Optional[str]:
    """``&self`` / ``&mut self`` for a method (its object's handle is the
    first C argument), else None."""
    return _RECEIVERS.get(export["kind"])


def _open_handle(obj: Any, where: str) -> int:
    """The handle of an object argument the fast path reads as a number;
    a closed one raises the usual ``ValueError`` (naming ``where``, as the
    ctypes path does)."""
    handle: int = obj._handle
    if not handle:
        raise _closed_error(obj, where)
    return handle


def _is_protocol(export: _Desc) -> bool:
    """Whether an export is a protocol shim (``#[export(Eq, ..)]``): a dunder
    of its owner's class, not a function or method of its own."""
    return str(export["kind"]).startswith("protocol")


def _constructs(export: _Desc) -> bool:
    """Whether the export is a constructor of its object type."""
    return bool(export["kind"] == "constructor")


class _UnitKind(_Kind):
    """``()``: no value."""

    kind = "unit"
    unit = True

    def rust(self, named: _NamedDescs) -> str:
        return "()"

    def python_type(self, types: _Types) -> Any:
        return None

    def stub(self, named: _NamedDescs, param: bool) -> str:
        return "None"

    def bind_return(self, w: _Wrapper, free: Optional[str]) -> Tuple[Any, str]:
        return None, "None"

    def c_form(self, h: _HeaderContext) -> str:
        return "void"


class _ScalarKind(_Kind):
    """A primitive by value (``{"name": "i32"}``): see :data:`_PRIMS`."""

    kind = "scalar"

    def __init__(self, desc: _Desc) -> None:
        prim = _PRIMS.get(desc["name"])
        if prim is None:
            raise LoadError(f"unknown scalar type {desc['name']!r}")
        self.prim = prim
        # The 128-bit integers cross as two halves, not as a ctypes number.
        self.number = prim.native

    def rust(self, named: _NamedDescs) -> str:
        return self.prim.name

    def python_type(self, types: _Types) -> Any:
        return self.prim.py_type

    def stub(self, named: _NamedDescs, param: bool) -> str:
        return self.prim.py_type.__name__

    def c_type(self, types: _Types) -> Any:
        return self.prim.ctype

    def reader(self, types: _Types) -> _Reader:
        return self.prim.reader()

    def read_source(self, source: str) -> Optional[str]:
        return source if self.prim.native else None

    def writer(self, types: _Types) -> _Writer:
        return self.prim.writer()

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        self.prim.bind(w, p, where, rust)
        w.argtypes.append(self.prim.ctype)
        w.cargs.append(p)

    def slice_call(self, w: _Wrapper, p: str, mutable: bool) -> str:
        if not self.prim.native:
            return super().slice_call(w, p, mutable)
        return f"_fx_buffer({p}, {'argument ' + repr(p)!r}, {self.prim.name!r}, {mutable!r})"

    def bind_return(self, w: _Wrapper, free: Optional[str]) -> Tuple[Any, str]:
        if not self.prim.native:
            w.ns["_fx_take"] = self.prim.reader()
            return self.prim.ctype, "_fx_take(_fx_r)"
        return self.prim.ctype, "_fx_r"

    def c_form(self, h: _HeaderContext) -> str:
        return self.prim.c


class _StrKind(_Kind):
    """``&str``: ``(const uint8_t *ptr, size_t len)``, from a ``str``."""

    kind = "str"

    def rust(self, named: _NamedDescs) -> str:
        return "&str"

    def python_type(self, types: _Types) -> Any:
        return str

    def stub(self, named: _NamedDescs, param: bool) -> str:
        return "str"

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        w.body.append(f"_fx_b_{p} = _fx_as_str({p}, {where!r})")
        w.argtypes += [ctypes.c_char_p, ctypes.c_size_t]
        w.cargs += [f"_fx_b_{p}", f"len(_fx_b_{p})"]

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        return [(f"const uint8_t *{p}", f"{rust}: UTF-8, borrowed"), (f"size_t {p}_len", "")]


class _CStrKind(_Kind):
    """``&CStr``: ``const char *``, from bytes-like objects or ``str``."""

    kind = "cstr"

    def rust(self, named: _NamedDescs) -> str:
        return "&CStr"

    def python_type(self, types: _Types) -> Any:
        return bytes

    def stub(self, named: _NamedDescs, param: bool) -> str:
        return "Buffer | str"

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        w.body.append(f"_fx_b_{p} = _fx_as_cstr({p}, {where!r})")
        w.argtypes.append(ctypes.c_char_p)
        w.cargs.append(f"_fx_b_{p}")

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        return [(f"const char *{p}", f"{rust}: NUL-terminated, not NULL")]


class _StrListKind(_Kind):
    """``&[&str]``: ``(const FfiBuffer *items, size_t len)``, from an iterable of ``str``."""

    kind = "str_list"

    def rust(self, named: _NamedDescs) -> str:
        return "&[&str]"

    def python_type(self, types: _Types) -> Any:
        return List[str]

    def stub(self, named: _NamedDescs, param: bool) -> str:
        return "Iterable[str]"

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        w.body.append(f"_fx_p_{p}, _fx_n_{p}, _fx_k_{p} = _fx_str_list({p}, {where!r})")
        w.argtypes += [ctypes.c_void_p, ctypes.c_size_t]
        w.cargs += [f"_fx_p_{p}", f"_fx_n_{p}"]

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        return [(f"const FfiBuffer *{p}", f"{rust}: {{ptr, len}} UTF-8 items, borrowed"), (f"size_t {p}_len", "")]

    def default(self, value: Any, types: _Types) -> Any:
        return list(value) if isinstance(value, list) else super().default(value, types)


class _SliceKind(_Kind):
    """``&[T]`` / ``&mut [T]`` (``{"elem": T, "mutable": bool}``):
    ``(T *ptr, size_t len)``, a buffer borrowed without copying."""

    kind = "slice"

    def __init__(self, desc: _Desc) -> None:
        self.elem = _kind(desc["elem"])
        self.mutable = bool(desc["mutable"])

    def rust(self, named: _NamedDescs) -> str:
        return f"&{'mut ' if self.mutable else ''}[{self.elem.rust(named)}]"

    def lent_in_place(self, named: _NamedDescs) -> bool:
        """Whether the elements can be borrowed from a buffer (numbers,
        plain-data records); others are copied in from a sequence."""
        return self.elem.number or (isinstance(self.elem, _RecordKind) and bool(named[self.elem.key]["pod"]))

    def python_type(self, types: _Types) -> Any:
        if self.lent_in_place(types.named):
            return "Buffer"
        return Sequence[self.elem.python_type(types)]  # type: ignore[misc]

    def stub(self, named: _NamedDescs, param: bool) -> str:
        if self.mutable:
            return "WritableBuffer"
        items = f"Sequence[{self.elem.stub(named, param)}]"
        return f"Union[Buffer, {items}]" if self.lent_in_place(named) else items

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        call = self.elem.slice_call(w, p, self.mutable)
        w.body.append(f"_fx_p_{p}, _fx_n_{p}, _fx_k_{p} = {call}")
        size = ctypes.sizeof(self.elem.c_type(w.types))
        w.lent.append((p, size, self.mutable))
        if w.per_call:
            # Python code runs during this call (callbacks, the allocator,
            # and signal handlers or finalizers inside them): Rust gets a
            # private copy, so nothing can write memory it holds as
            # `&[T]`/`&mut [T]`; `&mut` is copied back after the call.
            w.ns["_fx_private"] = _private_copy
            w.body.append(f"_fx_o_{p} = _fx_p_{p}")
            w.body.append(f"_fx_p_{p}, _fx_k_{p} = _fx_private(_fx_p_{p}, _fx_n_{p} * {size}, "
                          f"{self.mutable!r}, _fx_k_{p}, _fx_backs)")
        w.argtypes += [ctypes.c_void_p, ctypes.c_size_t]
        w.cargs += [f"_fx_p_{p}", f"_fx_n_{p}"]

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        elem = self.elem.c_form(h)
        const = "" if self.mutable else "const "
        return [(f"{const}{elem} *{p}", f"{rust}: borrowed for the call"), (f"size_t {p}_len", "")]

    def default(self, value: Any, types: _Types) -> Any:
        if not isinstance(value, list):
            return super().default(value, types)
        return [self.elem.default(item, types) for item in value]


class _StringKind(_Kind):
    """``String``: an ``FfiBuffer`` of UTF-8, a ``str`` in Python."""

    kind = "string"

    def rust(self, named: _NamedDescs) -> str:
        return "String"

    def python_type(self, types: _Types) -> Any:
        return str

    def stub(self, named: _NamedDescs, param: bool) -> str:
        return "str"

    def c_type(self, types: _Types) -> Any:
        return _FfiBuffer

    def owns(self, named: _NamedDescs, seen: Set[str]) -> bool:
        return True

    def reader(self, types: _Types) -> _Reader:
        return _read_string

    def read_source(self, source: str) -> Optional[str]:
        return f"_rs({source})"

    def writer(self, types: _Types) -> _Writer:
        def write_string(v: Any, keep: List[Any], where: str) -> _FfiBuffer:
            data = _as_str(v, where, "String")
            return _FfiBuffer(_bytes_address(data, keep), len(data), 0)

        return write_string

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        w.by_pointer(p, where, self, box=False)

    def bind_return(self, w: _Wrapper, free: Optional[str]) -> Tuple[Any, str]:
        if free is None:
            return super().bind_return(w, free)
        w.free(free, _FfiBuffer)
        w.ns["_fx_take"] = _take_string
        return _FfiBuffer, "_fx_take(_fx_r, _fx_free)"

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        return [(f"const FfiBuffer *{p}", f"{rust}: UTF-8, copied in, not NULL")]

    def c_form(self, h: _HeaderContext) -> str:
        return "FfiBuffer"


class _VecKind(_Kind):
    """``Vec<T>`` (``{"elem": T}``): an ``FfiBuffer`` of ``T``'s C form; a
    list in Python, ``bytes`` for ``Vec<u8>``, or (other numbers, returned)
    a ctypes array owning the Rust allocation. As a parameter: a pointer to
    the buffer, copied in by Rust (from any sequence; from a buffer of the
    element type without copying on the Python side)."""

    kind = "vec"

    def __init__(self, desc: _Desc) -> None:
        self.elem = _kind(desc["elem"])
        #: ``Vec<u8>``: binary data, ``bytes`` in Python.
        self.binary = isinstance(self.elem, _ScalarKind) and self.elem.prim.name == "u8"

    def rust(self, named: _NamedDescs) -> str:
        return f"Vec<{self.elem.rust(named)}>"

    def python_type(self, types: _Types) -> Any:
        if self.binary:
            return bytes
        return List[self.elem.python_type(types)]  # type: ignore[misc]

    def stub(self, named: _NamedDescs, param: bool) -> str:
        inner = self.elem.stub(named, param)
        if self.binary:
            return "Union[Buffer, Sequence[int]]" if param else "bytes"
        if param:
            return f"Union[Buffer, Sequence[{inner}]]" if self.elem.number else f"Sequence[{inner}]"
        return f"List[{inner}]"

    def c_type(self, types: _Types) -> Any:
        return _FfiBuffer

    def owns(self, named: _NamedDescs, seen: Set[str]) -> bool:
        return True

    def reader(self, types: _Types) -> _Reader:
        if self.binary:
            return lambda b: ctypes.string_at(b.ptr, b.len) if b.len else b""
        ctype = self.elem.c_type(types)
        code = getattr(ctype, "_type_", None)
        if self.elem.number and isinstance(code, str) and len(code) == 1:
            # Copied out as bytes, then read in C by memoryview (a ctypes
            # array's items cost far more to read one by one).
            size, fmt = ctypes.sizeof(ctype), cast(Any, code)  # a struct code memoryview takes
            return lambda b: memoryview(ctypes.string_at(b.ptr, b.len * size)).cast(fmt).tolist() if b.len else []
        if self.elem.number:
            return lambda b: list((ctype * b.len).from_address(b.ptr)) if b.len else []
        read = self.elem.reader(types)
        return lambda b: [read(x) for x in (ctype * b.len).from_address(b.ptr)] if b.len else []

    def writer(self, types: _Types) -> _Writer:
        elem_write = self.elem.writer(types)
        elem_type = self.elem.c_type(types)
        rust = self.rust(types.named)
        prim = self.elem.prim if isinstance(self.elem, _ScalarKind) and self.elem.number else None

        def write_vec(v: Any, keep: List[Any], where: str) -> _FfiBuffer:
            if prim is not None:
                # Numbers: a buffer of the element type is lent as it is (Rust
                # copies it into the Vec); a sequence goes through an array.
                try:
                    view = memoryview(v)
                except TypeError:
                    view = None
                if view is not None:
                    address, length, anchor = _buffer(view, where, prim.name, False)
                    keep.append((anchor, view))
                    return _FfiBuffer(address, length, 0)
                address, length, anchor = _number_array(_items_of(v, where, rust), where, prim, rust)
                keep.append(anchor)
                return _FfiBuffer(address, length, 0)
            items = _items_of(v, where, rust)
            array_ = _write_array(items, elem_write, elem_type, keep, where)
            return _FfiBuffer(ctypes.addressof(array_), len(items), 0)

        return write_vec

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        w.by_pointer(p, where, self, box=False)

    def bind_return(self, w: _Wrapper, free: Optional[str]) -> Tuple[Any, str]:
        if free is None or not self.elem.number or self.binary:
            return super().bind_return(w, free)
        w.free(free, _FfiBuffer)
        w.ns["_fx_take"] = _take_vec
        w.ns["_fx_elem"] = self.elem.c_type(w.types)
        w.annotations["return"] = "Array"
        return _FfiBuffer, "_fx_take(_fx_r, _fx_free, _fx_elem)"

    def stub_return(self, named: _NamedDescs, free: bool) -> str:
        if free and self.elem.number and not self.binary:
            return f"Vec[{self.elem.stub(named, False)}]"
        return self.stub(named, False)

    def c_form(self, h: _HeaderContext) -> str:
        self.elem.c_form(h)  # element types are defined for the reader
        return "FfiBuffer"

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        self.elem.c_form(h)
        return [(f"const FfiBuffer *{p}", f"{rust}: elements copied in, not NULL")]

    def default(self, value: Any, types: _Types) -> Any:
        if not isinstance(value, list):
            return super().default(value, types)
        return [self.elem.default(item, types) for item in value]


class _MapKind(_Kind):
    """``HashMap<K, V>`` / ``BTreeMap<K, V>`` (``{"key", "value",
    "sorted"}``): an ``FfiBuffer`` of ``FfiTuple2<K, V>`` pairs; a ``dict``
    in Python (a ``BTreeMap``'s keys in order). A key given twice is
    refused by Rust."""

    kind = "map"

    def __init__(self, desc: _Desc) -> None:
        self.key = _kind(desc["key"])
        self.value = _kind(desc["value"])
        self.sorted = bool(desc["sorted"])

    def rust(self, named: _NamedDescs) -> str:
        map_ = "BTreeMap" if self.sorted else "HashMap"
        return f"{map_}<{self.key.rust(named)}, {self.value.rust(named)}>"

    def python_type(self, types: _Types) -> Any:
        return Dict[self.key.python_type(types), self.value.python_type(types)]  # type: ignore[misc]

    def stub(self, named: _NamedDescs, param: bool) -> str:
        mapping = "Mapping" if param else "Dict"
        return f"{mapping}[{self.key.stub(named, param)}, {self.value.stub(named, param)}]"

    def c_type(self, types: _Types) -> Any:
        return _FfiBuffer

    def pair_type(self, types: _Types) -> Any:
        return types.tuple_type([self.key.c_type(types), self.value.c_type(types)])

    def owns(self, named: _NamedDescs, seen: Set[str]) -> bool:
        return True

    def reader(self, types: _Types) -> _Reader:
        pair, read_key, read_value = self.pair_type(types), self.key.reader(types), self.value.reader(types)

        def read_map(b: Any) -> Dict[Any, Any]:
            pairs = (pair * b.len).from_address(b.ptr) if b.len else ()
            return {read_key(item._0): read_value(item._1) for item in pairs}

        return read_map

    def writer(self, types: _Types) -> _Writer:
        pair, write_key, write_value = self.pair_type(types), self.key.writer(types), self.value.writer(types)
        rust = self.rust(types.named)

        def write_map(v: Any, keep: List[Any], where: str) -> _FfiBuffer:
            items = getattr(v, "items", None)
            if items is None or isinstance(v, (str, bytes)):
                raise TypeError(f"{where} ({rust}) must be a mapping (a dict), not {_type_name(v)}")
            pairs = [pair(write_key(k, keep, f"{where} key {k!r}"), write_value(x, keep, f"{where}[{k!r}]"))
                     for k, x in items()]
            array_ = (pair * len(pairs))(*pairs)
            keep.append(array_)
            return _FfiBuffer(ctypes.addressof(array_), len(pairs), 0)

        return write_map

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        w.by_pointer(p, where, self, box=False)

    def c_form(self, h: _HeaderContext) -> str:
        h.tuple([self.key.c_form(h), self.value.c_form(h)], f"({self.key.rust(h.named)}, {self.value.rust(h.named)})")
        return "FfiBuffer"

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        self.c_form(h)
        return [(f"const FfiBuffer *{p}", f"{rust}: key/value pairs copied in, not NULL")]

    def default(self, value: Any, types: _Types) -> Any:
        if value != {}:
            return super().default(value, types)
        return {}


class _SetKind(_Kind):
    """``HashSet<T>`` / ``BTreeSet<T>`` (``{"elem", "sorted"}``): an
    ``FfiBuffer`` of elements; a ``set`` in Python (from any iterable as a
    parameter, duplicates merged like ``set()`` does)."""

    kind = "set"

    def __init__(self, desc: _Desc) -> None:
        self.elem = _kind(desc["elem"])
        self.sorted = bool(desc["sorted"])

    def rust(self, named: _NamedDescs) -> str:
        return f"{'BTreeSet' if self.sorted else 'HashSet'}<{self.elem.rust(named)}>"

    def python_type(self, types: _Types) -> Any:
        return Set[self.elem.python_type(types)]  # type: ignore[misc]

    def stub(self, named: _NamedDescs, param: bool) -> str:
        inner = self.elem.stub(named, param)
        return f"AbstractSet[{inner}]" if param else f"Set[{inner}]"

    def c_type(self, types: _Types) -> Any:
        return _FfiBuffer

    def owns(self, named: _NamedDescs, seen: Set[str]) -> bool:
        return True

    def reader(self, types: _Types) -> _Reader:
        ctype, read = self.elem.c_type(types), self.elem.reader(types)
        return lambda b: {read(x) for x in (ctype * b.len).from_address(b.ptr)} if b.len else set()

    def writer(self, types: _Types) -> _Writer:
        write, ctype = self.elem.writer(types), self.elem.c_type(types)
        rust = self.rust(types.named)

        def write_set(v: Any, keep: List[Any], where: str) -> _FfiBuffer:
            if not _is_sequence(v):
                raise TypeError(f"{where} ({rust}) must be a set (any iterable), not {_type_name(v)}")
            try:
                items = list(v if isinstance(v, (set, frozenset)) else dict.fromkeys(v))
            except TypeError as error:
                raise TypeError(f"{where} ({rust}): {error}") from None
            array_ = _write_array(items, write, ctype, keep, where)
            return _FfiBuffer(ctypes.addressof(array_), len(items), 0)

        return write_set

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        w.by_pointer(p, where, self, box=False)

    def c_form(self, h: _HeaderContext) -> str:
        self.elem.c_form(h)
        return "FfiBuffer"

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        self.elem.c_form(h)
        return [(f"const FfiBuffer *{p}", f"{rust}: elements copied in, not NULL")]

    def default(self, value: Any, types: _Types) -> Any:
        if not isinstance(value, list):
            return super().default(value, types)
        return frozenset(self.elem.default(item, types) for item in value)


class _TupleKind(_Kind):
    """``(A, B, ..)`` (``{"elems": [A, B, ..]}``): ``FfiTupleN { _0, _1, .. }``
    of the elements' C forms; a ``tuple`` in Python. As a parameter a
    pointer to it, like a record."""

    kind = "tuple"

    def __init__(self, desc: _Desc) -> None:
        self.elems = [_kind(elem) for elem in desc["elems"]]

    def rust(self, named: _NamedDescs) -> str:
        inner = ", ".join(elem.rust(named) for elem in self.elems)
        return f"({inner},)" if len(self.elems) == 1 else f"({inner})"

    def python_type(self, types: _Types) -> Any:
        return Tuple[tuple(elem.python_type(types) for elem in self.elems)]

    def stub(self, named: _NamedDescs, param: bool) -> str:
        return f"Tuple[{', '.join(elem.stub(named, param) for elem in self.elems)}]"

    def c_type(self, types: _Types) -> Any:
        return types.tuple_type([elem.c_type(types) for elem in self.elems])

    def owns(self, named: _NamedDescs, seen: Set[str]) -> bool:
        return any(elem.owns(named, seen) for elem in self.elems)

    def reader(self, types: _Types) -> _Reader:
        reads = [(f"_{i}", elem.reader(types)) for i, elem in enumerate(self.elems)]
        return lambda t: tuple(read(getattr(t, field)) for field, read in reads)

    def writer(self, types: _Types) -> _Writer:
        writes = [elem.writer(types) for elem in self.elems]
        ctype, rust, count = self.c_type(types), self.rust(types.named), len(self.elems)

        def write_tuple(v: Any, keep: List[Any], where: str) -> Any:
            if not isinstance(v, (tuple, list)) or len(v) != count:
                raise TypeError(f"{where} ({rust}) must be a tuple of {count}, not "
                                f"{_type_name(v)}{f' of {len(v)}' if isinstance(v, (tuple, list)) else ''}")
            return ctype(*[write(x, keep, f"{where}[{i}]") for i, (x, write) in enumerate(zip(v, writes))])

        return write_tuple

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        w.by_pointer(p, where, self, box=False)

    def c_form(self, h: _HeaderContext) -> str:
        return h.tuple([elem.c_form(h) for elem in self.elems], self.rust(h.named))

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        return [(f"const {self.c_form(h)} *{p}", f"{rust}: copied in, not NULL")]

    def default(self, value: Any, types: _Types) -> Any:
        if not isinstance(value, list) or len(value) != len(self.elems):
            return super().default(value, types)
        return tuple(elem.default(item, types) for elem, item in zip(self.elems, value))


class _OptionKind(_Kind):
    """``Option<T>`` (``{"inner": T}``): ``FfiOption`` of ``T``'s C form; as
    a parameter a pointer to it, NULL for None."""

    kind = "option"

    def __init__(self, desc: _Desc) -> None:
        self.inner = _kind(desc["inner"])

    def rust(self, named: _NamedDescs) -> str:
        return f"Option<{self.inner.rust(named)}>"

    def python_type(self, types: _Types) -> Any:
        return Optional[self.inner.python_type(types)]

    def stub(self, named: _NamedDescs, param: bool) -> str:
        return f"Optional[{self.inner.stub(named, param)}]"

    def c_type(self, types: _Types) -> Any:
        return types.option_type(self.inner.c_type(types))

    def owns(self, named: _NamedDescs, seen: Set[str]) -> bool:
        return self.inner.owns(named, seen)

    def reader(self, types: _Types) -> _Reader:
        read = self.inner.reader(types)
        return lambda o: read(o.value) if o.is_some else None

    def writer(self, types: _Types) -> _Writer:
        inner_write = self.inner.writer(types)
        option_type = self.c_type(types)
        return lambda v, keep, where: option_type() if v is None else option_type(1, inner_write(v, keep, where))

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        w.by_pointer(p, where, self.inner, box=True)

    def c_form(self, h: _HeaderContext) -> str:
        return h.option(self.inner.c_form(h), self.inner.rust(h.named))

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        return [(f"const {self.inner.c_form(h)} *{p}", f"{rust}: NULL for None")]

    def default(self, value: Any, types: _Types) -> Any:
        return None if value is None else self.inner.default(value, types)


class _ResultKind(_Kind):
    """``Result<T, E>`` (``{"ok": T, "error": name, "error_type": E}``):
    ``T``, or an error raised as ``lib.errors.<name>``; ``error_type`` (or
    null) refers to ``E`` when it is an ``#[export]`` record or enum, whose
    errors carry their value."""

    kind = "result"

    def __init__(self, desc: _Desc) -> None:
        self.ok_kind = _kind(desc["ok"])
        self.error_name = str(desc["error"])
        error_type = desc.get("error_type")
        self.error_type: Optional[_NamedKind] = None
        if error_type is not None:
            kind = _kind(error_type)
            if not isinstance(kind, _NamedKind):
                raise LoadError(f"the error type of a Result is a {kind.kind!r}, not a named type")
            self.error_type = kind

    def rust(self, named: _NamedDescs) -> str:
        return f"Result<{self.ok_kind.rust(named)}, {self.error_name}>"

    def python_type(self, types: _Types) -> Any:
        return self.ok_kind.python_type(types)

    def stub(self, named: _NamedDescs, param: bool) -> str:
        return self.ok_kind.stub(named, param)

    def ok(self) -> _Kind:
        return self.ok_kind

    def results(self) -> List[_Kind]:
        # `Result<impl Iterator<..>, E>`: the items' error types too.
        return [self, *self.ok_kind.results()]

    def c_companions(self, h: _HeaderContext) -> List[str]:
        return self.ok_kind.c_companions(h)

    def error(self) -> Optional[str]:
        return self.error_name

    def error_kind(self) -> Optional[_NamedKind]:
        return self.error_type

    def c_form(self, h: _HeaderContext) -> str:
        return self.ok_kind.c_form(h)


class _SignatureKind(_Kind):
    """A Python callable Rust calls (``{"params": [A..], "ret": R}``): the
    argument and result kinds, and their Rust spelling."""

    runs_python = True

    def __init__(self, desc: _Desc) -> None:
        self.params = [_kind(param) for param in desc["params"]]
        self.ret = _kind(desc["ret"])

    def signature(self, named: _NamedDescs) -> str:
        """``(A, ..) -> R`` (no arrow for ``()``)."""
        params = ", ".join(param.rust(named) for param in self.params)
        result = "" if self.ret.unit else f" -> {self.ret.rust(named)}"
        return f"({params}){result}"

    def bind_for_call(self, w: _Wrapper, p: str, where: str, make: Callable[[Any, List[Any], str, int], Any],
                      c_type: Any) -> None:
        """Binds argument ``p`` as made by ``make(value, keep, where, call)``
        for this call only: its failures are kept under the call's number
        (``_fx_call``) and re-raised by the wrapper."""
        w.keep_list = True
        w.ns[f"_fx_make_{p}"] = make
        w.body.append(f"_fx_a_{p} = _fx_make_{p}({p}, _fx_keep, {where!r}, _fx_call)")
        w.argtypes.append(c_type)
        w.cargs.append(f"_fx_a_{p}")


class _CallbackKind(_SignatureKind):
    """``Callback<fn(A..) -> R>`` (``{"params": [A..], "ret": R}``):
    ``FfiCallback`` by value, from a Python callable."""

    kind = "callback"

    def rust(self, named: _NamedDescs) -> str:
        return f"Callback<fn{self.signature(named)}>"

    def python_type(self, types: _Types) -> Any:
        return Callable[..., self.ret.python_type(types)]

    def stub(self, named: _NamedDescs, param: bool) -> str:
        args = ", ".join(a.stub(named, False) for a in self.params)
        ret = "object" if self.ret.unit else self.ret.stub(named, True)
        return f"Callable[[{args}], {ret}]"

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        self.bind_for_call(w, p, where, self.maker(w.types), _FfiCallback)

    def maker(self, types: _Types) -> Callable[[Any, List[Any], str, int], _FfiCallback]:
        """A function turning a Python callable into an ``FfiCallback``; the
        first exception it raises during the call is kept under the call's
        number (``_call_failures``) and re-raised by the exported function's
        wrapper."""
        arg_types = [param.c_type(types) for param in self.params]
        unit = self.ret.unit
        ret_type = None if unit else self.ret.c_type(types)
        write_ret = None if unit else self.ret.writer(types)
        rust = self.rust(types.named)
        proto = ctypes.CFUNCTYPE(ret_type, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint8), *arg_types)
        # Making a C trampoline costs microseconds: reuse it for the same
        # Python function (a bounded cache, so passing fresh lambdas in a
        # loop does not grow memory). The call it belongs to arrives as the
        # C context, so one trampoline serves any number of calls at once.
        cache: collections.OrderedDict[int, Tuple[Any, Optional[int], Any]] = collections.OrderedDict()
        # Threads share the cache. PyPy's OrderedDict is not safe against
        # another thread changing it during `popitem` ("dictionary changed
        # size during iteration"), so every step that changes it is made
        # under this lock (held for dictionary operations only, never while
        # Python code of the caller's runs).
        lock = threading.Lock()

        def make(function: Any, keep: List[Any], where: str, call: int) -> _FfiCallback:
            hit = cache.get(id(function))
            if hit is not None and hit[0]() is function:
                # Another thread may evict this entry meanwhile.
                with lock, contextlib.suppress(KeyError):
                    cache.move_to_end(id(function))
                keep.append((function, hit))
                return _FfiCallback(hit[1], call)
            if not callable(function):
                raise TypeError(f"{where} ({rust}) must be callable, not {_type_name(function)}")
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
                    _call_failed(context, exc)
                    failed[0] = 1
                    return None if unit else 0

            cfunc = proto(trampoline)
            entry = (ref, ctypes.cast(cfunc, ctypes.c_void_p).value, cfunc)
            if ref is not None:
                with lock:
                    cache[id(function)] = entry
                    if len(cache) > 128:
                        cache.popitem(last=False)
            keep.append((function, entry))
            return _FfiCallback(entry[1], call)

        return make

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        args = "".join(f", {a.c_form(h)}" for a in self.params)
        ret = self.ret.c_form(h)
        return [(f"FfiCallback {p}", f"{rust}: call is {ret} (*)(void *, uint8_t *failed{args})")]


class _AllocatorKind(_Kind):
    """``Allocator``: ``FfiAllocator`` by value; in Python the keyword-only
    ``alloc=None`` (``"array"``, ``"numpy"`` or a function) whose outputs
    come back with the result."""

    kind = "allocator"
    runs_python = True
    outputs = True

    def rust(self, named: _NamedDescs) -> str:
        return "Allocator"

    def python_type(self, types: _Types) -> Any:
        return Any

    def stub(self, named: _NamedDescs, param: bool) -> str:
        return "AllocatorSpec"

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        if w.allocator is not None:
            raise LoadError(f"{w.name}: only one Allocator parameter is supported")
        w.names.pop()
        w.allocator = p
        w.ns["_fx_outputs"] = _Outputs
        w.body.append(f"_fx_out = _fx_outputs({p}, {where!r}, _fx_call)")
        w.argtypes.append(_FfiAllocator)
        w.cargs.append("_fx_out.c_value")

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        return [(f"FfiAllocator {p}", f"{rust}: outputs belong to the caller")]



# ---------------------------------------------------------------------------
# Python objects Rust keeps: trait implementations and stored closures

# Every pointer arrives as a plain address (ctypes makes no pointer object
# per call): the arguments are read with `_address_at`.
_FOREIGN_CALL = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p,
                                 ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_POINTER_SIZE = ctypes.sizeof(ctypes.c_void_p)
_address_at = ctypes.c_void_p.from_address
_FOREIGN_REF = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_FOREIGN_OK, _FOREIGN_ERR, _FOREIGN_FAILED = 0, 1, 2
#: Or-ed into a method number: the call's results stay until released by a
#: call with method ``_CALL_RELEASE`` (latest held call of the thread first).
_CALL_HELD, _CALL_RELEASE = 0x8000_0000, 0xFFFF_FFFF
#: Runs one method: ``(target, args, ok, err, keep) -> status`` (addresses).
_Invoke = Callable[[Any, int, int, int, List[Any]], int]


class _Held:
    """A Python object lent to Rust: the object, its methods' invokers, how
    many references Rust holds (``retain``/``release``), whether the call
    that passed it is still running (its own reference), what the last
    call from each thread wrote (Rust copies it before that thread calls
    again), and what each thread's held calls wrote (until released)."""

    __slots__ = ("holding", "invokers", "kept", "lent", "rust", "rust_refs", "target")

    def __init__(self, target: Any, invokers: List[_Invoke], rust: str) -> None:
        self.target = target
        self.invokers = invokers
        self.rust_refs = 0
        self.lent = True  # the passing call's own reference, dropped after it
        self.kept: Dict[int, Any] = {}
        self.holding: Dict[int, List[Any]] = {}
        self.rust = rust


#: Python objects lent to Rust, by the key Rust passes back as the context.
_held: Dict[int, _Held] = {}
_held_keys = itertools.count(1)
_held_lock = threading.RLock()
#: What a failure of an unknown object wrote, by thread (see ``_foreign_call``).
_orphans: Dict[int, Any] = {}


def held_by_rust() -> int:
    """The number of Python objects (trait implementations, stored closures)
    Rust currently holds: 0 once every box and ``Arc`` is dropped."""
    with _held_lock:
        return sum(1 for held in _held.values() if held.rust_refs > 0)


def _forget_if_unused(key: int) -> Optional[_Held]:
    """Removes the entry of ``key`` once neither Rust nor the passing call
    holds it (called with the lock held); the caller drops it unlocked."""
    held = _held.get(key)
    if held is not None and held.rust_refs == 0 and not held.lent:
        return _held.pop(key)
    return None


def _retain(context: Optional[int]) -> None:
    with _held_lock:
        _held[context or 0].rust_refs += 1


def _release(context: Optional[int]) -> None:
    with _held_lock:
        held = _held.get(context or 0)
        if held is None:
            return
        held.rust_refs -= 1
        gone = _forget_if_unused(context or 0)
    # `gone` (the object, what it kept) is dropped here, outside the lock.
    del gone


#: The last exception a Python method Rust called raised on each OS thread
#: (Rust panicked with its text): the ``__cause__`` of the ``RustPanic`` the
#: thread's exported call then raises. At most ``_FAILURES_KEPT`` threads'
#: are kept (threads of Rust's own that never raise into Python).
_foreign_failures: Dict[int, BaseException] = {}
_FAILURES_KEPT = 64


def _foreign_call(context: Optional[int], method: int, args: Optional[int], ok: Optional[int], err: Optional[int],
                  message: Optional[int], _held: Dict[int, _Held] = _held,
                  _ident: Callable[[], int] = threading.get_ident, _bytes: Any = _bytes_address,
                  _orphans: Dict[int, Any] = _orphans,
                  _failures: Dict[int, BaseException] = _foreign_failures,
                  _release: int = _CALL_RELEASE, _hold: int = _CALL_HELD, _ok: int = _FOREIGN_OK,
                  _failed: int = _FOREIGN_FAILED, _kept_failures: int = _FAILURES_KEPT,
                  _buffer: Any = _FfiBuffer) -> int:
    """The one dispatcher of every Python object Rust holds (the globals it
    needs are bound as defaults: it may run while the interpreter shuts
    down and clears this module). A failure is reported to Rust as status 2
    with its message.

    What it writes (the result's C form, the message) must stay valid until
    Rust copied it: a held call's (``_CALL_HELD``) ``keep`` is pushed on the
    thread's ``holding`` stack before the method runs (nested calls push and
    pop above it) until the caller releases it; a plain call's is stored
    under the calling thread in ``kept`` once the method returned (not
    before: a nested call on the same thread would replace it while this one
    still writes), until that thread's next call on the object. The message
    slot is written last, after its bytes are kept. Nothing may leave this
    function as an exception (ctypes would then return an undefined status):
    an exception raised anywhere (a signal, a tracer) ends in status 2, with
    whatever was written still kept."""
    keep: List[Any] = []
    try:
        hold = _hold <= method != _release
        held = _held.get(context or 0)
        thread = _ident()
        if held is not None and hold:
            held.holding.setdefault(thread, []).append(keep)
        try:
            if held is None:
                raise LookupError(f"object {context} is not lent to Rust (released already)")
            if method == _release:
                stack = held.holding.get(thread)
                if not stack:
                    raise LookupError("no held call of this thread to release")
                stack.pop()
                return _ok
            # Subtraction, not `& ~_CALL_HELD`: CPython's int `&` with a
            # zero operand reads a digit it never wrote (valgrind reports it).
            status: int = held.invokers[method - _hold if hold else method](held.target, args or 0, ok or 0,
                                                                            err or 0, keep)
        except BaseException as exc:  # noqa: BLE001 - reported to Rust, which panics with it
            status = _failed
            try:
                text = f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")
            except BaseException:  # noqa: BLE001 - a __str__ that raises
                text = type(exc).__name__.encode("utf-8", "replace")
            address = _bytes(text, keep)
            if held is None:
                _orphans[thread] = keep  # no object to keep it (nor a held call to release)
            elif not hold:
                held.kept[thread] = keep
            if message:
                slot = _buffer.from_address(message)
                slot.ptr, slot.len, slot.cap = address, len(text), 0
            _failures.pop(thread, None)
            # `list()` copies the keys in one step (other threads may add
            # theirs meanwhile: nothing here may raise and change the status).
            for oldest in list(_failures)[:max(0, len(_failures) - _kept_failures + 1)]:
                _failures.pop(oldest, None)
            _failures[thread] = exc
            return status
        if keep and not hold:
            held.kept[thread] = keep  # nothing Rust still reads otherwise (numbers: written in place)
        return status
    except BaseException:  # noqa: BLE001 - see above: status 2, what was written stays kept or unread
        return _failed


#: PyPy: the trampolines lent forever (it has no reference count to raise;
#: a module-level list outlives every call, and PyPy does not clear modules
#: at shutdown).
_FOREVER: List[Any] = []


def _lent_forever(cfunc: Any) -> int:
    """The address of a C trampoline that is never freed: Rust threads may
    call it at any time, even while the interpreter shuts down and clears
    this module."""
    if _PYTHONAPI is not None:
        _PYTHONAPI.Py_IncRef(ctypes.py_object(cfunc))
    _FOREVER.append(cfunc)
    return ctypes.cast(cfunc, ctypes.c_void_p).value or 0


_FOREIGN_FUNCTIONS = (_lent_forever(_FOREIGN_CALL(_foreign_call)), _lent_forever(_FOREIGN_REF(_retain)),
                      _lent_forever(_FOREIGN_REF(_release)))


class _Lent:
    """The passing call's reference to a lent object, dropped with the call's
    keep list (Rust took its own with ``retain`` if it kept the object)."""

    __slots__ = ("key",)

    def __init__(self, key: int) -> None:
        self.key = key

    def __del__(self) -> None:
        with _held_lock:
            held = _held.get(self.key)
            if held is not None:
                held.lent = False
            gone = _forget_if_unused(self.key)
        del gone


def _lend(target: Any, invokers: List[_Invoke], rust: str, keep: List[Any]) -> _FfiForeign:
    """The ``FfiForeign`` of ``target``, registered until Rust releases it."""
    key = next(_held_keys)
    held = _Held(target, invokers, rust)
    with _held_lock:
        _held[key] = held
    keep.append(_Lent(key))
    return _FfiForeign(*_FOREIGN_FUNCTIONS, key)


def _error_value(exc: BaseException, kind: _ResultKind, types: _Types) -> Any:
    """The Rust error value of ``exc`` when it is one of the ``Result``'s
    error classes (``lib.errors.E`` or a variant's class), else None: its
    ``value`` if it has one, else one made from its class (the variant) and
    its attributes (the fields), or its message for a non-``#[export]``
    error type."""
    typed = kind.error_type
    if typed is not None:
        cls = types.typed_errors.get(typed.key)
        if cls is None or not isinstance(exc, cls):
            return None
        value = getattr(exc, "value", None)
        if value is not None:
            return value
        desc = types.named[typed.key]
        target = types.classes[typed.key]
        fields: List[_Desc] = desc.get("fields", [])
        if desc["kind"] == "data_enum":
            variant = getattr(type(exc), "variant", None)
            if variant is None:
                raise TypeError(f"raise a variant of {typed.rust(types.named)} (lib.errors.{desc['name']}.<Variant>), "
                                f"not the base class")
            target = getattr(target, variant)
            fields = next(v["fields"] for v in desc["variants"] if v["name"] == variant)
        elif desc["kind"] == "enum":
            variant = getattr(type(exc), "variant", None)
            return None if variant is None else target[variant]
        return target(**{f["name"]: getattr(exc, f["name"]) for f in fields})
    name = kind.error_name
    cls = types.error_classes.get(name)
    if cls is None or not isinstance(exc, cls) or kind.error_type is not None:
        return None
    return str(exc)


def _slot_reader(ctype: Any, read: _Reader) -> Callable[[int], Any]:
    """Reads the C form of ``ctype`` at an address Rust passed (a number's
    value, a struct in place) into a Python value."""
    from_address = ctype.from_address
    if issubclass(ctype, ctypes._SimpleCData):
        if read is _identity:
            return lambda address: from_address(address).value
        return lambda address: read(from_address(address).value)
    return lambda address: read(from_address(address))


def _slot_writer(ctype: Any) -> Callable[[int, Any], None]:
    """Writes a C form a writer made to the slot of ``ctype`` at an address
    Rust passed."""
    pointer = ctypes.POINTER(ctype)
    size = ctypes.sizeof(ctype)
    if issubclass(ctype, ctypes._SimpleCData):
        from_address = ctype.from_address

        def store_number(address: int, value: Any) -> None:
            from_address(address).value = value

        return store_number

    def store(address: int, value: Any) -> None:
        if type(value) is ctype:
            ctypes.memmove(address, ctypes.addressof(value), size)
        else:
            ctypes.cast(address, pointer)[0] = value

    return store


def _invoker(name: Optional[str], params: List[_Kind], ret: _Kind, types: _Types, where: str) -> _Invoke:
    """Calls ``target.name(*args)`` (``target(*args)`` when ``name`` is None)
    with the arguments read from their C forms, and writes its result (or,
    for a ``Result``, the error value of an exception of its error type)."""
    readers = [(i * _POINTER_SIZE, _slot_reader(p.c_type(types), p.reader(types))) for i, p in enumerate(params)]
    ok_kind = ret.ok()
    write_ok = None if ok_kind.unit else ok_kind.writer(types)
    store_ok = None if ok_kind.unit else _slot_writer(ok_kind.c_type(types))
    result_kind = ret if isinstance(ret, _ResultKind) else None
    err_kind: Optional[_Kind] = None
    if result_kind is not None:
        err_kind = result_kind.error_type if result_kind.error_type is not None else _kind({"kind": "string"})
    write_err = None if err_kind is None else err_kind.writer(types)
    store_err = None if err_kind is None else _slot_writer(err_kind.c_type(types))
    ok_where, err_where = f"the result of {where}", f"the error of {where}"

    # The statuses bound here: it may run while the interpreter shuts down
    # and clears this module.
    ok_status, err_status, address_at = _FOREIGN_OK, _FOREIGN_ERR, _address_at

    def invoke(target: Any, args: int, ok: int, err: int, keep: List[Any]) -> int:
        values = [read(address_at(args + offset).value or 0) for offset, read in readers]
        try:
            result = (target if name is None else getattr(target, name))(*values)
        except Exception as exc:
            if result_kind is None or write_err is None or store_err is None:
                raise
            value = _error_value(exc, result_kind, types)
            if value is None:
                raise
            store_err(err, write_err(value, keep, err_where))
            # Consumed as the Err value: its traceback (frames up to the
            # exported call that lent the object) would keep that call's
            # arguments, and so the lent object, alive through an exception
            # the object itself may hold.
            exc.__traceback__ = None
            return err_status
        if write_ok is not None and store_ok is not None:
            store_ok(ok, write_ok(result, keep, ok_where))
        return ok_status

    return invoke


def _bind_lent(kind: _Kind, w: _Wrapper, p: str, where: str) -> None:
    """Binds a parameter lent to Rust as an ``FfiForeign`` (by value)."""
    w.keep_list = True
    w.ns[f"_fx_w_{p}"] = kind.writer(w.types)
    w.body.append(f"_fx_a_{p} = _fx_w_{p}({p}, _fx_keep, {where!r})")
    w.argtypes.append(_FfiForeign)
    w.cargs.append(f"_fx_a_{p}")


class _ClosureKind(_SignatureKind):
    """``Box<dyn Fn(A..) -> R + Send + Sync>`` / ``Arc<..>``
    (``{"params": [A..], "ret": R}``): a Python callable Rust may keep and
    call from any thread, lent as an ``FfiForeign`` until Rust drops it."""

    kind = "closure"

    def rust(self, named: _NamedDescs) -> str:
        return f"Box<dyn Fn{self.signature(named)} + Send + Sync>"

    def python_type(self, types: _Types) -> Any:
        return Callable[..., self.ret.ok().python_type(types)]

    def stub(self, named: _NamedDescs, param: bool) -> str:
        args = ", ".join(a.stub(named, False) for a in self.params)
        ret = "object" if self.ret.ok().unit else self.ret.ok().stub(named, True)
        return f"Callable[[{args}], {ret}]"

    def c_type(self, types: _Types) -> Any:
        return _FfiForeign

    def writer(self, types: _Types) -> _Writer:
        rust = self.rust(types.named)
        invokers: List[_Invoke] = []

        def write_closure(v: Any, keep: List[Any], where: str) -> _FfiForeign:
            if isinstance(v, _RustFunction) and v._rust == rust and v._types is types:
                # A Rust closure of this type and library handed back: Rust
                # takes the closure itself (its own functions), no detour
                # through Python. (Another library's, whose named types may
                # share names but not layouts, is called through Python.)
                keep.append(v)
                return v._foreign(where)
            if not callable(v):
                raise TypeError(f"{where} ({rust}) must be callable, not {_type_name(v)}")
            if not invokers:
                invokers.append(_invoker(None, self.params, self.ret, types, f"the closure {where}"))
            return _lend(v, invokers, rust, keep)

        return write_closure

    def reader(self, types: _Types) -> _Reader:
        rust = self.rust(types.named)
        caller: List[Callable[[_FfiForeign, Tuple[Any, ...]], Any]] = []

        def wrap(raw: _FfiForeign) -> Any:
            if not caller:
                caller.append(_foreign_caller(self.params, self.ret, types, rust))
            return _RustFunction(raw, caller[0], rust, types)

        def read_closure(raw: _FfiForeign) -> Any:
            return _read_foreign(raw, rust, None, wrap)

        return read_closure

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        _bind_lent(self, w, p, where)

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        args = ", ".join(a.c_form(h) for a in self.params) or "none"
        ret = self.ret.ok().c_form(h)
        return [(f"FfiForeign {p}", f"{rust}: method 0, args ({args}), ok {ret}")]

    def c_form(self, h: _HeaderContext) -> str:
        # Inside other values and as a result: the caller's own closure
        # handed back, or a Rust closure with Rust's call/retain/release;
        # the receiver releases it once.
        return "FfiForeign"


def _read_foreign(raw: _FfiForeign, rust: str, from_handle: Optional[Callable[[int], Any]],
                  wrap: Optional[Callable[[_FfiForeign], Any]]) -> Any:
    """A ``Box/Arc<dyn ..>`` Rust handed over (one reference is ours): a Rust
    implementation's handle (NULL functions: ``from_handle``), a Python
    object lent to Rust earlier (this helper's functions: the object
    itself, and our reference is released), or a Rust closure (``wrap``)."""
    call, retain, release, context = raw.call, raw.retain, raw.release, raw.context or 0
    if not call and not retain and not release:
        if from_handle is None:
            raise TypeError(f"{rust}: Rust returned no closure (a NULL FfiForeign)")
        return from_handle(context)
    if (call, retain, release) == _FOREIGN_FUNCTIONS:
        with _held_lock:
            held = _held.get(context)
        if held is None:
            raise TypeError(f"{rust}: Rust returned a Python object that is no longer lent")
        target = held.target
        _release(context)
        return target
    if wrap is None:
        _FOREIGN_REF(release)(context)
        raise TypeError(f"{rust}: Rust returned an implementation made neither by Python nor by Rust")
    # A copy: `raw` may view memory of the result that is freed once read.
    return wrap(_FfiForeign(call, retain, release, context))


class _RustFunction:
    """A Rust closure handed to Python (``Box<dyn Fn(A..) -> R + Send +
    Sync>`` returned, alone or inside another value): calling it calls the
    Rust closure (arguments converted as for an export, the GIL released);
    it holds one reference, released once when it is collected. Passed back
    where the same closure type is expected, Rust gets the closure itself."""

    __slots__ = ("__weakref__", "_call", "_raw", "_rust", "_types")

    def __init__(self, raw: _FfiForeign, call: Callable[[_FfiForeign, Tuple[Any, ...]], Any], rust: str,
                 types: _Types) -> None:
        self._raw: Optional[_FfiForeign] = raw
        self._call = call
        self._rust = rust
        self._types = types  # the library it came from

    def __call__(self, *args: Any) -> Any:
        raw = self._raw
        if raw is None:
            raise ValueError(f"this {self._rust} was released")
        return self._call(raw, args)

    def _foreign(self, where: str) -> _FfiForeign:
        """Its C form, to pass back to Rust (which takes its own reference)."""
        if self._raw is None:
            raise ValueError(f"{where}: this {self._rust} was released")
        return self._raw

    def __del__(self) -> None:
        raw = getattr(self, "_raw", None)
        if raw is not None:
            self._raw = None
            _FOREIGN_REF(raw.release)(raw.context)

    def __repr__(self) -> str:
        return f"<Rust closure {self._rust}>"


def _foreign_caller(params: List[_Kind], ret: _Kind, types: _Types,
                    rust: str) -> Callable[[_FfiForeign, Tuple[Any, ...]], Any]:
    """Calls a Rust closure through its ``FfiForeign``: the arguments in
    their C forms (owned by Python for the call), its result read (a copy)
    or its error raised: a ``Result``'s error value as the error type's
    exception, a panic as ``RustPanic``, refused arguments as
    ``InvalidArgument``."""
    writers = [(p.writer(types), _boxer(p.c_type(types))) for p in params]
    ok_kind = ret.ok()
    ok_type = None if ok_kind.unit else ok_kind.c_type(types)
    read_ok = None if ok_type is None else _slot_reader(ok_type, ok_kind.reader(types))
    result_kind = ret if isinstance(ret, _ResultKind) else None
    err_kind: Optional[_Kind] = None
    if result_kind is not None:
        err_kind = result_kind.error_type if result_kind.error_type is not None else _kind({"kind": "string"})
    err_type = None if err_kind is None else err_kind.c_type(types)
    read_err = None if err_kind is None or err_type is None else _slot_reader(err_type, err_kind.reader(types))
    count = len(params)

    def call(raw: _FfiForeign, args: Tuple[Any, ...]) -> Any:
        if len(args) != count:
            raise TypeError(f"{rust} takes {count} argument{'s' if count != 1 else ''} ({len(args)} given)")
        keep: List[Any] = []
        boxes = [box(write(a, keep, f"argument {i}")) for i, (a, (write, box)) in enumerate(zip(args, writers))]
        argv = (ctypes.c_void_p * max(count, 1))(*[ctypes.addressof(b) for b in boxes])
        ok = ok_type() if ok_type is not None else None
        err = err_type() if err_type is not None else None
        message = _FfiBuffer()
        function = _FOREIGN_CALL(raw.call)
        ok_at = None if ok is None else ctypes.addressof(ok)
        err_at = None if err is None else ctypes.addressof(err)
        message_at = ctypes.addressof(message)
        # Held (the GIL released): what Rust wrote stays until the release
        # below, whatever runs on this thread before the reads are done (a
        # signal handler or finalizer calling the same closure). The call is
        # the `try`'s first statement and the release is made inline, with
        # everything prepared before: an exception raised on this thread (a
        # signal) between the two cannot skip the release. (Rust keeps a held
        # entry for a failed call too, so the release always pairs up.)
        try:
            status = function(raw.context, _CALL_HELD, argv, ok_at, err_at, message_at)
            if status == _FOREIGN_OK:
                return None if ok is None or read_ok is None else read_ok(ctypes.addressof(ok))
            if status == _FOREIGN_ERR and err is not None and read_err is not None and result_kind is not None:
                value = read_err(ctypes.addressof(err))
                raise _closure_error(value, result_kind, types)
            text = _read_string(message) if status == _FOREIGN_FAILED else ""
        finally:
            function(raw.context, _CALL_RELEASE, None, None, None, None)
        if text.startswith("Rust panic: "):
            raise RustPanic(text[len("Rust panic: "):])
        raise InvalidArgument(f"{rust}: {text or f'returned the unknown status {status}'}")

    return call


def _closure_error(value: Any, kind: _ResultKind, types: _Types) -> FfiError:
    """The exception of an error value a Rust closure returned."""
    typed = kind.error_type
    if typed is None:
        cls = types.error_classes.get(kind.error_name) or FfiError
        return cls(str(value))
    base = types.typed_errors[typed.key]
    desc = types.named[typed.key]
    names = [str(v["name"]) for v in desc.get("variants", [])]
    variant_name = getattr(value, "name", None) if desc["kind"] == "enum" else type(value).__name__
    variant = names.index(variant_name) if variant_name in names else -1
    return _error_exception(base, repr(value), variant, value)


class _FnRefKind(_ClosureKind):
    """``&dyn Fn(A..) -> R`` (``{"params": [A..], "ret": R}``): a Python
    callable lent to Rust for one call, as an ``FfiForeign`` of one method.
    An exception it raises (other than an error value of its ``Result``)
    is kept under the call's number and re-raised by the exported
    function's wrapper (Rust unwinds, the call fails with
    ``CALLBACK_FAILED``), as for a ``Callback``."""

    kind = "fn_ref"

    def rust(self, named: _NamedDescs) -> str:
        return f"&dyn Fn{self.signature(named)}"

    def c_type(self, types: _Types) -> Any:
        raise LoadError(f"{self.rust(types.named)} is a parameter only (it is borrowed for one call)")

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        self.bind_for_call(w, p, where, self.maker(w.types), _FfiForeign)

    def maker(self, types: _Types) -> Callable[[Any, List[Any], str, int], _FfiForeign]:
        """A function lending a Python callable to Rust for call number
        ``call``: its failures are kept under that number (``_call_failures``)
        and reported to Rust as status 2 without a message."""
        rust = self.rust(types.named)
        invokers: List[_Invoke] = []

        def invoke_for_call(target: Tuple[Any, int], args: int, ok: int, err: int, keep: List[Any]) -> int:
            try:
                return invokers[0](target[0], args, ok, err, keep)
            except BaseException as exc:  # noqa: BLE001 - re-raised after the Rust call
                _call_failed(target[1], exc)
                return _FOREIGN_FAILED

        def lend(function: Any, keep: List[Any], where: str, call: int) -> _FfiForeign:
            if not callable(function):
                raise TypeError(f"{where} ({rust}) must be callable, not {_type_name(function)}")
            if not invokers:
                invokers.append(_invoker(None, self.params, self.ret, types, f"the callback {where}"))
            return _lend((function, call), [invoke_for_call], rust, keep)

        return lend

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        args = ", ".join(a.c_form(h) for a in self.params) or "none"
        ret = self.ret.ok().c_form(h)
        error = self.ret.error_kind()
        err = f", err {error.c_form(h)}" if error is not None else ""
        return [(f"FfiForeign {p}", f"{rust}: borrowed for the call; method 0, args ({args}), ok {ret}{err}; "
                 f"status 2 fails the call with FFI_EXPORT_CALLBACK_FAILED")]


class _NamedKind(_Kind):
    """A type defined once in the description's ``types`` (``{"key": ...}``
    refers to it): a generated Python class, and a C definition."""

    def __init__(self, desc: _Desc) -> None:
        self.key = str(desc["key"])

    def finish_class(self, types: _Types) -> None:
        """Completes the class once every class exists (constructors)."""

    def rust(self, named: _NamedDescs) -> str:
        return str(named[self.key]["name"]) if self.key in named else self.key.rsplit("::", 1)[-1]

    def python_type(self, types: _Types) -> Any:
        return types.classes[self.key]

    def stub(self, named: _NamedDescs, param: bool) -> str:
        return named.ref(self.key)

    def c_form(self, h: _HeaderContext) -> str:
        h.define(self)
        return self.c_name(h.named)

    def make_class(self, types: _Types) -> Any:
        """The Python class of the type."""
        raise NotImplementedError

    def link(self, types: _Types, cdll: ctypes.CDLL) -> None:
        """Connects the class to the library's exports (nothing here)."""

    def c_name(self, named: _NamedDescs) -> str:
        """The name of its C form: its Rust name, prefixed by its module
        path when other types share it (``geometry_Spot``)."""
        return named.c_names[self.key]

    def c_define(self, h: _HeaderContext) -> str:
        """The C definition of its C form."""
        raise NotImplementedError

    def c_declarations(self, h: _HeaderContext) -> List[str]:
        """Functions of the type to declare with the exports (none here)."""
        return []

    def stub_define(self, w: _StubContext) -> List[str]:
        """Its class in a ``.pyi``."""
        raise NotImplementedError

    # -- As an error value (``Err(e)`` of this type)

    def error_class(self, types: _Types) -> Type[FfiError]:
        """The exception class of its errors (with its variants' classes)."""
        raise LoadError(f"{self.key}: an {self.kind} cannot be an error value")

    def read_at(self, types: _Types, address: int) -> Any:
        """A copy of the value whose C form is at ``address`` (an error
        value the library lends or hands over)."""
        c_value = self.c_type(types).from_address(address)
        if isinstance(c_value, ctypes._SimpleCData):
            c_value = c_value.value
        return self.reader(types)(c_value)

    def stub_error(self, w: _StubContext) -> List[str]:
        """Its exception class in the ``.pyi``'s ``errors`` namespace."""
        raise LoadError(f"{self.key}: an {self.kind} cannot be an error value")

    def c_error(self, h: _HeaderContext) -> str:
        """What ``FfiError`` holds for its errors, for a C comment (defining
        what that needs first)."""
        return f"FfiError.value points to its {self.c_form(h)} (owned, released by ffi_export_error_free)"


def _stub_error(w: _StubContext, key: str, fields: List[Tuple[str, str]],
                variants: Optional[List[Tuple[str, str, List[Tuple[str, str]]]]]) -> List[str]:
    """The stub of the exception class of the error type ``key`` (see
    :func:`_error_classes`): ``fields`` and each variant's ``fields`` are
    (name, stub type); a variant is (name, its value's stub type, fields)."""
    desc = w.named[key]
    name = desc["name"]
    lines = [f"    class {name}(ffi_export.FfiError):", *w.doc(desc["doc"], "        "),
             f"        value: {w.named.ref(key)}"]
    lines += [f"        {field}: {ty}" for field, ty in fields if _error_attribute(field)]
    for variant, value, variant_fields in variants or []:
        if hasattr(FfiError, variant):
            continue
        lines += [f"        class {variant}(errors.{name}):",
                  f'            """The Rust error `{name}::{variant}`."""',
                  f'            variant: Literal["{variant}"]',
                  f"            value: {value}"]
        lines += [f"            {field}: {ty}" for field, ty in variant_fields if _error_attribute(field)]
    return lines


def _match_args(fields: List[Tuple[str, str]]) -> str:
    """A stub's ``__match_args__`` value: the field names, in order."""
    return repr(tuple(field for field, _ in fields))


def _class_name(named: _NamedDescs, key: str) -> str:
    """The name a ``.pyi`` defines the class of ``key`` under: its Rust
    name (with a trailing ``_`` if a function has it, see :class:`_Named`)."""
    return named.python_path(key).rsplit(".", 1)[-1]


class _RecordKind(_NamedKind):
    """An ``#[export]`` struct: a class with its fields, crossing as a C
    struct of their C forms (by pointer as a parameter); a ``#[repr(C)]``
    plain-data one (``pod``) is a ``ctypes.Structure`` crossing as itself."""

    kind = "record"

    def make_class(self, types: _Types) -> Any:
        desc = types.named[self.key]
        if desc["pod"]:
            fields = tuple(f["name"] for f in desc["fields"])
            return type(desc["name"], (_PlainRecord,), {"__doc__": desc["doc"] or None, "__match_args__": fields})
        fields = tuple(f["name"] for f in desc["fields"])
        return type(desc["name"], (_Record,), {
            "__slots__": fields, "_fields": fields, "__doc__": desc["doc"] or None, "__match_args__": fields,
        })

    def finish_class(self, types: _Types) -> None:
        """A real ``__init__``: the fields in order, typed, with their
        defaults (a plain-data record's fields default to zero, as ctypes
        fills them)."""
        desc = types.named[self.key]
        cls = types.classes[self.key]
        _record_init(cls, desc["fields"], types, zero=bool(desc["pod"]))

    def c_type(self, types: _Types) -> Any:
        """The record's C form, laid out on first use (fields may be records
        laid out later)."""
        desc = types.named[self.key]
        if desc["pod"]:
            cls = types.classes[self.key]
            if "_fields_" not in vars(cls):
                cls._fields_ = [(f["name"], _kind(f["type"]).c_type(types)) for f in desc["fields"]]
                # The mirror must have Rust's layout: elements of `&[T]` and
                # `Vec<T>` are read and written at Rust's stride.
                layout = (ctypes.sizeof(cls), ctypes.alignment(cls))
                if "size" in desc and layout != (desc["size"], desc["align"]):
                    raise LoadError(f"{desc['name']}: the Rust layout (size {desc['size']}, align "
                                    f"{desc['align']}) differs from C's natural layout (size "
                                    f"{layout[0]}, align {layout[1]})")
            return cls
        if self.key not in types.mirrors:
            fields = [(f["name"], _kind(f["type"]).c_type(types)) for f in desc["fields"]]
            types.mirrors[self.key] = type(f"{desc['name']}Repr", (ctypes.Structure,), {"_fields_": fields})
        return types.mirrors[self.key]

    def owns(self, named: _NamedDescs, seen: Set[str]) -> bool:
        if self.key in seen:
            return False
        seen.add(self.key)
        return any(_kind(f["type"]).owns(named, seen) for f in named[self.key]["fields"])

    def reader(self, types: _Types) -> _Reader:
        if types.named[self.key]["pod"]:
            return types.classes[self.key].from_buffer_copy  # type: ignore[no-any-return]
        return self.fields_reader(types)

    def fields_reader(self, types: _Types) -> _Reader:
        """A reader generated for the record (a function with one line per
        field), compiled on first use. Nested records are read through a
        lookup at call time, so recursive records work."""
        cache_key = "reader:" + self.key
        if cache_key in types.converters:
            return types.converters[cache_key]  # type: ignore[no-any-return]

        def deferred(repr_value: Any) -> Any:
            return types.converters[cache_key](repr_value)

        types.converters[cache_key] = deferred  # what fields of this very type use
        ns: Dict[str, Any] = {"_cls": types.classes[self.key], "_new": object.__new__,
                              "_set": object.__setattr__, "_get": getattr, "_rs": _read_string}
        lines = ["def read(r):", "    o = _new(_cls)"]
        for index, field in enumerate(types.named[self.key]["fields"]):
            name = field["name"]
            plain = name.isidentifier() and not keyword.iskeyword(name)
            source = f"r.{name}" if plain else f"_get(r, {name!r})"
            kind = _kind(field["type"])
            value = kind.read_source(source)
            if value is None:
                ns[f"_r{index}"] = kind.reader(types)
                value = f"_r{index}({source})"
            lines.append(f"    o.{name} = {value}" if plain else f"    _set(o, {name!r}, {value})")
        lines.append("    return o")
        exec("\n".join(lines), ns)  # noqa: S102 - generated from the library's own description
        types.converters[cache_key] = ns["read"]
        return ns["read"]  # type: ignore[no-any-return]

    def writer(self, types: _Types) -> _Writer:
        cls = types.classes[self.key]
        desc = types.named[self.key]
        if desc["pod"]:
            def write_plain(v: Any, keep: List[Any], where: str) -> Any:
                if not isinstance(v, cls):
                    raise TypeError(f"{where} must be a {cls.__qualname__}, not {_type_name(v)}")
                return v

            return write_plain
        mirror = self.c_type(types)
        return lambda v, keep, where: self.write_fields(types, cls, mirror, v, keep, where)

    def write_fields(self, types: _Types, cls: Any, mirror: Any, value: Any, keep: List[Any], where: str) -> Any:
        """The C form of a (not plain-data) record value."""
        if not isinstance(value, cls):
            raise TypeError(f"{where} must be a {cls.__qualname__}, not {_type_name(value)}")
        cache_key = "writers:" + self.key
        if cache_key not in types.converters:
            types.converters[cache_key] = [(f["name"], _kind(f["type"]).writer(types))
                                           for f in types.named[self.key]["fields"]]
        return mirror(*[write(getattr(value, name), keep, f"{where}.{name}")
                        for name, write in types.converters[cache_key]])

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        w.by_pointer(p, where, self, box=False)

    def slice_call(self, w: _Wrapper, p: str, mutable: bool) -> str:
        if not w.types.named[self.key]["pod"]:
            return super().slice_call(w, p, mutable)
        w.ns[f"_fx_cls_{p}"] = w.types.classes[self.key]
        return f"_fx_plain_buffer({p}, {'argument ' + repr(p)!r}, _fx_cls_{p}, {mutable!r})"

    def bind_return(self, w: _Wrapper, free: Optional[str]) -> Tuple[Any, str]:
        if w.types.named[self.key]["pod"]:
            return self.c_type(w.types), "_fx_r"
        return super().bind_return(w, free)

    def c_name(self, named: _NamedDescs) -> str:
        base = named.c_names[self.key]
        return base if named[self.key]["pod"] else f"{base}_repr"

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        return [(f"const {self.c_form(h)} *{p}", f"{rust}: copied in, not NULL")]

    def c_define(self, h: _HeaderContext) -> str:
        desc = h.named[self.key]
        name = desc["name"]
        c_name = self.c_name(h.named)
        kinds = [(f["name"], _kind(f["type"])) for f in desc["fields"]]
        fields = [(field, kind.c_form(h), kind.rust(h.named)) for field, kind in kinds]
        body = "".join(f"    {ctype} {field}; /* {rust} */\n" for field, ctype, rust in fields)
        what = ("plain data: crosses as itself" if desc["pod"] else
                f"the C form of the record {name}: its fields' C forms in order.\n"
                " * Returned: owned, release with the paired <function>_free (deep).\n"
                " * Passed in (by pointer): borrowed, String fields are {ptr, len} UTF-8")
        return f"{h.comment(desc['doc'])}/* {what}. */\ntypedef struct {c_name} {{\n{body}}} {c_name};"

    def stub_define(self, w: _StubContext) -> List[str]:
        desc = w.named[self.key]
        fields = [(f["name"], _kind(f["type"]).stub(w.named, False)) for f in desc["fields"]]
        base = "ctypes.Structure" if desc["pod"] else "_Record"
        lines = [f"class {_class_name(w.named, self.key)}({base}):", *w.doc(desc["doc"], "    ")]
        lines += [f"    {field}: {ty}" for field, ty in fields]
        lines.append(f"    __match_args__ = {_match_args(fields)}")
        defaulted = _defaulted_fields(desc["fields"], bool(desc["pod"]))
        args = "".join(f", {field}: {ty}{' = ...' if field in defaulted else ''}" for field, ty in fields)
        if w.has_protocol(self.key, "default") and args:
            # `Cls()` is the Rust `Default`; the fields otherwise.
            lines += ["    @overload", "    def __init__(self) -> None: ...", "    @overload"]
        lines.append(f"    def __init__(self{args}) -> None: ...")
        return lines + w.protocols(self.key, "    ")

    def error_class(self, types: _Types) -> Type[FfiError]:
        desc = types.named[self.key]
        return _error_classes(desc["name"], desc["doc"], types.module, [f["name"] for f in desc["fields"]], None)

    def stub_error(self, w: _StubContext) -> List[str]:
        desc = w.named[self.key]
        fields = [(f["name"], _kind(f["type"]).stub(w.named, False)) for f in desc["fields"]]
        return _stub_error(w, self.key, fields, None)


class _EnumKind(_NamedKind):
    """An ``#[export]`` field-less enum: an ``enum.IntEnum``, crossing as
    its ``#[repr]`` integer."""

    kind = "enum"

    def make_class(self, types: _Types) -> Any:
        desc = types.named[self.key]
        cls: Any = enum.IntEnum(desc["name"], [(n, v) for n, v in desc["variants"]])  # type: ignore[misc]
        cls.__doc__ = desc["doc"] or f"The Rust enum `{desc['name']}`."
        return cls

    def stub(self, named: _NamedDescs, param: bool) -> str:
        name = named.ref(self.key)
        return f"{name} | int" if param else name

    def c_type(self, types: _Types) -> Any:
        return _PRIMS[types.named[self.key]["repr"]].ctype

    def reader(self, types: _Types) -> _Reader:
        return types.classes[self.key]  # type: ignore[no-any-return]

    def writer(self, types: _Types) -> _Writer:
        cls = types.classes[self.key]
        rust = types.named[self.key]["name"]

        def write_enum(v: Any, keep: Optional[List[Any]], where: str) -> int:
            if isinstance(v, cls):
                return int(v)
            if isinstance(v, enum.Enum) or isinstance(v, (bool, float)) or not hasattr(v, "__index__"):
                raise TypeError(f"{where} ({rust}) must be a {cls.__qualname__} or its int value, not {_type_name(v)}")
            try:
                return int(cls(operator.index(v)))
            except ValueError:
                valid = ", ".join(f"{m.name}={m.value}" for m in cls)
                raise ValueError(f"{where} ({rust}): {v} is not a {rust} (variants: {valid})") from None

        return write_enum

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        w.ns[f"_fx_w_{p}"] = self.writer(w.types)
        w.body.append(f"{p} = _fx_w_{p}({p}, None, {where!r})")
        w.argtypes.append(self.c_type(w.types))
        w.cargs.append(p)

    def c_define(self, h: _HeaderContext) -> str:
        desc = h.named[self.key]
        name = self.c_name(h.named)
        # C enumerators are ints: larger discriminants become #defines
        # (integer literals, which cffi's cdef also accepts).
        small = [(v, n) for v, n in desc["variants"] if -2**31 <= n < 2**31]
        large = [(v, n) for v, n in desc["variants"] if not -2**31 <= n < 2**31]
        values = ",\n".join(f"    {name}_{variant} = {value}" for variant, value in small)
        block = (f"{h.comment(desc['doc'])}/* enum {desc['name']}: its #[repr] integer; other values are refused. */\n"
                 f"typedef {_PRIMS[desc['repr']].c} {name};")
        if small:
            block += f"\nenum {{\n{values}\n}};"
        for variant, value in large:
            suffix = "" if h.cdef else ("ULL" if value > 0 else "LL")
            block += f"\n#define {name}_{variant} {value}{suffix}"
        return block

    def stub_define(self, w: _StubContext) -> List[str]:
        desc = w.named[self.key]
        lines = [f"class {_class_name(w.named, self.key)}(enum.IntEnum):", *w.doc(desc["doc"], "    ")]
        lines += [f"    {variant} = {value}" for variant, value in desc["variants"]]
        return lines + w.protocols(self.key, "    ")

    def default(self, value: Any, types: _Types) -> Any:
        cls = types.classes[self.key]
        if isinstance(value, dict) and value.get("variant") in cls.__members__:
            return cls[value["variant"]]
        return super().default(value, types)

    def error_class(self, types: _Types) -> Type[FfiError]:
        desc = types.named[self.key]
        return _error_classes(desc["name"], desc["doc"], types.module, [],
                              [(variant, []) for variant, _ in desc["variants"]])

    def stub_error(self, w: _StubContext) -> List[str]:
        desc = w.named[self.key]
        ref = w.named.ref(self.key)
        return _stub_error(w, self.key, [], [(variant, f"Literal[{ref}.{variant}]", [])
                                             for variant, _ in desc["variants"]])

    def c_error(self, h: _HeaderContext) -> str:
        desc = h.named[self.key]
        name = desc["name"]
        # The variant's index (what FfiError.variant reports; the value
        # holds the discriminant).
        tags = ",\n".join(f"    {name}_{variant}_tag = {index}" for index, (variant, _) in enumerate(desc["variants"]))
        h.define_block(f"{name}_tags", f"/* {name} as an error: FfiError.variant is the variant's index. */\n"
                                        f"enum {{\n{tags}\n}};")
        return (f"{super().c_error(h)};\n"
                f" * FfiError.variant is one of {name}_<Variant>_tag (the value is the discriminant)")


class _DataEnumKind(_NamedKind):
    """An ``#[export]`` enum with data: a class with one subclass per
    variant, crossing as a tagged union (by pointer as a parameter)."""

    kind = "data_enum"

    def finish_class(self, types: _Types) -> None:
        """A real ``__init__`` for each variant (its fields, typed)."""
        cls = types.classes[self.key]
        for variant in types.named[self.key]["variants"]:
            _record_init(getattr(cls, variant["name"]), variant["fields"], types, zero=False)

    def make_class(self, types: _Types) -> Any:
        desc = types.named[self.key]
        cls = type(desc["name"], (_Record,), {"__slots__": (), "__doc__": desc["doc"] or None})
        for tag, variant in enumerate(desc["variants"]):
            fields = tuple(f["name"] for f in variant["fields"])
            sub = type(variant["name"], (cls,), {
                "__slots__": fields, "_fields": fields, "_tag": tag, "__match_args__": fields,
                "__doc__": f"The `{desc['name']}::{variant['name']}` variant.",
            })
            sub.__qualname__ = f"{types.qualname(self.key)}.{variant['name']}"
            types.made.append(sub)
            setattr(cls, variant["name"], sub)
        return cls

    def c_type(self, types: _Types) -> Any:
        if self.key not in types.mirrors:
            desc = types.named[self.key]
            members = []
            for variant in desc["variants"]:
                if variant["fields"]:
                    fields = [(f["name"], _kind(f["type"]).c_type(types)) for f in variant["fields"]]
                    members.append((variant["name"], type(f"{desc['name']}{variant['name']}Repr",
                                                          (ctypes.Structure,), {"_fields_": fields})))
            union = type(f"{desc['name']}Union", (ctypes.Union,), {"_fields_": [*members, ("__none", ctypes.c_uint8)]})
            types.mirrors[self.key] = type(f"{desc['name']}Repr", (ctypes.Structure,),
                                           {"_fields_": [("tag", ctypes.c_uint32), ("data", union)]})
        return types.mirrors[self.key]

    def owns(self, named: _NamedDescs, seen: Set[str]) -> bool:
        if self.key in seen:
            return False
        seen.add(self.key)
        return any(_kind(f["type"]).owns(named, seen) for v in named[self.key]["variants"] for f in v["fields"])

    def reader(self, types: _Types) -> _Reader:
        return lambda r: self.read_variant(types, r)

    def read_variant(self, types: _Types, repr_value: Any) -> Any:
        """The Python value of a tagged union."""
        desc = types.named[self.key]
        variant = desc["variants"][repr_value.tag]
        cls = getattr(types.classes[self.key], variant["name"])
        cache_key = f"readers:{self.key}:{variant['name']}"
        if cache_key not in types.converters:
            types.converters[cache_key] = [(f["name"], _kind(f["type"]).reader(types)) for f in variant["fields"]]
        value = cls.__new__(cls)
        if variant["fields"]:
            member = getattr(repr_value.data, variant["name"])
            for name, read in types.converters[cache_key]:
                object.__setattr__(value, name, read(getattr(member, name)))
        return value

    def writer(self, types: _Types) -> _Writer:
        return lambda v, keep, where: self.write_variant(types, v, keep, where)

    def write_variant(self, types: _Types, value: Any, keep: List[Any], where: str) -> Any:
        """The tagged union of a variant."""
        base = types.classes[self.key]
        desc = types.named[self.key]
        if not isinstance(value, base) or type(value) is base:
            variants = ", ".join(f"{base.__qualname__}.{v['name']}" for v in desc["variants"])
            raise TypeError(f"{where} must be one of {variants}, not {_type_name(value)}")
        variant = desc["variants"][type(value)._tag]
        cache_key = f"writers:{self.key}:{variant['name']}"
        if cache_key not in types.converters:
            types.converters[cache_key] = [(f["name"], _kind(f["type"]).writer(types)) for f in variant["fields"]]
        mirror = self.c_type(types)()
        mirror.tag = type(value)._tag
        if variant["fields"]:
            member = getattr(mirror.data, variant["name"])
            for name, write in types.converters[cache_key]:
                setattr(member, name, write(getattr(value, name), keep, f"{where}.{name}"))
        return mirror

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        w.by_pointer(p, where, self, box=False)

    def c_name(self, named: _NamedDescs) -> str:
        return f"{named.c_names[self.key]}_repr"

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        return [(f"const {self.c_form(h)} *{p}", f"{rust}: copied in, not NULL")]

    def c_define(self, h: _HeaderContext) -> str:
        desc = h.named[self.key]
        name = h.named.c_names[self.key]
        c_name = self.c_name(h.named)
        members = []
        tags = []
        for index, variant in enumerate(desc["variants"]):
            tags.append(f"    {name}_{variant['name']}_tag = {index}")
            if not variant["fields"]:
                continue
            vname = f"{name}_{variant['name']}_repr"
            kinds = [(f["name"], _kind(f["type"])) for f in variant["fields"]]
            fields = "".join(f"    {kind.c_form(h)} {field}; /* {kind.rust(h.named)} */\n" for field, kind in kinds)
            h.add(f"typedef struct {vname} {{\n{fields}}} {vname};")
            members.append(f"        {vname} {variant['name']};\n")
        tag_list = ",\n".join(tags)
        return (f"{h.comment(desc['doc'])}/* enum {desc['name']} with data: tag selects the live member of data\n"
                " * (unknown tags are refused). */\n"
                f"enum {{\n{tag_list}\n}};\n"
                f"typedef struct {c_name} {{\n    uint32_t tag;\n    union {{\n{''.join(members)}"
                f"        uint8_t none_;\n    }} data;\n}} {c_name};")

    def stub_define(self, w: _StubContext) -> List[str]:
        desc = w.named[self.key]
        name = desc["name"]
        lines = [f"class {_class_name(w.named, self.key)}(_Record):", *w.doc(desc["doc"], "    ")]
        for variant in desc["variants"]:
            lines.append(f"    class {variant['name']}({w.named.ref(self.key)}):")
            lines.append(f'        """The `{name}::{variant["name"]}` variant."""')
            fields = [(f["name"], _kind(f["type"]).stub(w.named, False)) for f in variant["fields"]]
            lines += [f"        {field}: {ty}" for field, ty in fields]
            lines.append(f"        __match_args__ = {_match_args(fields)}")
            defaulted = _defaulted_fields(variant["fields"], False)
            args = "".join(f", {field}: {ty}{' = ...' if field in defaulted else ''}" for field, ty in fields)
            lines.append(f"        def __init__(self{args}) -> None: ...")
        return lines + w.protocols(self.key, "    ")

    def default(self, value: Any, types: _Types) -> Any:
        variant = getattr(types.classes[self.key], str(value.get("variant")), None) if isinstance(value, dict) else None
        if variant is None or variant._fields:
            return super().default(value, types)
        return variant()

    def error_class(self, types: _Types) -> Type[FfiError]:
        desc = types.named[self.key]
        return _error_classes(desc["name"], desc["doc"], types.module, [],
                              [(v["name"], [f["name"] for f in v["fields"]]) for v in desc["variants"]])

    def stub_error(self, w: _StubContext) -> List[str]:
        desc = w.named[self.key]
        ref = w.named.ref(self.key)
        variants = [(v["name"], f"{ref}.{v['name']}", [(f["name"], _kind(f["type"]).stub(w.named, False))
                                                          for f in v["fields"]])
                    for v in desc["variants"]]
        return _stub_error(w, self.key, [], variants)

    def c_error(self, h: _HeaderContext) -> str:
        name = h.named[self.key]["name"]
        return f"{super().c_error(h)};\n * FfiError.variant is its tag, one of {name}_<Variant>_tag"


class _TraitKind(_NamedKind):
    """An ``#[export]`` trait taken as ``Box<dyn T>`` / ``Arc<dyn T>``: any
    Python object with its methods, lent to Rust as an ``FfiForeign`` until
    Rust drops it. ``lib.T`` is a base class naming the methods (optional:
    any object with them will do)."""

    kind = "trait"
    runs_python = True

    def make_class(self, types: _Types) -> Any:
        desc = types.named[self.key]
        return type(desc["name"], (), {"__slots__": (), "__doc__": desc["doc"] or None,
                                       "_ffi_methods": tuple(m["name"] for m in desc["methods"])})

    def rust(self, named: _NamedDescs) -> str:
        return f"dyn {super().rust(named)}"

    def python_type(self, types: _Types) -> Any:
        return Any

    def c_type(self, types: _Types) -> Any:
        return _FfiForeign

    def writer(self, types: _Types) -> _Writer:
        desc = types.named[self.key]
        rust = self.rust(types.named)
        names = [str(m["name"]) for m in desc["methods"]]
        invokers: List[_Invoke] = []
        rust_impl = types.classes.get(desc["object"]["key"]) if "object" in desc else None

        def write_trait(v: Any, keep: List[Any], where: str) -> _FfiForeign:
            if rust_impl is not None and isinstance(v, rust_impl):
                # A Rust implementation passed back: Rust takes it from its
                # handle (NULL functions), without a detour through Python.
                if not v._handle:
                    raise _closed_error(v)
                keep.append(v)
                return _FfiForeign(None, None, None, v._handle)
            for name in names:
                if not callable(getattr(v, name, None)):
                    raise TypeError(f"{where} ({rust}): {_type_name(v)} has no method {name!r} "
                                    f"(a {rust} needs {', '.join(names)})")
            if not invokers:
                for m in desc["methods"]:
                    invokers.append(_invoker(m["name"], [_kind(q["type"]) for q in m["params"]], _kind(m["returns"]),
                                             types, f"{desc['name']}.{m['name']}"))
            return _lend(v, invokers, rust, keep)

        return write_trait

    def reader(self, types: _Types) -> _Reader:
        desc = types.named[self.key]
        rust = self.rust(types.named)
        rust_impl = types.classes[desc["object"]["key"]]

        def read_trait(raw: _FfiForeign) -> Any:
            return _read_foreign(raw, rust, rust_impl._from_handle, None)

        return read_trait

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        _bind_lent(self, w, p, where)

    def c_define(self, h: _HeaderContext) -> str:
        desc = h.named[self.key]
        lines = []
        for number, m in enumerate(desc["methods"]):
            args = ", ".join(f"{_kind(q['type']).c_form(h)} {q['name']}" for q in m["params"]) or "no arguments"
            ret = _kind(m["returns"])
            err = ret.error_kind()
            err_text = f"; on Err write a {err.c_form(h)} to *err and return 1" if err is not None else (
                "; on Err write a FfiBuffer (UTF-8) to *err and return 1" if ret.error() else "")
            ok_text = "nothing to write" if ret.ok().unit else f"write a {ret.ok().c_form(h)} to *ok"
            lines.append(f" *   {number}: {m['name']}({args}) -> {ok_text}{err_text}")
        name = self.c_name(h.named)
        return (f"{h.comment(desc['doc'])}/* The trait {desc['name']}, implemented by the caller: an FfiForeign whose\n"
                f" * call(context, method, args, ok, err, message) runs, by method number (args[i] points to\n"
                f" * argument i's C form, owned by Rust for the call):\n" + "\n".join(lines) +
                "\n * returning 0 (or 2 after writing a UTF-8 failure message). What it writes stays valid until\n"
                " * the same thread's next call on the object (Rust reads it at once: it never sets\n"
                " * FFI_EXPORT_CALL_HELD). Rust calls retain(context) when it keeps the object\n"
                " * and release(context) once when it drops it, from any thread. */\n"
                f"typedef FfiForeign {name};")

    def stub_define(self, w: _StubContext) -> List[str]:
        desc = w.named[self.key]
        lines = [f"class {_class_name(w.named, self.key)}(Protocol):", *w.doc(desc["doc"], "    ")]
        for m in desc["methods"]:
            params = "".join(f", {q['name']}: {_kind(q['type']).stub(w.named, False)}" for q in m["params"])
            ret = _kind(m["returns"]).ok()
            lines.append(f"    def {m['name']}(self{params}) -> {'None' if ret.unit else ret.stub(w.named, True)}: ...")
        return lines


class _ObjectKind(_NamedKind):
    """An ``#[export] impl`` type: a class holding a checked ``u64`` handle
    of the Rust value, freed once (``close``, ``with``, or collection)."""

    kind = "object"

    def make_class(self, types: _Types) -> Any:
        desc = types.named[self.key]
        return type(desc["name"], (_Object,), {"__slots__": (), "__doc__": desc["doc"] or None})

    def c_type(self, types: _Types) -> Any:
        return ctypes.c_uint64

    def reader(self, types: _Types) -> _Reader:
        return types.classes[self.key]._from_handle  # type: ignore[no-any-return]

    def writer(self, types: _Types) -> _Writer:
        return self.handle_writer(types, self.kind == "object")

    def handle_writer(self, types: _Types, moves: bool) -> _Writer:
        """Turns an object into its handle; ``moves``: the object is passed
        by value (moved into Rust), so the call closes it once it took it."""
        cls = types.classes[self.key]

        def write_object(v: Any, keep: Optional[List[Any]], where: str) -> int:
            if not isinstance(v, cls):
                raise TypeError(f"{where} must be a {cls.__qualname__}, not {_type_name(v)}")
            handle = v._handle
            if not handle:
                raise _closed_error(v, where)
            if keep is not None:
                # Alive until the call returns: its collection would release
                # the handle (an object made on the fly, in a generator).
                keep.append(_MovedArg(v, where) if moves else v)
            return handle  # type: ignore[no-any-return]

        return write_object

    def bind_param(self, w: _Wrapper, p: str, where: str, rust: str) -> None:
        # `&T`, `&mut T` and `Arc<T>` alike: the object's handle, which the
        # library checks (live, of this type, not aliased by a `&mut`).
        # (`p` stays bound: the object, and its handle, live until the call
        # returns even when the caller passed a temporary.) `T` by value:
        # moved, so listed in the call's `_fx_keep` for closing.
        moves = self.kind == "object" and not rust.startswith("&")
        w.ns[f"_fx_w_{p}"] = self.handle_writer(w.types, moves)
        if moves:
            w.keep_list = True
        w.body.append(f"_fx_a_{p} = _fx_w_{p}({p}, {'_fx_keep' if moves else 'None'}, {where!r})")
        w.argtypes.append(ctypes.c_uint64)
        w.cargs.append(f"_fx_a_{p}")

    def c_params(self, h: _HeaderContext, p: str, rust: str) -> List[Tuple[str, str]]:
        if self.kind == "object" and not rust.startswith("&"):
            return [(f"{self.c_form(h)} {p}", f"{rust}: a live handle, moved into the call (consumed, unless it "
                                              "fails and ffi_export_object_live(handle) holds)")]
        return [(f"{self.c_form(h)} {p}", f"{rust}: a live handle, checked (stale or foreign: InvalidArgument)")]

    def link(self, types: _Types, cdll: ctypes.CDLL) -> None:
        """Gives the class the library's free of the type."""
        free = cdll[types.named[self.key]["free"]]
        free.argtypes = [ctypes.c_uint64]
        free.restype = None
        types.classes[self.key]._ffi_free = free

    def c_name(self, named: _NamedDescs) -> str:
        # Named after the prefix of its symbols (`#[export(name = "Prefix")]`
        # on the impl, else the type's name), which is unique in the library.
        desc = named[self.key]
        free = str(desc["free"])
        prefix = free[:-len("_free")] if free.endswith("_free") else str(desc["name"])
        return f"{prefix}_handle"

    def c_define(self, h: _HeaderContext) -> str:
        desc = h.named[self.key]
        return (f"{h.comment(desc['doc'])}/* A {desc['name']} living in Rust, named by a checked handle (0 = none).\n"
                f" * Free it exactly once with {desc['free']}(handle); stale handles are refused.\n"
                f" * A handle passed by value ({desc['name']}, not &{desc['name']}) is consumed by the call\n"
                f" * (after a failure, unless ffi_export_object_live(handle) says it is still live);\n"
                f" * freeing it afterwards is a no-op. */\n"
                f"typedef uint64_t {self.c_name(h.named)};")

    def c_declarations(self, h: _HeaderContext) -> List[str]:
        desc = h.named[self.key]
        return [f"/* Drops the {desc['name']} behind handle; 0 and freed handles are no-ops. */\n"
                f"void {desc['free']}({self.c_name(h.named)} handle);"]

    def stub_define(self, w: _StubContext) -> List[str]:
        desc = w.named[self.key]
        return [f"class {_class_name(w.named, self.key)}(_Object):", *w.doc(desc["doc"], "    "),
                *w.members(self.key, desc["name"]), *w.protocols(self.key, "    ")]


class _SharedKind(_ObjectKind):
    """``Arc<T>`` of an ``#[export] impl`` type (``{"kind": "shared", "key":
    ...}``): the same class and handle as ``T``, spelled ``Arc<T>`` (a value
    Python and Rust hold at once)."""

    kind = "shared"

    def rust(self, named: _NamedDescs) -> str:
        return f"Arc<{super().rust(named)}>"


def _install_property(cls: Any, prop: _Desc, function: Callable[..., Any]) -> None:
    """Makes (or completes) the property ``prop["name"]`` of an object class
    from its getter or setter method (``#[export(getter)]``/``(setter)``).
    A value the setter cannot take raises the setter's ``TypeError`` or
    ``OverflowError`` naming the property; a property without a setter is
    read-only (``AttributeError`` on assignment)."""
    name = prop["name"]
    current = cls.__dict__.get(name)
    fget = current.fget if isinstance(current, property) else None
    fset = current.fset if isinstance(current, property) else None
    if prop["setter"]:
        def fset(self: Any, value: Any) -> None:
            try:
                function(self, value)
            except (TypeError, OverflowError) as error:
                if type(error) not in (TypeError, OverflowError):
                    raise
                raise type(error)(f"property {cls.__qualname__}.{name}: {error}") from None

        fset.__qualname__ = f"{cls.__qualname__}.{name}"
    else:
        fget = function
        # Where it is found: the property's `fget`.
        function.__qualname__ = f"{cls.__qualname__}.{name}.fget"
    doc = fget.__doc__ if fget is not None else None
    setattr(cls, name, property(fget, fset, None, doc))


class RustIterator:
    """A Rust iterator an export returned (``impl Iterator<Item = T>``): a
    Python iterator reading its items lazily, in chunks (the first call
    reads one item, each later one twice as many as the one before, up to
    ``chunk``: 256 unless set), so a loop that stops early has read ahead
    at most as many items as it used. The Rust iterator is dropped exactly once: when
    it is exhausted, on ``close()``, at the end of a ``with`` block, or when
    this object is collected (a ``break``, an exception in the loop body).
    ``next()`` after ``close()`` raises ``ValueError``; after the end,
    ``StopIteration`` (as every exhausted iterator). Threads may share
    one: each item goes to one of them. A ``Result`` item's
    error is raised at that item; a panic in Rust's ``next`` raises
    ``RustPanic``, and the iterator is unusable from then on."""

    __slots__ = ("__weakref__", "_closed", "_free", "_handle", "_items", "_lock", "_next", "_want", "chunk")

    def __init__(self, handle: int, next_: Callable[[int, int], Any], free: Callable[[int], None]) -> None:
        self._handle = handle
        self._next = next_
        self._free = free
        self._items: Iterator[Any] = iter(())
        self._want = 1
        self._closed = False
        # Re-entrant: a Python function Rust calls inside ``next`` may read
        # this iterator again (the library refuses that read, not a lock).
        self._lock = threading.RLock()
        #: The most items one crossing reads (1: one crossing per item).
        self.chunk = 256

    def __iter__(self) -> RustIterator:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._items)
        except StopIteration:
            return self._refill()

    def _refill(self) -> Any:
        # One thread at a time reads a chunk, and the others then take
        # from it: no chunk is replaced while items remain in it.
        with self._lock:
            for item in self._items:
                return item
            handle = self._handle
            if not handle:
                if self._closed:
                    raise ValueError("this iterator is closed") from None
                raise StopIteration
            want = self._want
            self._want = min(want * 2, self.chunk)
            # (A list's iterator: the fast path's `__next__` reads it. The
            # fast path reads chunks as lists; the ctypes path as arrays.)
            chunk = self._next(handle, min(want, self.chunk))
            items = iter(chunk if type(chunk) is list else list(chunk))
            self._items = items
            for item in items:
                return item
            self._drop()
            raise StopIteration

    def _drop(self) -> None:
        handle = self._handle
        if handle:
            self._handle = 0
            self._free(handle)

    def close(self) -> None:
        """Drops the Rust iterator now (and the items read ahead); a later
        ``next()`` raises ``ValueError``. Closing twice is harmless."""
        self._items = iter(())
        self._closed = True
        self._drop()

    @property
    def closed(self) -> bool:
        """Whether it was closed (an exhausted iterator is not closed)."""
        return self._closed

    def __enter__(self) -> RustIterator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self._drop()
        except Exception:  # noqa: BLE001 - interpreter shutdown: nothing to report to
            pass

    def __reduce__(self) -> Any:
        raise TypeError("cannot pickle a RustIterator: it reads a Rust iterator; pickle list(it)")

    def __repr__(self) -> str:
        state = "closed" if self._closed else "exhausted" if not self._handle else f"handle {self._handle}"
        return f"<RustIterator ({state})>"


class _IterKind(_Kind):
    """An iterator result (``{"item": T, "chunk": .., "next": .., "free": ..}``):
    a ``u64`` handle of the Rust iterator, read by the ``next`` export in
    chunks (``Vec<T>``, or ``Result<Vec<T>, E>`` for ``Result`` items) and
    dropped by the ``free`` export; a :class:`RustIterator` in Python."""

    kind = "iterator"

    def __init__(self, desc: _Desc) -> None:
        self.desc = desc
        self.item = _kind(desc["item"])
        self.chunk_kind = _kind(desc["chunk"])

    def rust(self, named: _NamedDescs) -> str:
        return f"impl Iterator<Item = {self.item_rust(named)}>"

    def item_rust(self, named: _NamedDescs) -> str:
        """The item's Rust spelling (``Result<T, E>`` for fallible items)."""
        error = self.chunk_kind.error()
        item = self.item.rust(named)
        return item if error is None else f"Result<{item}, {error}>"

    def python_type(self, types: _Types) -> Any:
        return Iterator[self.item.python_type(types)]  # type: ignore[misc]

    def results(self) -> List[_Kind]:
        # The items' error type gets its classes in ``lib.errors``.
        return [self, self.chunk_kind]

    def stub_return(self, named: _NamedDescs, free: bool) -> str:
        return f"RustIterator[{self.item.stub(named, False)}]"

    def c_companions(self, h: _HeaderContext) -> List[str]:
        desc = self.desc
        chunk = self.chunk_kind.c_form(h)
        error = self.chunk_kind.error()
        err = (f"\n * An Err item ({error}): returns the Ok items before it; the next call returns an empty\n"
               f" * buffer with error code 1 (ffi_export_error_take), then the items after it.") if error else ""
        item = self.item.rust(h.named)
        lines = [f"/* The next items (at most max; 0 counts as 1) of an iterator {desc['next'][:-len('_iter_next')]}\n"
                 f" * returned, as a buffer of {item}'s C form; an empty buffer at the end. A panic poisons\n"
                 f" * the iterator (error code 2, on later calls too); a stale handle: error code 3.{err} */",
                 f"{chunk} {desc['next']}(uint64_t iter, size_t max);"]
        if desc.get("next_free"):
            lines.append(f"/* Frees what {desc['next']} returned, exactly once (NULL: a no-op). */\n"
                         f"void {desc['next_free']}({chunk} *value);")
        lines.append(f"/* Drops the iterator exactly once, exhausted or not; 0 and stale handles are no-ops. */\n"
                     f"void {desc['free']}(uint64_t iter);")
        return lines

    def stub(self, named: _NamedDescs, param: bool) -> str:
        return f"Iterator[{self.item.stub(named, False)}]"

    def c_type(self, types: _Types) -> Any:
        return ctypes.c_uint64

    def bind_return(self, w: _Wrapper, free: Optional[str]) -> Tuple[Any, str]:
        desc = self.desc
        u64, usize = {"kind": "scalar", "name": "u64"}, {"kind": "scalar", "name": "usize"}
        next_ = w.binder.bind({
            "name": desc["next"], "rust_name": "next", "module": "", "doc": "", "owner": None,
            # (Read natively into a list where the library has a fast
            # function for it: plain items of a type with a native form.)
            "kind": "function", "fast": True, "batch": None, "free": desc["next_free"], "returns": desc["chunk"],
            "copied": True,
            "params": [{"name": "iter", "type": u64}, {"name": "max", "type": usize}],
        })
        drop = w.cdll[desc["free"]]
        drop.argtypes = [ctypes.c_uint64]
        drop.restype = None
        w.ns["_fx_iter"] = RustIterator
        w.ns["_fx_iter_next"] = next_
        w.ns["_fx_iter_free"] = drop
        return ctypes.c_uint64, "_fx_iter(_fx_r, _fx_iter_next, _fx_iter_free)"

    def c_form(self, h: _HeaderContext) -> str:
        self.chunk_kind.c_form(h)
        return "uint64_t"


# ---------------------------------------------------------------------------
# Signatures (docstrings here; stubs, headers and `describe` in the tools)


def _rust_name(export: _Desc) -> str:
    """The Rust name of an export's function: ``area`` for
    ``#[export(name = "sprites_area")] fn area``, ``get`` for the method
    ``Counter_get`` (a library older than ``rust_name``: the C name, less
    the object's prefix)."""
    if "rust_name" in export:
        return str(export["rust_name"])
    name = str(export["name"])
    if export["owner"]:
        return name[len(str(export["owner"]["key"]).rsplit("::", 1)[-1]) + 1:]
    return name


def _param_rust(param: _Desc, named: _NamedDescs) -> str:
    """A parameter's Rust type as written: ``&Person`` for a borrowed record,
    ``&mut Counter`` for an object borrowed exclusively."""
    borrow = ("&mut " if param.get("mutable") else "&") if param.get("borrowed") else ""
    return borrow + _kind(param["type"]).rust(named)


def _signature(export: _Desc, named: _NamedDescs) -> str:
    """An export's Rust signature: ``fn name(params) -> ret``."""
    params = [f"{p['name']}: {_param_rust(p, named)}" for p in export["params"]]
    if export["owner"]:
        receiver = _receiver(export)
        params = ([receiver] if receiver else []) + params
    signature = f"{'async ' if export.get('finish') else ''}fn {_rust_name(export)}({', '.join(params)})"
    returns = _kind(export["returns"])
    if not returns.unit:
        signature += f" -> {returns.rust(named)}"
    return signature


def _docstring(export: _Desc, named: _NamedDescs) -> str:
    """An export's doc comment followed by its Rust signature."""
    signature = f"Rust: ``{_signature(export, named)}``"
    doc = export["doc"].strip()
    return f"{doc}\n\n{signature}" if doc else signature


# ---------------------------------------------------------------------------
# The CPython fast path (see ffi-export-runtime/src/python.rs)

class _NativeMaker(Protocol):
    """What ``_fast_path_maker`` returns: it makes the native function of
    an export (called), and the native dunders of object classes."""

    def __call__(self, name: str, slow: Callable[..., Any], names: List[str], defaults: List[Any],
                 method: bool = False) -> Any: ...

    def constructor(self, name: str, slow: Callable[..., Any], names: List[str], defaults: List[Any],
                    key: str) -> Any: ...

    def slot(self, key: str, which: int, slow: Callable[..., Any]) -> Any: ...

    def protocol(self, name: str, slow: Callable[..., Any], names: List[str], defaults: List[Any], key: str,
                 others: int) -> Any: ...


def _fast_path_maker(cdll: ctypes.CDLL, raise_fault: Callable[..., None],
                     error_class: Callable[[str], type]) -> Optional[_NativeMaker]:
    """Turns on the library's CPython fast path, or returns None where it
    cannot be used (another Python implementation, a debug build, or
    ``FFI_EXPORT_NO_FAST=1``).

    The library lists the objects and C-API functions it needs
    (``ffi_export_python_api``, one line each, in the order of its table),
    so the table is built from that list and cannot drift from it.
    ``raise_fault`` raises what the library does not raise itself (see
    ``_Binder.raise_fault``); ``error_class(name)`` is the class of a
    Rust error type, which the library asks once per type and keeps."""
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
        make = cdll["ffi_export_python_native"]
        make_method = cdll["ffi_export_python_native_method"]
        make_constructor = cdll["ffi_export_python_constructor"]
        make_slot = cdll["ffi_export_python_object_slot"]
        make_protocol = cdll["ffi_export_python_protocol_method"]
        make_next = cdll["ffi_export_python_iterator_next"]
    except AttributeError:
        return None
    layout_fn.restype = ctypes.c_char_p
    layout_fn.argtypes = []
    objects = {"int": int, "float": float, "str": str, "list": list, "tuple": tuple, "dict": dict,
               "True": True, "False": False, "None": None,
               "raise_fault": raise_fault, "error_class": error_class, "RustPanic": RustPanic,
               "InvalidArgument": InvalidArgument, "foreign_failures": _foreign_failures,
               "Object": _Object, "callback_result": _native_callback_result,
               "SystemError": SystemError, "NotImplemented": NotImplemented,
               "list_iterator": type(iter([]))}
    values: List[Tuple[str, int]] = []
    for line in layout_fn().decode("ascii").splitlines():
        role, _, name = line.partition(" ")
        if role == "object" and name in objects:
            values.append((f"o_{name}", id(objects[name])))
        elif role == "function" and hasattr(ctypes.pythonapi, name):
            values.append((name, _address(getattr(ctypes.pythonapi, name))))
        else:  # a role this helper does not know, or a missing entry point: keep ctypes
            return None
    table_type: Any = type("_PyApi", (ctypes.Structure,), {
        "_fields_": [("size", ctypes.c_size_t)] + [(name, ctypes.c_void_p) for name, _ in values]})
    api = table_type(ctypes.sizeof(table_type), *[value for _, value in values])
    # Called with the GIL held: these functions use the C API.
    init_fn = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.POINTER(table_type))(_address(init))
    if init_fn(ctypes.byref(api)) != 1:
        return None
    make_fn = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_char_p, ctypes.py_object, ctypes.py_object,
                                ctypes.py_object)(_address(make))
    make_method_fn = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_char_p, ctypes.py_object, ctypes.py_object,
                                       ctypes.py_object, ctypes.c_ssize_t)(_address(make_method))
    make_constructor_fn = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_char_p, ctypes.py_object, ctypes.py_object,
                                            ctypes.py_object, ctypes.c_char_p,
                                            ctypes.py_object)(_address(make_constructor))
    make_slot_fn = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_char_p, ctypes.c_int,
                                     ctypes.py_object)(_address(make_slot))
    make_protocol_fn = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_char_p, ctypes.py_object, ctypes.py_object,
                                         ctypes.py_object, ctypes.c_ssize_t, ctypes.c_char_p,
                                         ctypes.c_uint32)(_address(make_protocol))
    _fast_keepalive.append((raise_fault, error_class, init_fn, make_fn, make_method_fn, make_constructor_fn,
                            make_slot_fn, make_protocol_fn))
    _install_native_next(ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object, ctypes.c_ssize_t, ctypes.c_ssize_t,
                                           ctypes.py_object)(_address(make_next)))
    handle_offset = _handle_offset()

    def native(name: str, slow: Callable[..., Any], names: List[str], defaults: List[Any],
               method: bool = False) -> Any:
        """The native function of export ``name`` (None if it has none):
        parameters ``names`` (keywords are matched by identity, so they are
        interned), the last ``len(defaults)`` with those defaults. A
        ``method`` is called as ``(self, params...)`` and reads the handle
        from ``self`` itself (``names`` then start with ``self`` and the
        handle's)."""
        interned, given = tuple(sys.intern(n) for n in names), tuple(defaults)
        if method:
            if handle_offset is None:
                return None
            function = make_method_fn(name.encode(), slow, interned, given, handle_offset)
        else:
            function = make_fn(name.encode(), slow, interned, given)
        if function is not None:
            _finish_native_type(type(function))
        return function

    def constructor(name: str, slow: Callable[..., Any], names: List[str], defaults: List[Any],
                    key: str) -> Any:
        """The native ``__new__`` of the registered object class ``key``,
        calling the constructor export ``name`` (parameters as for
        ``native``); ``slow(params...)`` returns a fresh instance or raises
        the ctypes path's error, and a subclass gets ``_Object.__new__``.
        None if there is none."""
        interned, given = tuple(sys.intern(n) for n in names), tuple(defaults)
        return make_constructor_fn(name.encode(), slow, interned, given, key.encode(), _Object.__new__)

    def slot(key: str, which: int, slow: Callable[..., Any]) -> Any:
        """The native ``__init__`` (``which`` 0) or ``__del__`` (1) of the
        registered object class ``key``, handing what it does not do
        itself to ``slow``; None if there is none."""
        return make_slot_fn(key.encode(), which, slow)

    def protocol(name: str, slow: Callable[..., Any], names: List[str], defaults: List[Any], key: str,
                 others: int) -> Any:
        """The native method ``name`` of the registered object class
        ``key`` (as ``native(..., method=True)``) whose parameters after
        ``self`` marked in the bits of ``others`` are other instances of
        the class, passed as their handles; another type is
        ``NotImplemented``. None if there is none."""
        if handle_offset is None:
            return None
        interned, given = tuple(sys.intern(n) for n in names), tuple(defaults)
        function = make_protocol_fn(name.encode(), slow, interned, given, handle_offset, key.encode(), others)
        if function is not None:
            _finish_native_type(type(function))
        return function

    native.protocol = protocol  # type: ignore[attr-defined]
    native.constructor = constructor  # type: ignore[attr-defined]
    native.slot = slot  # type: ignore[attr-defined]
    return cast(_NativeMaker, native)


def _native_callback_result(rust: str, value: Any) -> Any:
    """The result ``value`` of a Python function a native trampoline called
    for a ``Callback`` returning the primitive ``rust``, checked as the
    ctypes path checks it (the same errors), as an exact ``int``, ``float``
    or ``bool`` the library reads itself. Only asked for results that are
    not already of the exact type."""
    prim = _PRIMS[rust]
    checked = prim.writer()(value, [], "the callback's result")
    return prim.py_type(checked)


def _install_native_next(make_next: Callable[..., Any]) -> None:
    """Makes ``RustIterator.__next__`` native (once per process, by the
    first library with the fast path): it returns the next item read ahead
    without a Python frame and hands everything else to the Python
    ``__next__``, which reads the next chunk."""
    slow = RustIterator.__dict__["__next__"]
    if type(slow).__name__ == "native_function":
        return
    offsets = _slot_offsets(RustIterator, ["_items"])
    if offsets is None:
        return
    function = make_next(RustIterator, offsets[0], RustIterator.__basicsize__, slow)
    if function is None:
        return
    _finish_native_type(type(function))
    function.__name__ = "__next__"
    function.__qualname__ = "RustIterator.__next__"
    function.__doc__ = slow.__doc__
    function.__wrapped__ = slow
    _fast_keepalive.append(make_next)
    RustIterator.__next__ = function  # type: ignore[method-assign]


def _handle_offset() -> Optional[int]:
    """Where the ``_handle`` slot of an ``_Object`` instance (and so of an
    instance of any subclass, whose layout extends it) is, in bytes from
    its start; None if it cannot be found exactly."""
    offsets = _slot_offsets(_Object, ["_handle"])
    return None if offsets is None else offsets[0]


def _slot_offsets(cls: Any, names: Sequence[str]) -> Optional[List[int]]:
    """Where the ``__slots__`` attributes ``names`` of ``cls``'s instances
    are, in bytes from an instance's start: each found by storing marker
    objects there and looking for their address among the instance's
    pointer-sized words (only the instance's own memory is read). None if
    one cannot be found exactly once."""
    step = ctypes.sizeof(ctypes.c_void_p)
    probe = object.__new__(cls)
    words = range(2 * step, cls.__basicsize__ - step + 1, step)
    offsets = []
    try:
        for name in names:
            found = []
            for marker in (object(), object()):
                object.__setattr__(probe, name, marker)
                found.append({offset for offset in words
                              if ctypes.c_void_p.from_address(id(probe) + offset).value == id(marker)})
            # (A slot holding 0 is what an unset or closed handle is.)
            object.__setattr__(probe, name, 0)
            both = found[0] & found[1]
            if len(both) != 1:
                return None
            offsets.append(both.pop())
    except (AttributeError, TypeError):  # not a slot of the class (a name Python mangles)
        return None
    return offsets


def _register_records(cdll: ctypes.CDLL, types: _Types, slot: Callable[[str, int, Callable[..., Any]], Any]) -> None:
    """Registers the classes of every (not plain-data) record, every
    field-less enum and every object type with the library's fast path,
    which then reads and builds their instances itself: a record's class
    and its fields' slot offsets in field order
    (``ffi_export_python_record``), an enum's class and its members in
    variant order (``ffi_export_python_enum``), an object's class and its
    ``_handle``, ``_id`` and ``_fresh`` slot offsets
    (``ffi_export_python_object``; its ``__del__`` becomes the native one
    ``slot`` makes). A class that cannot be measured is not registered,
    and exports using it keep their ctypes wrappers."""
    try:
        record_address = _address(cdll["ffi_export_python_record"])
        enum_address = _address(cdll["ffi_export_python_enum"])
        object_address = _address(cdll["ffi_export_python_object"])
    except AttributeError:
        return
    register_object = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.py_object, ctypes.c_ssize_t,
                                        ctypes.c_ssize_t, ctypes.c_ssize_t, ctypes.c_ssize_t)(object_address)
    register_record = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.py_object,
                                        ctypes.POINTER(ctypes.c_ssize_t), ctypes.c_size_t,
                                        ctypes.c_ssize_t)(record_address)
    register_enum = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.py_object,
                                      ctypes.py_object)(enum_address)
    for key, kind in types.kinds.items():
        desc = types.named[key]
        cls = types.classes[key]
        if isinstance(kind, _EnumKind):
            register_enum(key.encode(), cls, tuple(cls[name] for name, _ in desc["variants"]))
            continue
        if isinstance(kind, _ObjectKind) and kind.kind == "object":
            slots = _slot_offsets(cls, ["_handle", "_id", "_fresh"])
            if slots is not None and register_object(key.encode(), cls, *slots, cls.__basicsize__) == 1:
                finalizer = slot(key, 1, _Object.__del__)
                if finalizer is not None:
                    finalizer.__name__ = "__del__"
                    finalizer.__qualname__ = f"{cls.__qualname__}.__del__"
                    cls.__del__ = finalizer
            continue
        if not isinstance(kind, _RecordKind) or desc["pod"]:
            continue
        offsets = _slot_offsets(cls, [f["name"] for f in desc["fields"]])
        if offsets is None:
            continue
        array = (ctypes.c_ssize_t * max(len(offsets), 1))(*offsets)
        register_record(key.encode(), cls, array, len(offsets), cls.__basicsize__)


def _refuse_new(cls: Any, *args: Any, **kwargs: Any) -> Any:
    raise TypeError(f"cannot create '{cls.__module__}.{cls.__qualname__}' instances: load a library instead")


def _finish_native_type(cls: Any) -> None:
    """Makes the native function type behave like a function: it cannot be
    instantiated from Python (only the library makes its objects), and
    ``copy``/``deepcopy`` return the function itself, pickling refers to it
    by name, and its ``repr`` is a function's (as the ctypes path's is)."""
    if "__copy__" not in cls.__dict__:
        cls.__new__ = _refuse_new
        cls.__copy__ = lambda self: self
        cls.__deepcopy__ = lambda self, memo: self
        cls.__reduce__ = lambda self: self.__qualname__
        cls.__repr__ = lambda self: f"<function {self.__qualname__} at {id(self):#x}>"


#: Objects the Rust side holds pointers to: they live as long as the process.
_fast_keepalive: List[Any] = []


def _address(function: Any) -> int:
    """The address of a C function."""
    return ctypes.cast(function, ctypes.c_void_p).value or 0


# ---------------------------------------------------------------------------
# `async fn` exports (see ffi-export-runtime/src/task.rs)

#: Tasks being awaited: the number passed as ``on_done``'s context -> what
#: wakes the waiting coroutine.
_waiting: Dict[int, Callable[[], object]] = {}
_task_numbers = itertools.count(1)


class _Starting(threading.local):
    """The task this thread is starting (its context number), and whether
    it ended inside its own start call (a future ready at its first poll)."""

    context = 0
    done = False


_starting = _Starting()


def _task_done(context: Optional[int], waiting: Dict[int, Callable[[], object]] = _waiting,
               starting: _Starting = _starting) -> None:
    """``on_done`` of every task the helper starts: runs on a library
    executor thread (ctypes takes the GIL), inside the start call itself
    when the future was ready at its first poll (then it only marks the
    task done: the coroutine reads the result without waiting), or inside
    ``ffi_export_task_cancel``. Otherwise only schedules the wake-up on the
    awaiting loop; a task nobody awaits any more (cancelled, or its loop
    closed) is ignored. ``waiting`` and ``starting`` are bound at
    definition so that a late call during interpreter shutdown still finds
    them."""
    if context is not None and context == starting.context:
        # Marked first: whatever runs between here and the start call's
        # return (a signal handler) cannot leave the coroutine waiting.
        starting.done = True
        waiting.pop(context, None)
        return
    wake = waiting.pop(context or 0, None)
    if wake is None:
        return
    try:
        wake()
    except RuntimeError:  # the loop was closed meanwhile: nobody waits
        pass


_TaskDone = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
#: One C function pointer for every task. Executor threads may call it
#: until the process ends, even while the interpreter finalizes: it holds an
#: extra reference so it is never freed.
_TASK_DONE = _TaskDone(_task_done)
if hasattr(ctypes, "pythonapi"):  # CPython (PyPy has no C-level refcount to hold)
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(_TASK_DONE))


def _resolve(future: Any) -> None:
    """Marks an awaited task's loop future done (on the loop's thread)."""
    if not future.done():
        future.set_result(None)


async def _await_task(start: Callable[[int], int], finish: Callable[[int], Any],
                      cancel: Callable[[int], bool]) -> Any:
    """Runs one call of an ``async fn`` export: ``start(context)`` converts
    the arguments and starts the task, the coroutine waits (without
    blocking the loop) until ``on_done``, then ``finish(task)`` reads the
    result or raises its error. Cancelling the coroutine (``task.cancel()``,
    a timeout, closing it) cancels the Rust task: its future is dropped."""
    import asyncio  # noqa: PLC0415 - only async exports need it

    loop = asyncio.get_running_loop()
    future = loop.create_future()
    context = next(_task_numbers)
    _waiting[context] = lambda: loop.call_soon_threadsafe(_resolve, future)
    outer = _starting.context, _starting.done  # a start inside a start's first poll
    _starting.context, _starting.done = context, False
    task = 0
    try:
        task = start(context)
        ready = _starting.done
    except BaseException:
        _waiting.pop(context, None)
        if task:  # started, then interrupted (a signal handler raising)
            cancel(task)
        raise
    finally:
        _starting.context, _starting.done = outer
    if ready:  # ended at its first poll, inside the start call: nothing to wait for
        return finish(task)
    # A coroutine abandoned without being closed (its loop closed, the task
    # collected in a reference cycle — PyPy never closes those) still
    # cancels the Rust task: when the future it waited for is collected.
    abandoned = weakref.finalize(future, _abandon, context, task, cancel)
    abandoned.atexit = False
    try:
        await future
    except BaseException:
        abandoned.detach()
        _waiting.pop(context, None)
        cancel(task)
        raise
    abandoned.detach()
    return finish(task)


def _abandon(context: int, task: int, cancel: Callable[[int], bool]) -> None:
    """Cancels the task of a collected, never-closed ``_await_task``."""
    _waiting.pop(context, None)
    cancel(task)


# ---------------------------------------------------------------------------
# Binding


def _python_name(name: str, taken: Set[str]) -> str:
    """A Rust parameter name as a Python identifier."""
    while keyword.iskeyword(name) or name in taken or name.startswith("_fx_"):
        name += "_"
    return name


class _Wrapper:
    """One export's generated wrapper while it is made: what the kinds of
    its parameters and result add (lines, ``argtypes``, C arguments, names,
    the namespace the source runs in)."""

    def __init__(self, name: str, binder: _Binder, per_call: bool) -> None:
        self.name = name
        self.binder = binder
        self.types = binder.types
        self.cdll = binder.cdll
        #: Python code runs during the call (callbacks, the allocator): the
        #: wrapper numbers the call (``_fx_call``, see ``_call_failures``).
        self.per_call = per_call
        self.ns: Dict[str, Any] = {
            "_fx_faults": binder.faults,
            "_fx_raise": binder.raise_since,
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
        self.argtypes: List[Any] = []
        self.body: List[str] = []
        self.cargs: List[str] = []
        self.names: List[str] = []
        #: Default values of parameters (``#[ffi(default = ..)]``), by name.
        self.defaults: Dict[str, Any] = {}
        self.annotations: Dict[str, Any] = {}
        #: A ``_fx_keep`` list holds what converted arguments point into.
        self.keep_list = False
        #: The allocator parameter, if any.
        self.allocator: Optional[str] = None
        #: Slice parameters: (name, element size, mutable).
        self.lent: List[Tuple[str, int, bool]] = []

    def signature(self) -> str:
        """The def's parameter list: names, defaults as ``_fx_d_<name>``."""
        return ", ".join(f"{p}=_fx_d_{p}" if p in self.defaults else p for p in self.names)

    def by_pointer(self, p: str, where: str, kind: _Kind, box: bool) -> None:
        """Passes ``p`` as a pointer to ``kind``'s C form (records, enums with
        data; ``box``: ``Option<T>``, NULL for None)."""
        self.keep_list = True
        self.ns[f"_fx_w_{p}"] = kind.writer(self.types)
        repr_type = kind.c_type(self.types)
        self.argtypes.append(ctypes.POINTER(repr_type))
        converted = f"_fx_w_{p}({p}, _fx_keep, {where!r})"
        if box:
            self.ns[f"_fx_box_{p}"] = _boxer(repr_type)
            converted = f"None if {p} is None else _fx_box_{p}({converted})"
        self.body.append(f"_fx_a_{p} = {converted}")
        self.cargs.append(f"_fx_a_{p}")

    def free(self, name: Optional[str], restype: Any) -> Any:
        """The paired free ``name`` of an owned result, as ``_fx_free``."""
        if not name:
            return None
        free = self.cdll[name]
        free.argtypes = [ctypes.POINTER(restype)]
        free.restype = None
        self.ns["_fx_free"] = free
        return free


class _Binder:
    """Generates one specialised Python function per export, once, at load."""

    def __init__(self, library: Library, cdll: ctypes.CDLL, types: _Types) -> None:
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
        live = cdll["ffi_export_object_live"]
        live.argtypes = [ctypes.c_uint64]
        live.restype = ctypes.c_bool
        self.object_live = live
        cancel = cdll["ffi_export_task_cancel"]
        cancel.argtypes = [ctypes.c_uint64]
        cancel.restype = ctypes.c_bool
        self.cancel_task = cancel
        self.fast = _fast_path_maker(cdll, self.raise_fault, library._error_class)
        if self.fast is not None:
            _register_records(cdll, types, self.fast.slot)
        self._keeping_gil: Optional[ctypes.CDLL] = None

    def keeping_gil(self) -> ctypes.CDLL:
        """The library as a ``ctypes.PyDLL`` (same handle): its functions
        keep the GIL held during the call, for ``#[export(keep_gil)]``
        exports on the ctypes path (the fast path keeps it itself). PyPy's
        ctypes has no ``PyDLL`` (and releases its GIL around every foreign
        call): there it is the library as loaded."""
        if self._keeping_gil is None:
            pydll = getattr(ctypes, "PyDLL", None)
            self._keeping_gil = self.cdll if pydll is None else pydll(self.cdll._name, handle=self.cdll._handle)
        return self._keeping_gil

    def raise_since(self, since: int, receiver: Any = None, call: Optional[int] = None,
                    error_type: Optional[str] = None, moved: Optional[Tuple[List[Any], str]] = None) -> None:
        """Raises the error of this thread's call made after the fault
        counter read ``since``, if that call failed (the counter also moves
        when another thread fails: then there is nothing to raise).
        ``error_type`` is the key of the export's ``#[export]`` error type,
        if it has one.

        Python code that ran since the call (finalizers, signal handlers,
        other exports) cannot hide or replace that error: the library keeps
        each failure under its own number until it is taken.

        ``moved``: the call's ``_fx_keep`` and its function's name, when it
        moves objects into Rust: unless the call refused its arguments
        (``InvalidArgument``: nothing was moved), the objects the library no
        longer holds were taken (the function ran, then failed or
        panicked), so they are closed; the others (a call failing before
        its function ran, on a poisoned receiver) stay open."""
        error = _FfiError()
        if not self.take_error(since, error):
            return
        if moved is not None and error.code != _CODE_INVALID:
            _close_moved(*moved, live=self.object_live)
        try:
            message = ctypes.string_at(error.message.ptr, error.message.len).decode("utf-8", "replace")
            name = ctypes.string_at(error.type_name.ptr, error.type_name.len).decode("utf-8", "replace")
            # The error value is read (copied) while raising, before the
            # library frees it with the rest of the error.
            self.raise_fault(error.code, name, message, receiver, error.variant, error.value or 0, error_type, call)
        finally:
            self.free_error(error)

    def raise_fault(self, code: int, name: str, message: str, receiver: Any = None, variant: int = -1,
                    value: int = 0, error_type: Optional[str] = None, call: Optional[int] = None) -> None:
        """Raises the Python exception for a failed call: ``RustPanic``,
        ``InvalidArgument``, the callback's own exception, or
        ``lib.errors.<name>``. The native fast path calls this too (with
        the failure it already took), so both paths raise the same classes.
        ``receiver`` is a method's ``self``: a call that failed because the
        object was closed meanwhile (by another thread) raises the same
        ``ValueError`` as a call on a closed object. An ``Err`` of an
        ``#[export]`` type ``error_type`` (its key) comes with its variant's
        index and the address of its C form, lent for this call only: it is
        copied into the exception (``lib.errors.<name>.<Variant>``)."""
        pending = _call_failures.pop(call, None) if call is not None else None
        if code == _CODE_CALLBACK and pending is not None:
            raise pending
        if code == _CODE_INVALID and isinstance(receiver, _Object) and receiver.closed:
            raise _closed_error(receiver) from None
        exc: FfiError
        cause: Optional[BaseException] = None
        if code == _CODE_PANIC:
            exc = RustPanic(message)
            # The exception of a Python method Rust called on this thread,
            # when the panic carries its text (Rust panicked with it).
            cause = _foreign_failures.pop(threading.get_ident(), None)
            if cause is not None and f"{type(cause).__name__}" not in message:
                cause = None
        elif code == _CODE_INVALID:
            exc = InvalidArgument(message)
        elif code == _CODE_CALLBACK:
            exc = FfiError(message)
        elif value and error_type in self.library._typed_errors:
            kind = self.types.kinds[error_type]
            exc = _error_exception(self.library._typed_errors[error_type], message, variant,
                                   kind.read_at(self.types, value))
        else:
            exc = self.library._error_class(name)(message)
        # A callback that raised while Rust was already failing: shown as the
        # context of the error the call ended with.
        exc.__context__ = pending
        if pending is not None and sys.exc_info()[1] is not None:
            # Inside an `except` block `raise` would replace that context
            # with the exception being handled (which is already the
            # callback exception's own context): raise from within a
            # handler of the callback's exception instead, leaving the
            # exception itself as it was.
            context, traceback = pending.__context__, pending.__traceback__
            try:
                raise pending
            except BaseException:  # noqa: BLE001 - it is `pending`, caught to become the context
                pending.__context__, pending.__traceback__ = context, traceback
                if cause is not None:
                    raise exc from cause
                raise exc  # noqa: B904 - the context is meant to be `pending`
        if cause is not None:
            raise exc from cause
        raise exc

    def bind(self, export: _Desc) -> Callable[..., Any]:
        """The Python function of one export: a generated ctypes wrapper (or
        the native fast path, which hands it what it does not take)."""
        name = export["name"]
        types = self.types
        try:
            params = [(param["name"], _kind(param["type"])) for param in export["params"]]
            result = _kind(export["returns"])
            defaults = [kind.default(param["default"], types) if "default" in param else _NO_DEFAULT
                        for param, (_, kind) in zip(export["params"], params)]
        except LoadError as error:
            raise LoadError(f"{name}: {error}") from None
        error_kind = result.error_kind()
        error_type = None if error_kind is None else error_kind.key
        cfunc = self.cdll[name] if not export.get("keep_gil") else self.keeping_gil()[name]
        # Callbacks and the allocator run Python code during the call and
        # report their exceptions to it.
        per_call = any(kind.runs_python for _, kind in params)
        w = _Wrapper(name, self, per_call)
        w.ns["_fx_cfn"] = cfunc
        taken: Set[str] = set()
        method = _receiver(export) is not None
        if method:
            w.names.append("self")
            taken.add("self")
            w.ns["_fx_closed"] = _closed_error
            w.body.append("_fx_h = getattr(self, '_handle', 0)")
            w.body.append("if not _fx_h: raise _fx_closed(self)")
            w.argtypes.append(ctypes.c_uint64)
            w.cargs.append("_fx_h")
        for param, (param_name, kind), default in zip(export["params"], params, defaults):
            p = _python_name(param_name, taken)
            taken.add(p)
            w.names.append(p)
            if default is not _NO_DEFAULT:
                w.defaults[p] = default
            w.annotations[p] = kind.python_type(types)
            kind.bind_param(w, p, f"argument '{p}'", _param_rust(param, types.named))
        # Objects passed by value are moved into Rust: closed after the call.
        moves = any(not param.get("borrowed") and _moves_objects(param["type"], types.named, set())
                    for param in export["params"])
        if moves:
            w.keep_list = True
        if w.keep_list:
            w.body.insert(0, "_fx_keep = []")
        # An `async fn`: this def starts the task (`_fx_ctx` names it to
        # `on_done`), `finish` reads its result like a blocking call.
        finish = self._finish(export) if export.get("finish") else None
        if finish is not None:
            w.argtypes += [_TaskDone, ctypes.c_void_p]
            w.cargs += ["_fx_done", "_fx_ctx"]
            w.ns["_fx_done"] = _TASK_DONE
            cfunc.argtypes = w.argtypes
            cfunc.restype = ctypes.c_uint64
            returns = "_fx_r"
            w.annotations["return"] = result.python_type(types)
        else:
            cfunc.argtypes = w.argtypes
            cfunc.restype, returns = self._return(w, export, result)
        if w.allocator is not None:
            # Outputs must not overlap the buffers this call lends to Rust.
            for p, size, _ in w.lent:
                w.body.append(f"_fx_out.borrow(_fx_o_{p}, _fx_n_{p} * {size})")
            # Outputs come back from the call: the allocator is keyword-only
            # and optional, and the result is the outputs (with the value).
            w.names += ["*", f"{w.allocator}=None"]
            annotation = w.annotations["return"]
            w.annotations["return"] = List[Any] if annotation is None else Tuple[annotation, List[Any]]
            returns = "_fx_out.finish()" if returns == "None" else f"({returns}, _fx_out.finish())"
        receiver = "self" if method else "None"
        moved, close_moved = "None", []
        if moves:
            owner = export["owner"]
            label = _rust_name(export)
            if owner:
                label = f"{types.named[owner['key']]['name']}.{label}"
            w.ns["_fx_moved"] = _close_moved
            moved = f"(_fx_keep, {label!r})"
            close_moved = [f"_fx_moved(_fx_keep, {label!r})"]
        write_back = ["_fx_write_back(_fx_backs)"] if per_call and any(m for _, _, m in w.lent) else []
        if write_back:
            w.ns["_fx_write_back"] = _write_back
            w.body.insert(0, "_fx_backs = []")
        elif per_call:
            w.body.insert(0, "_fx_backs = None")
        lines = [
            *w.body,
            "_fx_n = _fx_faults.value",
            f"_fx_r = _fx_cfn({', '.join(w.cargs)})",
            *write_back,
            f"if _fx_faults.value != _fx_n: _fx_raise(_fx_n, {receiver}, {'_fx_call' if per_call else 'None'}, "
            f"{error_type!r}{', ' + moved if moves else ''})",
            *close_moved,
            f"return {returns}",
        ]
        w.ns.update({f"_fx_d_{p}": value for p, value in w.defaults.items()})
        source = [f"def {name}({'_fx_ctx, ' if finish is not None else ''}{w.signature()}):"]
        if per_call:
            w.ns["_fx_number"] = _call_numbers.__next__
            w.ns["_fx_failures"] = _call_failures
            source += ["    _fx_call = _fx_number()", "    try:"]
            source += [f"        {line}" for line in lines]
            source += ["    finally:", "        _fx_failures.pop(_fx_call, None)"]
        else:
            source += [f"    {line}" for line in lines]
        exec("\n".join(source), w.ns)  # noqa: S102 - generated from the library's own description
        function = w.ns[name]
        if finish is not None:
            async_ns = {"_fx_start": function, "_fx_finish": finish, "_fx_cancel": self.cancel_task,
                        "_fx_await": _await_task, **{f"_fx_d_{p}": value for p, value in w.defaults.items()}}
            start = f"lambda _fx_ctx: _fx_start(_fx_ctx, {', '.join(w.names)})"
            exec(f"async def {name}({w.signature()}):\n"  # noqa: S102 - from the library's description
                 f"    return await _fx_await({start}, _fx_finish, _fx_cancel)", async_ns)
            function = async_ns[name]
        fast = None
        if self.fast is not None and export.get("fast"):
            defaults = [w.defaults[p] for p in w.names if p in w.defaults]
            if method:
                # Called as `(self, params...)`; the handle is read from
                # `self`'s slot in Rust and passed on second.
                fast = self.fast(name, function, ["self", "_fx_h", *w.names[1:]], defaults, method=True)
            else:
                fast = self.fast(name, function, w.names, defaults)
                if fast is not None and _constructs(export):
                    # For the class's native `__new__` (`_Library._install`).
                    fast._ffi_params = (name, w.names, defaults)
        others = [p for p, param in zip(w.names[1:], export["params"]) if param.get("borrowed")]
        if fast is not None and method and _is_protocol(export) and others and self.fast is not None:
            # An object's comparison (`eq`, `cmp`) is its dunder: natively,
            # the other operand's handle is read from its slot, and another
            # type is `NotImplemented`.
            mask = sum(1 << index for index, p in enumerate(w.names[1:]) if p in others)
            dunder = self.fast.protocol(name, function, ["self", "_fx_h", *w.names[1:]],
                                        [w.defaults[p] for p in w.names if p in w.defaults],
                                        export["owner"]["key"], mask)
            if dunder is not None:
                dunder._ffi_dunder = True
                fast = dunder
        if fast is not None and method and _is_protocol(export) and others and not getattr(fast, "_ffi_dunder", 0):
            # An object's comparison (`eq`, `cmp`) is its dunder: another
            # type is `NotImplemented`, and the other object's handle is read
            # here and passed to the native method as a number.
            # (A subclass instance is one of the type, as on the ctypes path.)
            fast_ns = {"_fx_fast": fast, "_fx_handle": _open_handle, "_fx_cls": types.classes[export["owner"]["key"]],
                       **{f"_fx_d_{p}": value for p, value in w.defaults.items()}}
            check = "".join(f"    if not isinstance({p}, _fx_cls): return NotImplemented\n" for p in others)
            forwarded = ", ".join(["self", *[f"_fx_handle({p}, \"argument {p!r}\")" if p in others else p
                                            for p in w.names[1:]]])
            exec(f"def {name}({w.signature()}):\n{check}    return _fx_fast({forwarded})", fast_ns)  # noqa: S102
            fast.__wrapped__ = function
            function = fast_ns[name]
            function._ffi_dunder = True
            fast = None
        if fast is not None:
            # The native function is the attribute (a method's binds to its
            # object like a Python function): CPython calls it with
            # vectorcall; it binds keywords and defaults itself and hands
            # anything else to `function`, the fully checking ctypes wrapper,
            # which is also its `__wrapped__` (the signature `inspect` shows).
            fast.__wrapped__ = function
            fast.__name__ = name
        # The wrapper is named as the native function is: Python's errors
        # for the signature name it (`Counter.add() missing ...`).
        for named in (function, fast) if fast is not None else (function,):
            named.__doc__ = _docstring(export, types.named)
            named.__module__ = self.library._module_name
            named.__qualname__ = name
            if export["owner"]:
                named.__name__ = _rust_name(export)
                named.__qualname__ = f"{types.qualname(export['owner']['key'])}.{named.__name__}"
            named.__annotations__ = w.annotations
        function = fast if fast is not None else function
        if export.get("batch"):
            function.map = self._batch(export)
        return function  # type: ignore[no-any-return]

    def _finish(self, export: _Desc) -> Callable[..., Any]:
        """``<name>_finish(task)`` of an ``async fn`` export, bound like a
        blocking export of the same result (errors, frees, typed errors)."""
        return self.bind(dict(export, name=export["finish"], kind="function", owner=None, fast=False,
                              batch=None, finish=None,
                              params=[{"name": "task", "type": {"kind": "scalar", "name": "u64"}}]))

    def _return(self, w: _Wrapper, export: _Desc, kind: _Kind) -> Tuple[Any, str]:
        """``(restype, return expression over _fx_r)`` of a result of type
        ``kind``; sets the return annotation."""
        ok = kind.ok()
        if ok.owns(self.types.named, set()) and not export["free"]:
            raise LoadError(f"{export['name']} returns {ok.rust(self.types.named)}, which owns memory, "
                            "but the library names no free for it")
        w.annotations["return"] = kind.python_type(self.types)
        if export.get("copied"):
            # An iterator's chunk: read into a list and freed at once.
            return _Kind.bind_return(ok, w, export["free"])
        return ok.bind_return(w, export["free"])

    def _batch(self, export: _Desc) -> Callable[..., Any]:
        """``f.map(*arrays)``: the function over whole arrays in one call
        (``#[export(batch)]``). Each argument is a buffer (all of the same
        length) or a single value used for every element; the result is a
        numpy array when numpy inputs were given, else an ``array.array``."""
        types = self.types

        def number(kind: _Kind) -> _Prim:
            if not isinstance(kind, _ScalarKind):
                raise LoadError(f"{export['name']}: a batch over {kind.rust(types.named)}")
            return kind.prim

        params = export["params"]
        names = [p["name"] for p in params]
        kinds = [_kind(p["type"]) for p in params]
        elems = [number(kind) for kind in kinds]
        writers = [kind.writer(types) for kind in kinds]
        returns = _kind(export["returns"])
        ret_elem = number(returns.ok()).name
        error_kind = returns.error_kind()
        error_type = None if error_kind is None else error_kind.key
        cfunc = self.cdll[export["batch"]]
        argtypes: List[Any] = [ctypes.c_size_t, *[ctypes.c_void_p, ctypes.c_size_t] * len(params), ctypes.c_void_p]
        cfunc.argtypes = argtypes
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
                scalar = type(value).__module__ == "numpy" and not hasattr(value, "__len__")
                if isinstance(value, (int, float)) or scalar:
                    box = elem.ctype(write(value, keep, f"argument '{name}'"))
                    keep.append(box)
                    flat += [ctypes.addressof(box), 0]
                    continue
                use_numpy = use_numpy or type(value).__module__ == "numpy"
                address, count, anchor = _buffer(value, f"argument '{name}'", elem.name, False)
                keep.append(anchor)
                if length is not None and count != length:
                    raise ValueError(f"{export['name']}.map: argument '{name}' has {count} elements, "
                                     f"the others {length}")
                length = count
                flat += [address, 1]
            length = 1 if length is None else length
            # Written in full by the batch before it returns; on a failure
            # it is dropped unread.
            out = _numpy_output(ret_elem, length, False) if use_numpy else _array_output(
                "u8" if ret_elem == "bool" else ret_elem, length)
            out_elem = "u8" if ret_elem == "bool" and not use_numpy else ret_elem
            out_address, _, out_anchor = _buffer(out, "the output", out_elem, True)
            before = faults.value
            cfunc(length, *flat, out_address)
            del out_anchor
            if faults.value != before:
                raise_since(before, None, None, error_type)
            return out

        map.__doc__ = f"{export['name']} over whole arrays in one call: see ``map`` in the ffi_export docs."
        return map


def _unbindable(export: _Desc, why: str) -> Callable[..., Any]:
    """Stands in for an export the helper could not bind."""

    def unbound(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{export['name']} cannot be called through this helper: {why}")

    unbound.__name__ = unbound.__qualname__ = export["name"]
    if export["owner"]:
        unbound.__name__ = _rust_name(export)
    return unbound


def _in_main_interpreter() -> bool:
    """Whether this code runs in the process's main interpreter (not a
    subinterpreter, whose exit must not tell the library the process is
    going away). CPython 3.12+ can tell; earlier ones count as main."""
    for name in ("_interpreters", "_xxsubinterpreters"):
        try:
            module: Any = __import__(name)
        except ImportError:
            continue
        return bool(module.get_current() == module.get_main())
    return True


class Library:
    """A loaded ffi-export library: one attribute per exported function (by
    its C name), per type whose name no other type has (``lib.Person``), and
    per Rust module (``lib.geometry``, holding that module's functions, types
    and submodules by Rust name: ``lib.geometry.Spot``, ``lib.geometry.area``).

    ``errors`` holds one :class:`FfiError` subclass per Rust error type the
    exports can return, by short name, e.g. ``lib.errors.ParseIntError``;
    for an ``#[export]`` enum, one subclass of it per variant, e.g.
    ``lib.errors.ArithmeticError.DivisionByZero``. All are made at load.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
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
        # Before the interpreter is torn down, the library's own threads stop
        # calling into it (they park; see `ffi_export_caller_exiting`). The
        # flag is process-wide: only the main interpreter's exit sets it.
        exiting = getattr(cdll, "ffi_export_caller_exiting", None)  # older builds lack it
        if exiting is not None and _in_main_interpreter():
            exiting.restype, exiting.argtypes = None, []
            atexit.register(exiting)
        describe = cdll["ffi_export_describe"]
        describe.restype = ctypes.c_char_p
        describe.argtypes = []
        self._description: _Desc = json.loads(describe().decode("utf-8"))
        try:
            _check_abi_types(self._description.get("abi_types", []))
        except LoadError as error:
            raise LoadError(f"{self.path}: {error}") from None
        #: Every function made for an export (methods included), by C name.
        self._functions: Dict[str, Any] = {}
        self.errors = _pytypes.SimpleNamespace()
        self._types = _Types(self._description.get("types", {}), self._module_name, self._description["exports"])
        named = self._types.named
        #: The exception classes of ``#[export]`` error types, by type key.
        self._typed_errors: Dict[str, Type[FfiError]] = self._types.typed_errors
        self._make_error_classes()
        #: The classes of the library's records, enums and objects, by Rust
        #: name (a name several types share: see their module paths).
        self.types = _TypesNamespace(self, ())
        for key, cls in self._types.classes.items():
            if named[key]["name"] not in named.shared:
                setattr(self.types, named[key]["name"], cls)
        binder = _Binder(self, cdll, self._types)
        self._exports: Dict[str, _Desc] = {}
        #: The protocol shims (``#[export(Eq, Hash, ..)]``) of each type, by
        #: protocol: installed as its class's dunders once all are bound.
        shims: Dict[str, Dict[str, Callable[..., Any]]] = {}
        for export in self._description["exports"]:
            self._exports[export["name"]] = export
            try:
                function = binder.bind(export)
            except LoadError as error:
                # One export this helper cannot bind (e.g. a helper older than
                # the library) must not make the whole library unusable.
                warnings.warn(f"{self.path}: {error}; calling it raises NotImplementedError",
                              RuntimeWarning, stacklevel=2)
                function = _unbindable(export, str(error))
            self._functions[export["name"]] = function
            if export["owner"] and _is_protocol(export):
                shims.setdefault(export["owner"]["key"], {})[_rust_name(export)] = function
            elif export["owner"]:
                self._install(self._types.classes[export["owner"]["key"]], export, function, binder.fast)
        for key, table in shims.items():
            _install_protocols(self._types.classes[key], table)
        for kind in self._types.kinds.values():
            kind.link(self._types, cdll)
        self._populate(named)
        self._rename(self._module_name)
        _mark_values(self)

    def _populate(self, named: _Named) -> None:
        """Gives every function, class and module its names: ``lib.<C name>``
        for functions, the Rust module path for everything
        (``lib.geometry.Spot``), and ``lib.<Rust name>`` for a type whose
        name is its own (see :class:`_Named`)."""
        spaces: Dict[Tuple[str, ...], Any] = {(): self}
        for path in sorted(named.tree, key=len):
            if path:
                spaces[path] = _Namespace(self, path)
        for path, table in named.tree.items():
            for name, (what, value) in table.items():
                if what == "function":
                    setattr(spaces[path], name, self._functions[value["name"]])
                elif what == "type":
                    setattr(spaces[path], name, self._types.classes[value])
                elif what == "module":
                    setattr(spaces[path], name, spaces[value])

    def _rename(self, module: str) -> None:
        """Sets the ``__module__`` of everything the library made (classes,
        variants, functions, exception classes): the module it is reached
        through, the library's file name unless a typed module loads it."""
        self._module_name = module
        self._types.rename(module)
        for function in self._functions.values():
            function.__module__ = module
        for cls in [*vars(self.errors).values(), *(variant for typed in self._typed_errors.values()
                                                     for variant in typed._variants)]:
            cls.__module__ = module

    @staticmethod
    def _install(cls: Any, export: _Desc, function: Callable[..., Any], fast: Optional[Any] = None) -> None:
        """Puts a bound associated function on its object class (a getter or
        setter also makes its property). A ``new`` constructor becomes the
        class's constructor: its ``__init__``, and with the fast path
        (``fast``, the native function maker) a native ``__new__`` and
        ``__init__`` in front of it."""
        name = function.__name__
        if _receiver(export) is not None:
            if export.get("property"):
                # A getter's name is its property's; a setter stays a method.
                _install_property(cls, export["property"], function)
                if export["property"]["setter"]:
                    setattr(cls, name, function)
            else:
                setattr(cls, name, function)
            return
        setattr(cls, name, staticmethod(function))
        if _constructs(export) and name == "new":
            def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
                if getattr(self, "_handle", 0):
                    # A second __init__ would replace (and leak) the Rust value.
                    raise TypeError(f"this {cls.__name__} is already initialised; make a new one")
                made = function(*args, **kwargs)
                if made is None:
                    raise ValueError(f"{cls.__name__}.new returned None")
                self._handle, self._id, made._handle = made._handle, made._id, 0

            signature = inspect.signature(function)
            __init__.__signature__ = signature.replace(  # type: ignore[attr-defined]
                parameters=[inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                            *signature.parameters.values()],
                return_annotation=None,
            )
            __init__.__doc__ = function.__doc__
            __init__.__qualname__ = f"{cls.__qualname__}.__init__"
            cls.__init__ = __init__
            params = getattr(function, "_ffi_params", None)
            if fast is not None and params is not None:
                Library._install_native_constructor(cls, export, params, __init__, fast)

    @staticmethod
    def _install_native_constructor(cls: Any, export: _Desc, params: Tuple[str, List[str], List[Any]],
                                    init: Callable[..., None], fast: Any) -> None:
        """Makes ``cls(...)`` native: its ``__new__`` calls the constructor's
        fast function and returns the instance it builds, marked fresh; its
        ``__init__`` accepts that instance and hands any other call (a
        second ``__init__``, a subclass's instance) to ``init``, the Python
        ``__init__``. Nothing changes if the class is not registered."""
        name, names, defaults = params

        def slow_new(*args: Any, **kwargs: Any) -> Any:
            # The fallback of the native `__new__` (arguments it does not
            # read itself): the ctypes path's checks and errors.
            obj = _Object.__new__(cls)
            init(obj, *args, **kwargs)
            obj._fresh = True
            return obj

        new = fast.constructor(name, slow_new, names, defaults, export["owner"]["key"])
        native_init = fast.slot(export["owner"]["key"], 0, init)
        if new is None or native_init is None:
            return
        for made, method in ((new, "__new__"), (native_init, "__init__")):
            made.__name__ = method
            made.__qualname__ = f"{cls.__qualname__}.{method}"
            made.__doc__ = init.__doc__
            made.__module__ = init.__module__
        native_init.__wrapped__ = init
        new.__wrapped__ = slow_new
        signature = inspect.signature(init)
        cls.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])
        cls.__new__ = new
        cls.__init__ = native_init

    def _make_error_classes(self) -> None:
        """Makes the exception class of every error type an export can
        return: those of ``#[export]`` types (with their variants') first,
        so that such a type owns its short name in ``errors``, then one per
        other name. (An export whose result this helper cannot read makes
        none; binding it reports why.)"""
        results = []
        returns = [export["returns"] for export in self._description["exports"]]
        returns += [method["returns"] for desc in self._description.get("types", {}).values()
                    if desc.get("kind") == "trait" for method in desc["methods"]]
        for returned in returns:
            try:
                results += _kind(returned).results()
            except LoadError:
                continue
        for result in results:
            kind = result.error_kind()
            name = result.error()
            if kind is None or name is None or kind.key in self._typed_errors:
                continue
            if kind.key not in self._types.named:
                continue  # not described: raised by name
            cls = kind.error_class(self._types)
            self._typed_errors[kind.key] = cls
            if getattr(self.errors, name, None) is None:
                setattr(self.errors, name, cls)
        for result in results:
            name = result.error()
            if name is not None:
                self._error_class(name)

    def _error_class(self, name: str) -> type:
        """The exception class for a Rust error type, created once per library."""
        cls = getattr(self.errors, name, None)
        if cls is None:
            cls = type(name, (FfiError,), {"rust_type": name, "__module__": self._module_name,
                                           "__qualname__": f"errors.{name}",
                                           "__doc__": f"The Rust error type `{name}`."})
            setattr(self.errors, name, cls)
        self._types.error_classes.setdefault(name, cls)
        return cls

    @property
    def exports(self) -> Dict[str, _Desc]:
        """The self-description of each export, by name."""
        return dict(self._exports)

    def __getattr__(self, name: str) -> Any:
        # Only called for missing attributes.
        if name.startswith("_"):
            raise AttributeError(name)
        named = self._types.named
        sharing = named.sharing(name)
        if sharing:
            raise AttributeError(f"{name!r} names {len(sharing)} types of {self.path}: {', '.join(sharing)}; "
                                 "reach each by its module path")
        export = self._exports.get(name)
        if export is not None and export["owner"]:
            cls = self._types.classes[export["owner"]["key"]]
            raise AttributeError(f"{name!r} is the C symbol of the method {cls.__qualname__}.{_rust_name(export)}: "
                                 f"call it on lib.{cls.__qualname__}")
        public = sorted(n for n, (what, _) in named.tree[()].items() if what != "reserved")
        raise AttributeError(f"{self.path} exports no function {name!r} (nor a type or module of that name); "
                             f"it exports: {', '.join(public) or 'nothing'}")

    def __repr__(self) -> str:
        return f"<ffi_export.Library {self.path!r}: {len(self._exports)} exports>"


_loaded: Dict[str, Library] = {}
_loading = threading.Lock()


def load(path: str | os.PathLike[str], module: Optional[str] = None) -> Library:
    """Loads the ffi-export library at ``path`` and binds all its exports.

    Loading the same file again returns the same :class:`Library` (the
    process has one copy of the native library either way), so its classes
    and exception types are the same objects everywhere.

    ``module`` names the Python module the library is reached through: the
    ``__module__`` of its classes, functions and exceptions (whose
    ``__qualname__`` is where that module has them: ``Person``,
    ``geometry.Spot``, ``errors.ParseIntError``). The typed module written
    by ``ffi_export_tools.py stubs`` passes its own name; by default it is
    the library's file name (``libmylib``)."""
    key = os.path.realpath(os.fspath(path))
    with _loading:
        library = _loaded.get(key)
        if library is None:
            library = _loaded[key] = Library(path)
        if module is not None and module != library._module_name:
            library._rename(module)
        if sys.version_info < (3, 10) and library._module_name not in sys.modules:
            # `typing.get_type_hints` of 3.9 looks every class's module up
            # in `sys.modules` (3.10+ skips a missing one): the library's
            # classes name its file (`libmylib`), so a module of that name
            # is registered unless one exists (a typed module is one).
            sys.modules[library._module_name] = _module_of(library)
        return library


def _module_of(library: Library) -> _pytypes.ModuleType:
    """A real module named like the ``__module__`` of the library's classes
    that forwards attribute lookups to the library (PEP 562 ``__getattr__``),
    so tools that look a class's module up (``typing``, ``pydoc``) find a
    module with a ``__name__`` and the class in it."""
    # No `__file__`: source tools would read the shared library as Python.
    module = _pytypes.ModuleType(library._module_name, f"The ffi-export library {library.path}.")

    def forward(name: str) -> Any:
        return getattr(library, name)

    module.__getattr__ = forward  # type: ignore[method-assign]
    return module


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


if __name__ == "__main__":
    # The commands live in ffi_export_tools.py, next to this file.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        import ffi_export_tools
    except ImportError as error:
        print(f"ffi_export.py: the commands need ffi_export_tools.py next to this file ({error})", file=sys.stderr)
        raise SystemExit(2) from None
    raise SystemExit(ffi_export_tools.main(sys.argv[1:], "ffi_export.py"))
