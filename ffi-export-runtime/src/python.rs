//! An optional CPython fast path. The C ABI stays the contract; this is an
//! accelerator the Python helper turns on when it runs on CPython.
//!
//! ctypes converts every argument through Python-level machinery (~75 ns
//! each) and the helper adds range checks and the error check on top. For
//! exports whose parameters and results are primitives, `&str`, slices and
//! `String`, `#[export]` also generates a `METH_FASTCALL` function that
//! reads exact Python `int`/`float`/`bool`/`str`/buffer arguments directly
//! with the CPython C API, releases the GIL around the call like ctypes
//! does, and builds the result object. Anything it does not handle exactly
//! (numpy scalars, subclasses, out-of-range values, wrong types, odd
//! buffers) is handed to the helper's ctypes wrapper, which applies the
//! full checks and raises the documented errors — so both paths behave the
//! same.
//!
//! No libpython is linked: the helper passes the addresses of the C-API
//! functions it needs (`ctypes.pythonapi`), checked non-NULL at init.

use crate::abi::{FfiBuffer, FfiCallback, FfiOption};
use crate::callback::{CallbackReturn, CallbackValue};
use crate::data::FfiData;
use crate::describe::TypeDesc;
use crate::status::Fault;
use core::ffi::{c_char, c_int, c_long, c_void};
use core::marker::PhantomData;
use std::sync::OnceLock;

pub use crate::abi::{FastFn, PyObject};

/// `PyObject *`.
pub type Py = *mut PyObject;

/// `Py_buffer` (CPython's layout, part of the stable ABI since 3.11).
#[repr(C)]
pub struct PyBuffer {
    buf: *mut c_void,
    obj: Py,
    len: isize,
    itemsize: isize,
    readonly: c_int,
    ndim: c_int,
    format: *const c_char,
    shape: *mut isize,
    strides: *mut isize,
    suboffsets: *mut isize,
    internal: *mut c_void,
}

/// `PyType_Slot`.
#[repr(C)]
struct PyTypeSlot {
    slot: c_int,
    pfunc: *mut c_void,
}

/// `PyType_Spec`.
#[repr(C)]
pub struct PyTypeSpec {
    name: *const c_char,
    basicsize: c_int,
    itemsize: c_int,
    flags: core::ffi::c_uint,
    slots: *mut PyTypeSlot,
}

/// `PyMemberDef`.
#[repr(C)]
struct PyMemberDef {
    name: *const c_char,
    kind: c_int,
    offset: isize,
    flags: c_int,
    doc: *const c_char,
}

const PY_TP_CALL: c_int = 50;
const PY_TP_DEALLOC: c_int = 52;
const PY_TP_DESCR_GET: c_int = 54;
const PY_TP_DOC: c_int = 56;
const PY_TP_MEMBERS: c_int = 72;
const PY_TPFLAGS_HAVE_VECTORCALL: core::ffi::c_uint = 1 << 11;
const PY_TPFLAGS_HAVE_VERSION_TAG: core::ffi::c_uint = 1 << 18;
/// `Py_TPFLAGS_METHOD_DESCRIPTOR` (3.8+): `f.__get__(obj)(*args)` is
/// `f(obj, *args)`, so CPython calls a method without binding it first.
const PY_TPFLAGS_METHOD_DESCRIPTOR: core::ffi::c_uint = 1 << 17;
const T_PYSSIZET: c_int = 19;
const READONLY: c_int = 1;
const PY_VECTORCALL_ARGUMENTS_OFFSET: usize = 1 << (usize::BITS - 1);
/// The most parameters a native function binds keywords for itself (more
/// go through the helper's wrapper).
const MAX_NATIVE_PARAMS: usize = 16;
const PYBUF_WRITABLE: c_int = 0x0001;
const PYBUF_FORMAT: c_int = 0x0004;
const PYBUF_ND: c_int = 0x0008;
const PYBUF_STRIDES: c_int = 0x0010 | PYBUF_ND;
const PYBUF_C_CONTIGUOUS: c_int = 0x0020 | PYBUF_STRIDES;

/// Declares [`PyApi`] from one list, so the struct, its completeness check
/// and the layout the helper builds its mirror from cannot disagree.
macro_rules! py_api {
    (
        objects { $($object:ident = $role:literal),* $(,)? }
        functions { $($field:ident = $symbol:literal: fn($($arg:ty),*) -> $ret:ty),* $(,)? }
    ) => {
        /// The C-API entry points and objects the fast path uses, filled in
        /// by the Python helper (objects by role, functions from
        /// `ctypes.pythonapi` by symbol) in the order
        /// `ffi_export_python_api()` lists.
        #[repr(C)]
        #[derive(Clone, Copy)]
        pub struct PyApi {
            size: usize,
            $($object: Py,)*
            // `C-unwind`: CPython may end a thread with `pthread_exit` (a
            // forced unwind) inside any of them; see `crate::foreign`.
            $($field: Option<unsafe extern "C-unwind" fn($($arg),*) -> $ret>,)*
        }

        impl PyApi {
            /// Whether the table is of this layout and every entry is set.
            fn complete(&self) -> bool {
                self.size == core::mem::size_of::<PyApi>()
                    $(&& !self.$object.is_null())*
                    $(&& self.$field.is_some())*
            }
        }

        /// The table's layout after `size`, one entry per line: `object
        /// <role>` or `function <C-API symbol>`, NUL-terminated.
        const PY_API_LAYOUT: &str = concat!(
            $("object ", $role, "\n",)*
            $("function ", $symbol, "\n",)*
            "\0"
        );
    };
}

py_api! {
    objects {
        int_type = "int",
        float_type = "float",
        str_type = "str",
        list_type = "list",
        tuple_type = "tuple",
        dict_type = "dict",
        py_true = "True",
        py_false = "False",
        py_none = "None",
        raise_fault = "raise_fault",
        error_class = "error_class",
        rust_panic = "RustPanic",
        invalid_argument = "InvalidArgument",
        foreign_failures = "foreign_failures",
        object_base = "Object",
        callback_result = "callback_result",
        system_error = "SystemError",
        not_implemented = "NotImplemented",
        list_iterator = "list_iterator",
    }
    functions {
        long_as_long_long = "PyLong_AsLongLong": fn(Py) -> i64,
        long_as_unsigned_long_long = "PyLong_AsUnsignedLongLong": fn(Py) -> u64,
        long_from_long_long = "PyLong_FromLongLong": fn(i64) -> Py,
        long_from_unsigned_long_long = "PyLong_FromUnsignedLongLong": fn(u64) -> Py,
        float_from_double = "PyFloat_FromDouble": fn(f64) -> Py,
        bool_from_long = "PyBool_FromLong": fn(c_long) -> Py,
        unicode_as_utf8_and_size = "PyUnicode_AsUTF8AndSize": fn(Py, *mut isize) -> *const c_char,
        unicode_from_string_and_size = "PyUnicode_FromStringAndSize": fn(*const c_char, isize) -> Py,
        err_occurred = "PyErr_Occurred": fn() -> Py,
        err_clear = "PyErr_Clear": fn() -> (),
        eval_save_thread = "PyEval_SaveThread": fn() -> *mut c_void,
        eval_restore_thread = "PyEval_RestoreThread": fn(*mut c_void) -> (),
        // `PyObject_Vectorcall` is not exported before 3.11: calls without
        // keywords go through this, which 3.9+ export, with a NULL dict.
        object_vectorcall_dict = "PyObject_VectorcallDict": fn(Py, *const Py, usize, Py) -> Py,
        dict_new = "PyDict_New": fn() -> Py,
        dict_set_item = "PyDict_SetItem": fn(Py, Py, Py) -> c_int,
        incref = "Py_IncRef": fn(Py) -> (),
        decref = "Py_DecRef": fn(Py) -> (),
        object_get_buffer = "PyObject_GetBuffer": fn(Py, *mut PyBuffer, c_int) -> c_int,
        list_size = "PyList_Size": fn(Py) -> isize,
        list_new = "PyList_New": fn(isize) -> Py,
        bytes_from_string_and_size = "PyBytes_FromStringAndSize": fn(*const c_char, isize) -> Py,
        list_set_item = "PyList_SetItem": fn(Py, isize, Py) -> c_int,
        list_get_item = "PyList_GetItem": fn(Py, isize) -> Py,
        tuple_size = "PyTuple_Size": fn(Py) -> isize,
        tuple_get_item = "PyTuple_GetItem": fn(Py, isize) -> Py,
        dict_next = "PyDict_Next": fn(Py, *mut isize, *mut Py, *mut Py) -> c_int,
        buffer_release = "PyBuffer_Release": fn(*mut PyBuffer) -> (),
        err_set_object = "PyErr_SetObject": fn(Py, Py) -> (),
        type_from_spec = "PyType_FromSpec": fn(*mut PyTypeSpec) -> Py,
        type_generic_alloc = "PyType_GenericAlloc": fn(Py, isize) -> Py,
        object_free = "PyObject_Free": fn(*mut c_void) -> (),
        vectorcall_call = "PyVectorcall_Call": fn(Py, Py, Py) -> Py,
        method_new = "PyMethod_New": fn(Py, Py) -> Py,
        dict_size = "PyDict_Size": fn(Py) -> isize,
        type_is_subtype = "PyType_IsSubtype": fn(Py, Py) -> c_int,
        callable_check = "PyCallable_Check": fn(Py) -> c_int,
        iter_next = "PyIter_Next": fn(Py) -> Py,
        gil_state_ensure = "PyGILState_Ensure": fn() -> c_int,
        gil_state_release = "PyGILState_Release": fn(c_int) -> (),
        // Deprecated since 3.12 in favour of `PyErr_GetRaisedException`
        // (3.12+ only), still exported by every version the helper runs on.
        err_fetch = "PyErr_Fetch": fn(*mut Py, *mut Py, *mut Py) -> (),
        err_restore = "PyErr_Restore": fn(Py, Py, Py) -> (),
        err_normalize_exception = "PyErr_NormalizeException": fn(*mut Py, *mut Py, *mut Py) -> (),
        exception_set_context = "PyException_SetContext": fn(Py, Py) -> (),
        exception_set_traceback = "PyException_SetTraceback": fn(Py, Py) -> c_int,
    }
}

// SAFETY: the pointers are CPython objects and functions that live for the
// whole process; they are only used with the GIL held.
unsafe impl Send for PyApi {}
// SAFETY: as above.
unsafe impl Sync for PyApi {}

static API: OnceLock<PyApi> = OnceLock::new();

/// The exception classes of Rust error types, by short type name (each a
/// strong reference kept for the process, stored as an address).
static ERROR_CLASSES: std::sync::Mutex<Vec<(&'static str, usize)>> =
    std::sync::Mutex::new(Vec::new());

macro_rules! api_call {
    ($api:expr, $field:ident ( $($arg:expr),* )) => {{
        let guard = crate::foreign::HangIfUnwound::arm();
        // SAFETY: `complete()` checked every entry non-NULL before the table
        // was stored. Each call site holds the GIL (a `Python` token exists
        // only inside a function CPython calls, see `python()`, or inside a
        // native callback trampoline after it took the GIL, see
        // `call_native`; `release` borrows it mutably while the GIL is away;
        // `init` and `ffi_export_python_native` are called by the helper
        // with the GIL), except the calls meant to be made without it:
        // PyEval_RestoreThread (`Released::drop`, `call_native`) and
        // PyGILState_Ensure (`call_native`); and passes the arguments the
        // function expects.
        let result = unsafe { ($api.$field.unwrap_unchecked())($($arg),*) };
        guard.disarm();
        result
    }};
}

mod chunks;
mod objects;
mod records;
pub use chunks::{ChunkEntry, ChunkOf, IterNextDesc, NativeChunk, NoNativeChunk, PY_ITER_NEXTS};
pub use objects::{
    build_object, ffi_export_python_constructor, ffi_export_python_iterator_next,
    ffi_export_python_object, ffi_export_python_object_slot, ffi_export_python_protocol_method,
    release_quietly, ObjectCache, ObjectLayout,
};
pub use records::{
    build_record, enum_member, ffi_export_python_enum, ffi_export_python_record, Cache, EnumCache,
    EnumLayout, Layout, LayoutCache, Nested, Readiness, RecordLayout, Registry,
};

/// The layout of the table `ffi_export_python_init` takes, after its
/// `size` field: one line per entry, `object <role>` or `function
/// <C-API symbol>`, in field order. The helper builds its mirror from it.
#[no_mangle]
pub extern "C" fn ffi_export_python_api() -> *const c_char {
    PY_API_LAYOUT.as_ptr().cast()
}

/// Called once by the Python helper with the C-API table. Returns 1 when
/// the fast path is on, 0 when the table is unusable, 2 when an earlier load
/// of this library already turned it on (in both of the latter cases the
/// helper keeps its ctypes wrappers for this load).
///
/// # Safety
/// `api` points to a filled `PyApi` whose pointers are CPython's; the GIL
/// is held.
#[no_mangle]
pub unsafe extern "C" fn ffi_export_python_init(api: *const PyApi) -> c_int {
    // SAFETY: the caller passes NULL or a valid table.
    let Some(api) = (unsafe { api.as_ref() }) else {
        return 0;
    };
    if !api.complete() {
        return 0;
    }
    if API.get().is_some() {
        // Already on for an earlier load of this library: its error classes
        // are wired in, so this load keeps its ctypes wrappers instead.
        return 2;
    }
    // The helper keeps these alive for the process; take references of our
    // own anyway (a late finalizer calling an export must not find a class
    // the module teardown freed).
    for held in [
        api.raise_fault,
        api.error_class,
        api.rust_panic,
        api.invalid_argument,
        api.foreign_failures,
        api.object_base,
        api.callback_result,
        api.system_error,
    ] {
        api_call!(api, incref(held));
    }
    if API.set(*api).is_ok() {
        1
    } else {
        2
    }
}

/// The native function of export `name`: an object of the helper's
/// `native_function` type that CPython calls with `vectorcall`, binding
/// keyword arguments by `names` (interned `str`s, one per parameter) and
/// filling missing trailing arguments from `defaults` itself, then calling
/// the export's fast function with `slow` (the helper's ctypes wrapper,
/// which it falls back to). A call it cannot bind exactly goes to `slow`
/// as it came, so Python's own errors are raised. `None` when `name` has
/// no fast function, NULL with an exception set on failure.
///
/// # Safety
/// `name` is a NUL-terminated string, `slow` a live callable, `names` a
/// tuple of `str` and `defaults` a tuple no longer than it; the GIL is held;
/// `ffi_export_python_init` succeeded.
#[no_mangle]
pub unsafe extern "C" fn ffi_export_python_native(
    name: *const c_char,
    slow: Py,
    names: Py,
    defaults: Py,
) -> Py {
    let Some(api) = API.get() else {
        return core::ptr::null_mut();
    };
    // SAFETY: forwarded contract.
    let wanted = unsafe { core::ffi::CStr::from_ptr(name) };
    let found = crate::describe::EXPORTS
        .iter()
        .find(|export| export.name.as_bytes() == wanted.to_bytes())
        .and_then(|export| export.fast())
        .or_else(|| chunks::iter_next_fast(wanted.to_bytes()));
    let Some(fast) = found else {
        api_call!(api, incref(api.py_none));
        return api.py_none;
    };
    let count = api_call!(api, tuple_size(names));
    let given_defaults = api_call!(api, tuple_size(defaults));
    let required = count - given_defaults;
    if count < 0 || given_defaults < 0 || required < 0 {
        api_call!(api, err_clear());
        api_call!(api, incref(api.py_none));
        return api.py_none;
    }
    new_native_function(
        api,
        NativeParts {
            slow,
            names,
            defaults,
            count,
            required,
            fast: Some(fast),
            role: Role::Function,
            other: core::ptr::null_mut(),
        },
    )
}

/// What a `native_function` is, besides the export it calls.
#[derive(Clone, Copy)]
enum Role {
    /// A free function (or a static method): `fast` over the arguments.
    Function,
    /// A method, called as `(self, params...)`: the handle is read from
    /// `self`'s `_handle` slot and passed second.
    Method(MethodRole),
    /// An object class's `__new__`, called as `(cls, params...)`; see
    /// `objects.rs`.
    New(objects::NewRole),
    /// An object class's `__init__`; see `objects.rs`.
    Init(isize),
    /// An object class's `__del__`; see `objects.rs`.
    Del(&'static objects::ObjectLayout),
    /// `RustIterator.__next__`; see `objects.rs`.
    IterNext(objects::IterRole),
}

/// Where a method finds its handles.
#[derive(Clone, Copy)]
struct MethodRole {
    /// The offset of the `_handle` slot in instances of the helper's
    /// `_Object` (and so of its subclasses).
    handle: isize,
    /// The object's other operands (`other: &Self` of a comparison), one
    /// bit per parameter after `self`, each passed as its handle; and the
    /// class they must be instances of (else the call is `NotImplemented`).
    others: u32,
    class: usize,
}

/// The fields of a new `native_function`.
struct NativeParts {
    slow: Py,
    names: Py,
    defaults: Py,
    count: isize,
    required: isize,
    fast: Option<FastFn>,
    role: Role,
    other: Py,
}

/// A new `native_function` of `parts` (the objects in it are borrowed: it
/// takes references of its own), or NULL with an exception set.
fn new_native_function(api: &PyApi, parts: NativeParts) -> Py {
    let class = native_function_type(api);
    if class.is_null() {
        return class;
    }
    let object = api_call!(api, type_generic_alloc(class, 0));
    if object.is_null() {
        return object;
    }
    for held in [parts.slow, parts.names, parts.defaults, parts.other] {
        if !held.is_null() {
            api_call!(api, incref(held));
        }
    }
    // SAFETY: a new, zeroed object of the `native_function` type, whose
    // basic size is `NativeFunction`'s: its fields are written once here
    // (through raw pointers: the zeroed `role` is not a value yet), before
    // anything else can see it.
    unsafe {
        let this = object.cast::<NativeFunction>();
        core::ptr::addr_of_mut!((*this).vectorcall).write(Some(native_vectorcall));
        core::ptr::addr_of_mut!((*this).slow).write(parts.slow);
        core::ptr::addr_of_mut!((*this).names).write(parts.names);
        core::ptr::addr_of_mut!((*this).defaults).write(parts.defaults);
        core::ptr::addr_of_mut!((*this).count).write(parts.count);
        core::ptr::addr_of_mut!((*this).required).write(parts.required);
        core::ptr::addr_of_mut!((*this).fast).write(parts.fast);
        core::ptr::addr_of_mut!((*this).role).write(parts.role);
        core::ptr::addr_of_mut!((*this).other).write(parts.other);
    }
    object
}

/// The native function of method `name`, to be its class's attribute:
/// as [`ffi_export_python_native`], but called as `(self, params...)`
/// (bound like a Python function) and reading the object's handle itself
/// from `self`'s `_handle` slot at `handle_offset` (measured by the helper
/// on an `_Object`). `names` starts with `self` and a name for the handle;
/// the fast function gets `(self, handle, params...)` as before.
///
/// # Safety
/// As [`ffi_export_python_native`]; `handle_offset` is the offset of the
/// `_handle` slot of the helper's `_Object` instances (a pointer-aligned
/// offset inside their basic size, past the object header).
#[no_mangle]
pub unsafe extern "C" fn ffi_export_python_native_method(
    name: *const c_char,
    slow: Py,
    names: Py,
    defaults: Py,
    handle_offset: isize,
) -> Py {
    let header = core::mem::size_of::<PyObject>() as isize;
    let aligned = handle_offset % core::mem::align_of::<Py>() as isize == 0;
    if handle_offset < header || !aligned {
        return core::ptr::null_mut();
    }
    // SAFETY: forwarded contract.
    let object = unsafe { ffi_export_python_native(name, slow, names, defaults) };
    let Some(api) = API.get() else {
        return object;
    };
    if !object.is_null() && object != api.py_none {
        // SAFETY: a `native_function` just made, seen by nobody else yet.
        unsafe {
            (*object.cast::<NativeFunction>()).role = Role::Method(MethodRole {
                handle: handle_offset,
                others: 0,
                class: 0,
            })
        };
    }
    object
}

/// An instance of the `native_function` type: CPython's object header, then
/// what its `vectorcall` needs. Its `__dict__` holds the metadata the
/// helper sets (`__doc__`, `__name__`, `__wrapped__`...).
#[repr(C)]
struct NativeFunction {
    header: PyObject,
    vectorcall: Option<unsafe extern "C" fn(Py, *const Py, usize, Py) -> Py>,
    dict: Py,
    slow: Py,
    names: Py,
    defaults: Py,
    count: isize,
    required: isize,
    fast: Option<FastFn>,
    /// What the function is (a method reads its handle from `self`).
    role: Role,
    /// `New`: what makes an instance of a subclass; NULL otherwise.
    other: Py,
}

/// The `native_function` type, made on first use (and kept).
static NATIVE_FUNCTION_TYPE: OnceLock<usize> = OnceLock::new();

/// The address of the type's spec (kept for the process).
static NATIVE_FUNCTION_SPEC: OnceLock<usize> = OnceLock::new();

/// The `native_function` type (a new one the first time), or NULL with an
/// exception set.
fn native_function_type(api: &PyApi) -> Py {
    if let Some(&class) = NATIVE_FUNCTION_TYPE.get() {
        return class as Py;
    }
    let members = Box::leak(Box::new([
        PyMemberDef {
            name: c"__vectorcalloffset__".as_ptr(),
            kind: T_PYSSIZET,
            offset: core::mem::offset_of!(NativeFunction, vectorcall) as isize,
            flags: READONLY,
            doc: core::ptr::null(),
        },
        PyMemberDef {
            name: c"__dictoffset__".as_ptr(),
            kind: T_PYSSIZET,
            offset: core::mem::offset_of!(NativeFunction, dict) as isize,
            flags: READONLY,
            doc: core::ptr::null(),
        },
        PyMemberDef {
            name: core::ptr::null(),
            kind: 0,
            offset: 0,
            flags: 0,
            doc: core::ptr::null(),
        },
    ]));
    let call: Option<unsafe extern "C-unwind" fn(Py, Py, Py) -> Py> = api.vectorcall_call;
    let dealloc: unsafe extern "C" fn(Py) = native_dealloc;
    let descr_get: unsafe extern "C" fn(Py, Py, Py) -> Py = native_descr_get;
    let slots = Box::leak(Box::new([
        PyTypeSlot {
            slot: PY_TP_CALL,
            pfunc: call.map_or(core::ptr::null_mut(), |f| f as *mut c_void),
        },
        PyTypeSlot {
            slot: PY_TP_DEALLOC,
            pfunc: dealloc as *mut c_void,
        },
        PyTypeSlot {
            slot: PY_TP_DESCR_GET,
            pfunc: descr_get as *mut c_void,
        },
        PyTypeSlot {
            slot: PY_TP_MEMBERS,
            pfunc: members.as_mut_ptr().cast(),
        },
        PyTypeSlot {
            slot: PY_TP_DOC,
            pfunc: c"An ffi-export function, called natively (see __wrapped__ for its signature)."
                .as_ptr()
                .cast_mut()
                .cast(),
        },
        PyTypeSlot {
            slot: 0,
            pfunc: core::ptr::null_mut(),
        },
    ]));
    let spec = Box::leak(Box::new(PyTypeSpec {
        name: c"ffi_export.native_function".as_ptr(),
        basicsize: core::mem::size_of::<NativeFunction>() as c_int,
        itemsize: 0,
        flags: PY_TPFLAGS_HAVE_VERSION_TAG
            | PY_TPFLAGS_HAVE_VECTORCALL
            | PY_TPFLAGS_METHOD_DESCRIPTOR,
        slots: slots.as_mut_ptr(),
    }));
    // The spec (and through it the slots and members) stays reachable, for
    // the type and for leak checkers.
    let spec: *mut PyTypeSpec = spec;
    let _ = NATIVE_FUNCTION_SPEC.set(spec as usize);
    let class = api_call!(api, type_from_spec(spec));
    if class.is_null() {
        return class;
    }
    // With the GIL held, no other thread is here: this sets it.
    match NATIVE_FUNCTION_TYPE.set(class as usize) {
        Ok(()) => class,
        Err(_) => {
            api_call!(api, decref(class));
            NATIVE_FUNCTION_TYPE
                .get()
                .map_or(core::ptr::null_mut(), |&c| c as Py)
        }
    }
}

/// `tp_descr_get` of `native_function`: like a Python function, it binds
/// to an instance when read from a class (a method), and is itself when
/// read from the class (or wrapped in `staticmethod`, which does not ask).
/// This also makes `inspect` and `help()` treat it as a routine.
///
/// # Safety
/// Called by CPython with the GIL held; `function` is a live
/// `native_function`, `instance` NULL, `None` or a live object.
unsafe extern "C" fn native_descr_get(function: Py, instance: Py, _owner: Py) -> Py {
    let Some(api) = API.get() else {
        return core::ptr::null_mut();
    };
    if instance.is_null() || instance == api.py_none {
        api_call!(api, incref(function));
        return function;
    }
    api_call!(api, method_new(function, instance))
}

/// `tp_dealloc` of `native_function`: releases what the object holds, frees
/// it, and releases its type (instances of heap types hold one).
///
/// # Safety
/// Called by CPython once, with the GIL held, when the last reference to a
/// `native_function` made by [`ffi_export_python_native`] goes.
unsafe extern "C" fn native_dealloc(object: Py) {
    let Some(api) = API.get() else {
        return;
    };
    // SAFETY: the object is a `NativeFunction` (its type's only
    // constructor is `ffi_export_python_native`) that nothing else uses
    // any more; its type and fields are read before the memory is freed.
    let (class, held) = unsafe {
        let this = &*object.cast::<NativeFunction>();
        (
            PyObject::type_of(object),
            [this.dict, this.slow, this.names, this.defaults, this.other],
        )
    };
    for held in held {
        if !held.is_null() {
            api_call!(api, decref(held));
        }
    }
    api_call!(api, object_free(object.cast()));
    api_call!(api, decref(class));
}

/// `vectorcall` of `native_function`: the export's fast function over the
/// positional arguments, keyword arguments placed by name and missing
/// trailing ones from the defaults; anything else (an unknown, repeated or
/// non-interned keyword, a missing argument, too many) is handed to the
/// wrapper as it came, which raises Python's error.
///
/// # Safety
/// Called by CPython with the GIL held: `callable` is a `native_function`,
/// `args` holds the positional arguments then the keyword values (one per
/// item of the tuple `kwnames`, or NULL).
unsafe extern "C" fn native_vectorcall(
    callable: Py,
    args: *const Py,
    nargsf: usize,
    kwnames: Py,
) -> Py {
    let Some(api) = API.get() else {
        return core::ptr::null_mut();
    };
    // SAFETY: CPython calls this for `native_function` objects only, which
    // `ffi_export_python_native` filled completely.
    let this = unsafe { &*callable.cast::<NativeFunction>() };
    let fast = match (this.role, this.fast) {
        (Role::Function, Some(fast)) => fast,
        // SAFETY: forwarded contract.
        (Role::Method(role), Some(fast)) => {
            return unsafe { method_vectorcall(api, this, fast, role, args, nargsf, kwnames) }
        }
        // SAFETY: forwarded contract.
        (Role::New(role), Some(fast)) => {
            return unsafe { objects::new_vectorcall(api, this, fast, role, args, nargsf, kwnames) }
        }
        // SAFETY: forwarded contract.
        (Role::Init(fresh), _) => {
            return unsafe { objects::init_vectorcall(api, this, fresh, args, nargsf, kwnames) }
        }
        // SAFETY: forwarded contract.
        (Role::Del(layout), _) => {
            return unsafe { objects::del_vectorcall(api, this, layout, args, nargsf, kwnames) }
        }
        // SAFETY: forwarded contract.
        (Role::IterNext(role), _) => {
            return unsafe { objects::next_vectorcall(api, this, role, args, nargsf, kwnames) }
        }
        (_, None) => return core::ptr::null_mut(),
    };
    let nargs = (nargsf & !PY_VECTORCALL_ARGUMENTS_OFFSET) as isize;
    if kwnames.is_null() && nargs == this.count {
        // SAFETY: `nargs` live arguments with the GIL held, as the fast
        // function expects; `slow` is held by the object.
        return unsafe { fast(this.slow, args, nargs) };
    }
    let mut bound = [core::ptr::null_mut(); MAX_NATIVE_PARAMS];
    // SAFETY: forwarded contract (the arguments and keywords CPython passed).
    if unsafe { bind_arguments(api, this, args, nargs, kwnames, &mut bound) } {
        // SAFETY: `count` live arguments (the caller's, or defaults the
        // object's tuple holds) with the GIL held.
        return unsafe { fast(this.slow, bound.as_ptr(), this.count) };
    }
    // SAFETY: forwarded contract.
    unsafe { call_with_keywords(api, this.slow, args, nargsf, kwnames) }
}

/// `vectorcall` of a method's `native_function`, called as `(self,
/// params...)`: the handle read from `self` (an instance of the helper's
/// `_Object`) goes second, then the call is bound as a free function's;
/// anything else (no `self`, `self` of another type, no handle) goes to
/// the wrapper as it came, which raises the documented error.
///
/// The object's other operands (`role.others`) are read the same way:
/// one not an instance of `role.class` makes the call `NotImplemented`
/// (a comparison with another type), a closed one goes to the wrapper.
///
/// # Safety
/// As [`native_vectorcall`]; `role` is the function's own.
unsafe fn method_vectorcall(
    api: &PyApi,
    this: &NativeFunction,
    fast: FastFn,
    role: MethodRole,
    args: *const Py,
    nargsf: usize,
    kwnames: Py,
) -> Py {
    let nargs = nargsf & !PY_VECTORCALL_ARGUMENTS_OFFSET;
    let keywords = if kwnames.is_null() {
        0
    } else {
        api_call!(api, tuple_size(kwnames)).max(0) as usize
    };
    // SAFETY: CPython passes `nargs` positional arguments followed by one
    // value per keyword.
    let given = unsafe { Python::args(args, (nargs + keywords) as isize) };
    let Some(&receiver) = given.first().filter(|_| nargs > 0) else {
        // SAFETY: forwarded contract.
        return unsafe { call_with_keywords(api, this.slow, args, nargsf, kwnames) };
    };
    // SAFETY: a live argument.
    let class = unsafe { PyObject::type_of(receiver) };
    let handle = if api_call!(api, type_is_subtype(class, api.object_base)) != 0 {
        // SAFETY: `receiver` is an instance of `_Object` or of a subclass
        // (whose layout starts with `_Object`'s): its `_handle` slot is at
        // `role.handle` (the helper measured it, as the contract of
        // `ffi_export_python_native_method` requires; checked past the
        // header and aligned there), holding NULL (unset) or a strong
        // reference. The GIL is held, so nothing changes it meanwhile.
        unsafe { *receiver.cast::<u8>().offset(role.handle).cast::<Py>() }
    } else {
        core::ptr::null_mut()
    };
    if handle.is_null() || given.len() >= MAX_NATIVE_PARAMS {
        // SAFETY: forwarded contract.
        return unsafe { call_with_keywords(api, this.slow, args, nargsf, kwnames) };
    }
    let mut expanded = [core::ptr::null_mut(); MAX_NATIVE_PARAMS + 1];
    expanded[0] = receiver;
    expanded[1] = handle;
    expanded[2..=given.len()].copy_from_slice(&given[1..]);
    if role.others != 0 {
        // SAFETY: forwarded contract; `expanded` holds the call's
        // arguments after `self` from index 2.
        match unsafe { other_handles(api, role, &mut expanded[2..], nargs - 1, kwnames) } {
            Others::Read => {}
            Others::NotImplemented => {
                api_call!(api, incref(api.not_implemented));
                return api.not_implemented;
            }
            // SAFETY: forwarded contract.
            Others::Fallback => {
                return unsafe { call_with_keywords(api, this.slow, args, nargsf, kwnames) }
            }
        }
    }
    // The handles, held for the call: the fast function reads them first,
    // but a fallback runs Python code that may close the objects.
    let mut held = [core::ptr::null_mut(); MAX_NATIVE_PARAMS + 1];
    let mut holding = 0;
    for (index, &value) in expanded.iter().enumerate().take(given.len() + 1).skip(1) {
        if index == 1 || role.others & (1 << (index - 2)) != 0 {
            api_call!(api, incref(value));
            held[holding] = value;
            holding += 1;
        }
    }
    let nargs = nargs as isize + 1;
    let result = if kwnames.is_null() && nargs == this.count {
        // SAFETY: `count` live arguments (the caller's, and the handle we
        // hold) with the GIL held, as the fast function expects.
        unsafe { fast(this.slow, expanded.as_ptr(), nargs) }
    } else {
        let mut bound = [core::ptr::null_mut(); MAX_NATIVE_PARAMS];
        // SAFETY: `expanded` holds `nargs` positional values then the
        // keyword values, as `kwnames` names them.
        if unsafe { bind_arguments(api, this, expanded.as_ptr(), nargs, kwnames, &mut bound) } {
            // SAFETY: `count` live arguments with the GIL held.
            unsafe { fast(this.slow, bound.as_ptr(), this.count) }
        } else {
            // SAFETY: forwarded contract.
            unsafe { call_with_keywords(api, this.slow, args, nargsf, kwnames) }
        }
    };
    for &value in &held[..holding] {
        api_call!(api, decref(value));
    }
    result
}

/// What [`other_handles`] found.
enum Others {
    /// Each other operand was replaced by its handle.
    Read,
    /// One is not an instance of the class.
    NotImplemented,
    /// One is closed, or the call is not one this reads (keywords): the
    /// wrapper checks it.
    Fallback,
}

/// Replaces each of the method's other operands (`role.others`, bits over
/// `params`, the `nargs` positional arguments after `self`) by the handle
/// in its `_handle` slot (borrowed from the operand).
///
/// # Safety
/// `params` holds live objects; `role.handle` is the `_handle` offset of
/// `_Object` instances; the GIL is held.
unsafe fn other_handles(
    api: &PyApi,
    role: MethodRole,
    params: &mut [Py],
    nargs: usize,
    kwnames: Py,
) -> Others {
    if !kwnames.is_null() || (role.others >> nargs.min(31)) != 0 {
        return Others::Fallback;
    }
    for (index, param) in params.iter_mut().enumerate().take(nargs) {
        if role.others & (1 << index) == 0 {
            continue;
        }
        // SAFETY: a live argument.
        let class = unsafe { PyObject::type_of(*param) };
        if api_call!(api, type_is_subtype(class, role.class as Py)) == 0 {
            return Others::NotImplemented;
        }
        // SAFETY: an instance of the object's class, a subclass of
        // `_Object`: its `_handle` slot is at `role.handle` (as for
        // `self`), holding NULL or a strong reference.
        let handle = unsafe { *param.cast::<u8>().offset(role.handle).cast::<Py>() };
        // SAFETY: a live object (checked non-NULL first).
        if handle.is_null() || unsafe { PyObject::type_of(handle) } != api.int_type {
            return Others::Fallback;
        }
        // A closed operand (handle 0) is the wrapper's error to raise.
        if api_call!(api, long_as_unsigned_long_long(handle)) == 0 {
            return Others::Fallback;
        }
        if !api_call!(api, err_occurred()).is_null() {
            api_call!(api, err_clear());
            return Others::Fallback;
        }
        *param = handle;
    }
    Others::Read
}

/// `callable(*args, **keywords)` for a vectorcall's arguments, through
/// `PyObject_VectorcallDict` (the keywords in a new dict).
///
/// # Safety
/// As [`native_vectorcall`].
unsafe fn call_with_keywords(
    api: &PyApi,
    callable: Py,
    args: *const Py,
    nargsf: usize,
    kwnames: Py,
) -> Py {
    if kwnames.is_null() {
        return api_call!(
            api,
            object_vectorcall_dict(callable, args, nargsf, core::ptr::null_mut())
        );
    }
    let nargs = nargsf & !PY_VECTORCALL_ARGUMENTS_OFFSET;
    let keywords = api_call!(api, tuple_size(kwnames)).max(0) as usize;
    // SAFETY: CPython passes `nargs` positional arguments followed by one
    // value per keyword.
    let given = unsafe { Python::args(args, (nargs + keywords) as isize) };
    let dict = api_call!(api, dict_new());
    if dict.is_null() {
        return dict;
    }
    for (index, value) in given[nargs..].iter().enumerate() {
        let key = api_call!(api, tuple_get_item(kwnames, index as isize));
        if key.is_null() || api_call!(api, dict_set_item(dict, key, *value)) != 0 {
            api_call!(api, decref(dict));
            return core::ptr::null_mut();
        }
    }
    let result = api_call!(api, object_vectorcall_dict(callable, args, nargsf, dict));
    api_call!(api, decref(dict));
    result
}

/// Places the call's arguments in parameter order in `bound`: positional
/// ones, then keywords by name (the same interned `str`), then defaults.
/// False when that is not exactly possible.
///
/// # Safety
/// As [`native_vectorcall`]; `this` is the called object.
unsafe fn bind_arguments(
    api: &PyApi,
    this: &NativeFunction,
    args: *const Py,
    nargs: isize,
    kwnames: Py,
    bound: &mut [Py; MAX_NATIVE_PARAMS],
) -> bool {
    let count = this.count as usize;
    if count > MAX_NATIVE_PARAMS || nargs < 0 || nargs > this.count {
        return false;
    }
    let nargs = nargs as usize;
    let keywords = if kwnames.is_null() {
        0
    } else {
        api_call!(api, tuple_size(kwnames)).max(0) as usize
    };
    // SAFETY: CPython passes `nargs` positional arguments followed by one
    // value per keyword.
    let given = unsafe { Python::args(args, (nargs + keywords) as isize) };
    bound[..nargs].copy_from_slice(&given[..nargs]);
    for (index, value) in given[nargs..].iter().enumerate() {
        let key = api_call!(api, tuple_get_item(kwnames, index as isize));
        let slot = (nargs..count)
            .find(|&at| api_call!(api, tuple_get_item(this.names, at as isize)) == key);
        match slot {
            Some(at) if bound[at].is_null() && !key.is_null() => bound[at] = *value,
            _ => {
                api_call!(api, err_clear());
                return false;
            }
        }
    }
    for (at, slot) in bound.iter_mut().enumerate().take(count).skip(nargs) {
        if slot.is_null() {
            let Some(default) = at.checked_sub(this.required as usize) else {
                return false;
            };
            *slot = api_call!(api, tuple_get_item(this.defaults, default as isize));
            if slot.is_null() {
                api_call!(api, err_clear());
                return false;
            }
        }
    }
    true
}

/// The fast path's view of the interpreter, for generated code: a token
/// proving the GIL is held by this thread. It cannot leave the thread, and
/// [`Python::release`] borrows it mutably for as long as the GIL is away.
pub struct Python {
    api: &'static PyApi,
    _gil: PhantomData<*const ()>,
}

/// The interpreter, if the fast path was initialised.
///
/// # Safety
/// The calling thread holds the GIL for as long as the token is used, i.e.
/// this is called by a function CPython calls as a builtin (the generated
/// fast functions), and the token does not outlive that call.
#[inline]
pub unsafe fn python() -> Option<Python> {
    API.get().map(|api| Python {
        api,
        _gil: PhantomData,
    })
}

/// The GIL released around the Rust call; re-acquired on drop. It borrows
/// the [`Python`] token mutably, so no C-API call can be made meanwhile.
pub struct Released<'a> {
    api: &'static PyApi,
    state: *mut c_void,
    _token: PhantomData<&'a mut Python>,
}

impl Drop for Released<'_> {
    fn drop(&mut self) {
        api_call!(self.api, eval_restore_thread(self.state));
    }
}

impl Python {
    /// The fast function's arguments as a slice (CPython passes NULL for
    /// no arguments).
    ///
    /// # Safety
    /// `args` points to `nargs` live objects, or `nargs` is 0.
    pub unsafe fn args<'a>(args: *const Py, nargs: isize) -> &'a [Py] {
        if nargs <= 0 || args.is_null() {
            return &[];
        }
        // SAFETY: CPython passes `nargs` live arguments.
        unsafe { core::slice::from_raw_parts(args, nargs as usize) }
    }

    /// Hands the call to the ctypes wrapper `slow` (full checks and errors).
    ///
    /// # Safety
    /// `slow` and `args` are the fast function's own arguments.
    pub unsafe fn fallback(&self, slow: Py, args: &[Py]) -> Py {
        api_call!(
            self.api,
            object_vectorcall_dict(slow, args.as_ptr(), args.len(), core::ptr::null_mut())
        )
    }

    /// Hands a method call to the ctypes wrapper `slow`, dropping the
    /// handle the helper passed second: `(self, handle, params...)` becomes
    /// `(self, params...)`.
    ///
    /// # Safety
    /// As [`Python::fallback`]; `args` holds at least `self` and the handle.
    pub unsafe fn fallback_method(&self, slow: Py, args: &[Py]) -> Py {
        let forwarded: Vec<Py> = args
            .iter()
            .take(1)
            .chain(args.iter().skip(2))
            .copied()
            .collect();
        // SAFETY: forwarded contract.
        unsafe { self.fallback(slow, &forwarded) }
    }

    /// Releases the GIL until the guard drops.
    pub fn release(&mut self) -> Released<'_> {
        Released {
            api: self.api,
            state: api_call!(self.api, eval_save_thread()),
            _token: PhantomData,
        }
    }

    /// The type of `obj`.
    ///
    /// # Safety
    /// `obj` is a live object.
    unsafe fn type_of(obj: Py) -> Py {
        // SAFETY: forwarded contract.
        unsafe { PyObject::type_of(obj) }
    }

    fn clear_error(&self) {
        if !api_call!(self.api, err_occurred()).is_null() {
            api_call!(self.api, err_clear());
        }
    }

    /// The exact-`int` value of `obj` in i64 range.
    ///
    /// # Safety
    /// `obj` is a live object.
    unsafe fn int_i64(&self, obj: Py) -> Option<i64> {
        // SAFETY: forwarded contract.
        if unsafe { Self::type_of(obj) } != self.api.int_type {
            return None;
        }
        self.long_i64(obj)
    }

    /// The value of `obj`, an `int` (or an instance of an `int` subclass,
    /// whose number is read without calling anything), in i64 range.
    fn long_i64(&self, obj: Py) -> Option<i64> {
        let value = api_call!(self.api, long_as_long_long(obj));
        if value == -1 && !api_call!(self.api, err_occurred()).is_null() {
            api_call!(self.api, err_clear());
            return None;
        }
        Some(value)
    }

    /// The exact-`int` value of `obj` in u64 range.
    ///
    /// # Safety
    /// `obj` is a live object.
    unsafe fn int_u64(&self, obj: Py) -> Option<u64> {
        // SAFETY: forwarded contract.
        if unsafe { Self::type_of(obj) } != self.api.int_type {
            return None;
        }
        let value = api_call!(self.api, long_as_unsigned_long_long(obj));
        if value == u64::MAX && !api_call!(self.api, err_occurred()).is_null() {
            api_call!(self.api, err_clear());
            return None;
        }
        Some(value)
    }

    /// An exact `str` as UTF-8 (CPython's cached encoding, no copy).
    ///
    /// # Safety
    /// The result borrows `obj`'s internal buffer: `obj` must stay alive
    /// (the caller's argument tuple holds it for the call).
    pub unsafe fn str_arg<'s>(
        &self,
        obj: Py,
        _scope: &'s crate::convert::CallScope,
    ) -> Option<&'s str> {
        // SAFETY: forwarded contract.
        unsafe { self.str_view(obj) }
    }

    /// An exact `str` as UTF-8, borrowed from the object.
    ///
    /// # Safety
    /// `obj` is a live object and stays alive while the result is used.
    unsafe fn str_view<'o>(&self, obj: Py) -> Option<&'o str> {
        // SAFETY: a live object (the caller's contract).
        if unsafe { Self::type_of(obj) } != self.api.str_type {
            return None;
        }
        let mut len: isize = 0;
        let ptr = api_call!(self.api, unicode_as_utf8_and_size(obj, &mut len));
        if ptr.is_null() {
            // Lone surrogates: the slow path raises the documented error.
            self.clear_error();
            return None;
        }
        // SAFETY: CPython returns `len` bytes of valid UTF-8 that live as long
        // as the object.
        Some(unsafe {
            core::str::from_utf8_unchecked(core::slice::from_raw_parts(
                ptr.cast::<u8>(),
                len as usize,
            ))
        })
    }

    /// The items of an exact `list` or `tuple`, each read by `read`
    /// (borrowed references, valid while the container holds them), or
    /// `None` for anything else or an item `read` refuses.
    ///
    /// # Safety
    /// `obj` is a live object; the GIL is held; `read` runs no Python code
    /// (it reads exact types only), so nothing can change the container or
    /// drop an item while it is read.
    unsafe fn items<T>(&self, obj: Py, mut read: impl FnMut(Py) -> Option<T>) -> Option<Vec<T>> {
        // SAFETY: a live object (the caller's contract).
        let ty = unsafe { Self::type_of(obj) };
        let (len, get) = if ty == self.api.list_type {
            (api_call!(self.api, list_size(obj)), self.api.list_get_item)
        } else if ty == self.api.tuple_type {
            (
                api_call!(self.api, tuple_size(obj)),
                self.api.tuple_get_item,
            )
        } else {
            return None;
        };
        let get = get?;
        let mut out = Vec::with_capacity(usize::try_from(len).ok()?);
        for index in 0..len {
            let guard = crate::foreign::HangIfUnwound::arm();
            // SAFETY: an exact list or tuple (checked above) with the GIL
            // held; the call checks the index and returns a borrowed item.
            let item = unsafe { get(obj, index) };
            guard.disarm();
            if item.is_null() {
                self.clear_error();
                return None;
            }
            out.push(read(item)?);
        }
        Some(out)
    }

    /// The `(key, value)` pairs of an exact `dict`, each read by `read`, or
    /// `None` for anything else or a pair `read` refuses.
    ///
    /// # Safety
    /// As [`Python::items`].
    unsafe fn pairs<T>(
        &self,
        obj: Py,
        mut read: impl FnMut(Py, Py) -> Option<T>,
    ) -> Option<Vec<T>> {
        // SAFETY: a live object (the caller's contract).
        if unsafe { Self::type_of(obj) } != self.api.dict_type {
            return None;
        }
        let mut out = Vec::new();
        let mut position: isize = 0;
        let mut key: Py = core::ptr::null_mut();
        let mut value: Py = core::ptr::null_mut();
        // PyDict_Next runs no Python code and the dict cannot change while
        // `read` runs (it runs none either): borrowed keys and values.
        while api_call!(
            self.api,
            dict_next(obj, &mut position, &mut key, &mut value)
        ) != 0
        {
            out.push(read(key, value)?);
        }
        Some(out)
    }

    /// A C-contiguous buffer of `T` (writable when `mutable`), or `None`
    /// for anything else (the slow path explains what is wrong). The view is
    /// filled in `slot` and stays there until the guard releases it: some
    /// exporters point `shape`/`strides` into the view itself, so it must not
    /// move.
    ///
    /// # Safety
    /// `obj` is a live object; the GIL is held.
    pub unsafe fn buffer_arg<'v, T: PyElement>(
        &self,
        obj: Py,
        mutable: bool,
        slot: &'v mut core::mem::MaybeUninit<PyBuffer>,
    ) -> Option<BufferArg<'v>> {
        let flags = PYBUF_FORMAT | PYBUF_C_CONTIGUOUS | if mutable { PYBUF_WRITABLE } else { 0 };
        if api_call!(self.api, object_get_buffer(obj, slot.as_mut_ptr(), flags)) != 0 {
            self.clear_error();
            return None;
        }
        // SAFETY: PyObject_GetBuffer succeeded and filled the slot, which the
        // guard now borrows (so it stays in place) until it releases it.
        let guard = BufferArg {
            api: API.get()?,
            view: unsafe { slot.assume_init_mut() },
        };
        let view = &*guard.view;
        let format = if view.format.is_null() {
            b"B".as_slice()
        } else {
            // SAFETY: a NUL-terminated format string owned by the export.
            unsafe { core::ffi::CStr::from_ptr(view.format) }.to_bytes()
        };
        let native = matches!(format.first(), Some(b'@' | b'='))
            || (cfg!(target_endian = "little") && format.first() == Some(&b'<'));
        let code = if native { &format[1..] } else { format };
        let ok = code.len() == 1
            && T::CODES.contains(&code[0])
            && view.itemsize as usize == core::mem::size_of::<T>()
            && (view.buf as usize) % core::mem::align_of::<T>() == 0
            // An exporter that ignored PyBUF_WRITABLE must not lend
            // read-only memory as `&mut [T]`.
            && !(mutable && view.readonly != 0);
        ok.then_some(guard)
    }

    /// Finishes a call: builds the result object, or raises `fault` (taken
    /// before the GIL came back, so nothing that ran since can have lost
    /// it) with the exception class the ctypes path picks (see
    /// [`Python::raise`]). `receiver` is the method's `self` (or NULL). An
    /// `#[export]` error's value is lent to the helper's `raise_fault` (its
    /// address, its variant and its type's key), which copies it into the
    /// exception, and freed here when `fault` drops after the raise.
    ///
    /// `build` is the result type's [`PyReturn::to_py`] (picked by
    /// [`NativeReturn`]).
    ///
    /// # Safety
    /// `abi` is what the result type's `IntoFfi::lower` produced for this
    /// call (or its zero value when `fault` is set), and `build` that
    /// type's `to_py`; `receiver` is NULL or a live object.
    pub unsafe fn finish<A>(
        &self,
        abi: A,
        fault: Option<Fault>,
        receiver: Py,
        build: unsafe fn(&Python, A) -> Py,
    ) -> Py {
        match fault {
            // A failed call returned the zero value: it owns nothing. The
            // fault (and the error value it owns) drops after the raise.
            Some(fault) => self.raise(&fault, receiver),
            // SAFETY: forwarded contract.
            None => unsafe { build(self, abi) },
        }
    }

    /// Raises `fault` as a Python exception; always returns NULL.
    ///
    /// The common failures are raised here, with the exception classes the
    /// helper would pick (cached): an `Err` of a type that is not an
    /// `#[export]` type (`lib.errors.<name>(message)`), a panic while no
    /// Python trait method's exception waits to become its cause
    /// (`RustPanic(message)`), and an argument refused by a free function
    /// (`InvalidArgument(message)`). Everything else (error values, causes,
    /// a method's closed receiver, callback failures) goes through the
    /// helper's `raise_fault`, which the ctypes path uses too.
    fn raise(&self, fault: &Fault, receiver: Py) -> Py {
        let class = match fault {
            Fault::Error {
                type_name,
                value: None,
                ..
            } => self.error_class(type_name),
            Fault::Panic(_) if api_call!(self.api, dict_size(self.api.foreign_failures)) == 0 => {
                self.api.rust_panic
            }
            Fault::InvalidArgument(_) if receiver.is_null() => self.api.invalid_argument,
            _ => core::ptr::null_mut(),
        };
        if class.is_null() {
            // A failed class lookup has left its exception set.
            if !api_call!(self.api, err_occurred()).is_null() {
                return core::ptr::null_mut();
            }
            return self.raise_through_helper(fault, receiver);
        }
        let (_, _, message) = fault.parts();
        let message = self.new_str(&message);
        if !message.is_null() {
            // `class(message)`, as `raise` would make it (the exception is
            // instantiated by CPython from the class and its argument;
            // `__context__` is the exception being handled, if any).
            api_call!(self.api, err_set_object(class, message));
            api_call!(self.api, decref(message));
        }
        core::ptr::null_mut()
    }

    /// The exception class of the Rust error type `type_name`
    /// (`lib.errors.<name>`): asked of the helper once per type, then kept
    /// (a strong reference, for the process). NULL with an exception set if
    /// the helper failed.
    fn error_class(&self, type_name: &'static str) -> Py {
        let known = |classes: &[(&'static str, usize)]| {
            classes
                .iter()
                .find(|(name, _)| *name == type_name)
                .map(|&(_, class)| class as Py)
        };
        // The lock is only taken with the GIL held and released before any
        // Python code runs, so it cannot deadlock against the GIL.
        if let Some(class) = known(&ERROR_CLASSES.lock().unwrap_or_else(|e| e.into_inner())) {
            return class;
        }
        let name = self.new_str(type_name);
        if name.is_null() {
            return core::ptr::null_mut();
        }
        let args = [name];
        let class = api_call!(
            self.api,
            object_vectorcall_dict(
                self.api.error_class,
                args.as_ptr(),
                1,
                core::ptr::null_mut()
            )
        );
        api_call!(self.api, decref(name));
        if class.is_null() {
            return class;
        }
        let mut classes = ERROR_CLASSES.lock().unwrap_or_else(|e| e.into_inner());
        match known(&classes) {
            // Python code ran meanwhile (the helper): another thread may
            // have cached this type already; keep the first.
            Some(first) => {
                drop(classes);
                api_call!(self.api, decref(class));
                first
            }
            None => {
                // The new reference is kept for the process.
                classes.push((type_name, class as usize));
                class
            }
        }
    }

    /// Raises `fault` through the helper's `raise_fault(code, type_name,
    /// message, receiver, variant, value, key)`; always returns NULL. An
    /// error value is passed as its address, valid during `raise_fault`
    /// only (the helper reads it before returning; `fault` owns it).
    fn raise_through_helper(&self, fault: &Fault, receiver: Py) -> Py {
        let (code, type_name, message) = fault.parts();
        let (variant, address, key) = match fault.value() {
            Some(value) => (
                value.repr.variant,
                value.repr.as_ptr() as usize,
                crate::describe::type_key(&value.entry.desc),
            ),
            None => (-1, 0, None),
        };
        let code = api_call!(self.api, long_from_long_long(i64::from(code)));
        let type_name = self.new_str(type_name);
        let message = self.new_str(&message);
        let variant = api_call!(self.api, long_from_long_long(i64::from(variant)));
        let address = api_call!(self.api, long_from_unsigned_long_long(address as u64));
        let key = match key {
            Some(key) => self.new_str(&key),
            None => self.none(),
        };
        let receiver = if receiver.is_null() {
            self.api.py_none
        } else {
            receiver
        };
        let args = [code, type_name, message, receiver, variant, address, key];
        if !args.contains(&core::ptr::null_mut()) {
            let result = api_call!(
                self.api,
                object_vectorcall_dict(
                    self.api.raise_fault,
                    args.as_ptr(),
                    args.len(),
                    core::ptr::null_mut()
                )
            );
            // `raise_fault` always raises; should it return, CPython reports
            // the NULL below as a SystemError.
            if !result.is_null() {
                api_call!(self.api, decref(result));
            }
        }
        // (A NULL here means a MemoryError is already set.)
        for object in [code, type_name, message, variant, address, key] {
            if !object.is_null() {
                api_call!(self.api, decref(object));
            }
        }
        core::ptr::null_mut()
    }

    /// A new `str` from UTF-8 text, or NULL with an exception set.
    fn new_str(&self, text: &str) -> Py {
        api_call!(
            self.api,
            unicode_from_string_and_size(text.as_ptr().cast::<c_char>(), text.len() as isize)
        )
    }

    fn none(&self) -> Py {
        api_call!(self.api, incref(self.api.py_none));
        self.api.py_none
    }

    /// Raises `SystemError(message)` (an internal inconsistency, never the
    /// caller's mistake); returns NULL.
    fn system_error(&self, message: &core::ffi::CStr) -> Py {
        let text = message.to_string_lossy();
        let message = self.new_str(&text);
        if !message.is_null() {
            api_call!(self.api, err_set_object(self.api.system_error, message));
            api_call!(self.api, decref(message));
        }
        core::ptr::null_mut()
    }
}

/// A private copy of the `len` elements at `ptr`, for a call during which
/// Python code runs (its callbacks): Rust works on the copy, which no
/// Python code can reach, as the ctypes path lends private copies then.
///
/// # Safety
/// `ptr` points to `len` readable elements (or `len` is 0), nothing writes
/// them meanwhile (the GIL is held).
pub unsafe fn private_copy<T: PyElement + Copy>(ptr: *const T, len: usize) -> Vec<T> {
    if len == 0 || ptr.is_null() {
        return Vec::new();
    }
    // SAFETY: by this function's contract; every bit pattern of a number
    // (`PyElement`) is valid.
    unsafe { core::slice::from_raw_parts(ptr, len) }.to_vec()
}

/// Copies what Rust wrote into a [`private_copy`] back into the caller's
/// buffer at `ptr`, after the call (as the ctypes path does, whether the
/// call succeeded or not).
///
/// # Safety
/// `ptr` points to `copy.len()` writable elements (or `copy` is empty) that
/// no reference points to.
pub unsafe fn write_back<T: PyElement + Copy>(ptr: *mut T, copy: &[T]) {
    if copy.is_empty() || ptr.is_null() {
        return;
    }
    // SAFETY: by this function's contract; `copy` is Rust's own memory, so
    // they do not overlap.
    unsafe { core::ptr::copy_nonoverlapping(copy.as_ptr(), ptr, copy.len()) };
}

/// A borrowed buffer argument, filled in place; released (with the GIL
/// held) on drop.
pub struct BufferArg<'v> {
    api: &'static PyApi,
    view: &'v mut PyBuffer,
}

impl BufferArg<'_> {
    /// The buffer's address and element count.
    pub fn raw<T>(&self) -> (*mut T, usize) {
        let len = self.view.len as usize / core::mem::size_of::<T>().max(1);
        let ptr = if len == 0 {
            core::ptr::null_mut()
        } else {
            self.view.buf.cast::<T>()
        };
        (ptr, len)
    }
}

impl Drop for BufferArg<'_> {
    fn drop(&mut self) {
        api_call!(self.api, buffer_release(&mut *self.view));
    }
}

/// A slice element the fast path reads from buffers directly.
///
/// # Safety
/// `CODES` are buffer format codes whose items are valid `Self`s (the size
/// is checked separately).
pub unsafe trait PyElement: crate::convert::FfiElement<Raw = Self> {
    /// Buffer format codes of this element type (sizes are checked too).
    const CODES: &'static [u8];
}

macro_rules! elements {
    ($($t:ident: $class:ident, $kind:literal, $codes:literal;)*) => {$(
        // SAFETY: every listed code of the element's size holds a number of
        // this type; every bit pattern of a number is valid.
        unsafe impl PyElement for $t {
            const CODES: &'static [u8] = $codes;
        }
    )*};
}
for_each_primitive!(elements);

/// A parameter type the fast path reads from an exact Python object.
pub trait PyArg: Sized {
    /// The value, or `None` to fall back to the slow path.
    ///
    /// # Safety
    /// `obj` is a live object; the GIL is held.
    unsafe fn extract(py: &Python, obj: Py) -> Option<Self>;

    /// Whether `extract` can succeed at all in this process (a record's
    /// class is registered and each of its fields can be read natively):
    /// an export with a parameter that cannot keeps the ctypes path.
    fn ready() -> bool {
        true
    }
}

/// `PyArg` for one integer row of the table (floats are written below).
macro_rules! int_arg {
    ($t:ident, signed) => {
        impl PyArg for $t {
            #[inline]
            unsafe fn extract(py: &Python, obj: Py) -> Option<$t> {
                // SAFETY: forwarded contract.
                unsafe { py.int_i64(obj) }.and_then(|v| <$t>::try_from(v).ok())
            }
        }
    };
    ($t:ident, unsigned) => {
        impl PyArg for $t {
            #[inline]
            unsafe fn extract(py: &Python, obj: Py) -> Option<$t> {
                // SAFETY: forwarded contract.
                unsafe { py.int_u64(obj) }.and_then(|v| <$t>::try_from(v).ok())
            }
        }
    };
    ($t:ident, float) => {};
}

macro_rules! int_args {
    ($($t:ident: $class:ident, $kind:literal, $codes:literal;)*) => {$(int_arg!($t, $class);)*};
}
for_each_primitive!(int_args);

impl PyArg for f64 {
    #[inline]
    unsafe fn extract(py: &Python, obj: Py) -> Option<f64> {
        // SAFETY: forwarded contract.
        if unsafe { Python::type_of(obj) } != py.api.float_type {
            return None;
        }
        // SAFETY: an exact float is a PyFloatObject: header, then the double.
        Some(unsafe {
            *obj.cast::<u8>()
                .add(core::mem::size_of::<PyObject>())
                .cast::<f64>()
        })
    }
}

impl PyArg for f32 {
    #[inline]
    unsafe fn extract(py: &Python, obj: Py) -> Option<f32> {
        // SAFETY: forwarded contract.
        let value = unsafe { f64::extract(py, obj) }?;
        // Finite values beyond f32 are refused by the slow path.
        (!value.is_finite() || value.abs() <= f64::from(f32::MAX)).then_some(value as f32)
    }
}

impl PyArg for bool {
    #[inline]
    unsafe fn extract(py: &Python, obj: Py) -> Option<bool> {
        if obj == py.api.py_true {
            Some(true)
        } else if obj == py.api.py_false {
            Some(false)
        } else {
            None
        }
    }
}

impl PyArg for String {
    unsafe fn extract(py: &Python, obj: Py) -> Option<String> {
        // SAFETY: forwarded contract; the text is copied before returning.
        unsafe { py.str_view(obj) }.map(str::to_owned)
    }
}

impl<T: PyArg> PyArg for Option<T> {
    unsafe fn extract(py: &Python, obj: Py) -> Option<Option<T>> {
        if obj == py.api.py_none {
            return Some(None);
        }
        // SAFETY: forwarded contract.
        unsafe { T::extract(py, obj) }.map(Some)
    }

    fn ready() -> bool {
        T::ready()
    }
}

impl<T: PyArg> PyArg for Vec<T> {
    unsafe fn extract(py: &Python, obj: Py) -> Option<Vec<T>> {
        // SAFETY: forwarded contract; `T::extract` reads exact types only
        // (every `PyArg` does), running no Python code.
        unsafe { py.items(obj, |item| T::extract(py, item)) }
    }

    fn ready() -> bool {
        T::ready()
    }
}

/// `PyArg` for a map type built from a dict's pairs.
macro_rules! map_arg {
    ($map:ident, $($bound:path),+) => {
        impl<K: PyArg $(+ $bound)+, V: PyArg> PyArg for std::collections::$map<K, V> {
            unsafe fn extract(py: &Python, obj: Py) -> Option<Self> {
                // SAFETY: forwarded contract; the extracts read exact types
                // only, running no Python code.
                let pairs = unsafe {
                    py.pairs(obj, |key, value| Some((K::extract(py, key)?, V::extract(py, value)?)))
                }?;
                Some(pairs.into_iter().collect())
            }

            fn ready() -> bool {
                K::ready() && V::ready()
            }
        }
    };
}
map_arg!(HashMap, Eq, core::hash::Hash);
map_arg!(BTreeMap, Ord);

/// `PyArg` for a tuple of `PyArg`s, from an exact tuple or list of its
/// length.
macro_rules! tuple_arg {
    ($len:literal: $($t:ident $index:tt),+) => {
        impl<$($t: PyArg),+> PyArg for ($($t,)+) {
            unsafe fn extract(py: &Python, obj: Py) -> Option<Self> {
                // SAFETY: forwarded contract (each item read as a `Py`,
                // which runs no code).
                let items = unsafe { py.items(obj, Some) }?;
                if items.len() != $len {
                    return None;
                }
                // SAFETY: the items are live (held by `obj`, which the
                // caller keeps alive) and nothing has run since.
                Some(($(unsafe { $t::extract(py, items[$index]) }?,)+))
            }

            fn ready() -> bool {
                true $(&& $t::ready())+
            }
        }
    };
}
tuple_arg!(1: A 0);
tuple_arg!(2: A 0, B 1);
tuple_arg!(3: A 0, B 1, C 2);
tuple_arg!(4: A 0, B 1, C 2, D 3);
tuple_arg!(5: A 0, B 1, C 2, D 3, E 4);
tuple_arg!(6: A 0, B 1, C 2, D 3, E 4, F 5);

/// Asks `T`'s [`PyArg`] impl when it has one, else says "fall back"
/// ([`NativeExtract`] is found first by method resolution; [`NoNativeExtract`]
/// only when `T: PyArg` does not hold). The macro recognises owned
/// parameter types by their names alone, so a type of the user's that
/// shares such a name makes the call fall back instead of failing to build.
pub struct NativeArg<T>(PhantomData<T>);

impl<T> NativeArg<T> {
    /// The selector for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        NativeArg(PhantomData)
    }
}

/// The fast path's reading of an argument of type `T: PyArg`.
pub trait NativeExtract<T> {
    /// `T::extract`.
    ///
    /// # Safety
    /// As [`PyArg::extract`].
    unsafe fn extract(&self, py: &Python, obj: Py) -> Option<T>;

    /// `T::ready()`.
    fn ready(&self) -> bool;
}

impl<T: PyArg> NativeExtract<T> for NativeArg<T> {
    #[inline]
    unsafe fn extract(&self, py: &Python, obj: Py) -> Option<T> {
        // SAFETY: forwarded contract.
        unsafe { T::extract(py, obj) }
    }

    #[inline]
    fn ready(&self) -> bool {
        T::ready()
    }
}

/// The fast path's answer for an argument type without [`PyArg`]: fall
/// back.
pub trait NoNativeExtract<T> {
    /// Always `None`.
    ///
    /// # Safety
    /// None needed; `unsafe` to match [`NativeExtract::extract`].
    unsafe fn extract(&self, _py: &Python, _obj: Py) -> Option<T> {
        None
    }

    /// Never: an export taking `T` keeps the ctypes path.
    fn ready(&self) -> bool {
        false
    }
}

impl<T> NoNativeExtract<T> for &NativeArg<T> {}

/// A return type the fast path turns into a Python object. (Its `Abi` is
/// the `IntoFfi` one; it is not a supertrait so that an unsupported return
/// type is reported once, by `IntoFfi`.)
///
/// # Safety
/// `Abi` is `<Self as IntoFfi>::Abi`, and `to_py` frees exactly what
/// `IntoFfi::lower` put in it.
pub unsafe trait PyReturn {
    /// The C form it arrives in.
    type Abi;
    /// Builds the result (a new reference), freeing what `abi` owns.
    ///
    /// # Safety
    /// `abi` was produced by `<Self as IntoFfi>::lower` (or is its zero
    /// value), and is not used again.
    unsafe fn to_py(py: &Python, abi: Self::Abi) -> Py;

    /// Whether `to_py` can build the result in this process (a record's
    /// class is registered and each field can be built natively): checked
    /// before the call, an export whose result cannot keeps the ctypes
    /// path.
    fn ready() -> bool {
        true
    }

    /// Whether `to_py` can build it inside another result (a list item, a
    /// record field), where a failure frees the later parts' C forms with
    /// `FfiData::free_repr`: not for objects, whose handle that does not
    /// free. Their containers keep the ctypes path.
    fn nested_ready() -> bool {
        Self::ready()
    }
}

/// Picks `T`'s [`PyReturn`] when it has one ([`NativeBuild`]), else says
/// "not native" ([`NoNativeBuild`]), as [`NativeArg`] does for parameters:
/// the macro recognises return types by their names alone.
pub struct NativeReturn<T>(PhantomData<T>);

impl<T> NativeReturn<T> {
    /// The selector for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        NativeReturn(PhantomData)
    }
}

/// The fast path's building of a result of type `T: PyReturn`.
pub trait NativeBuild<T: PyReturn> {
    /// `T::ready()`.
    fn ready(&self) -> bool;
    /// `T::to_py`, as a function of the C form.
    fn builder(&self) -> unsafe fn(&Python, T::Abi) -> Py;
}

impl<T: PyReturn> NativeBuild<T> for NativeReturn<T> {
    #[inline]
    fn ready(&self) -> bool {
        T::ready()
    }

    #[inline]
    fn builder(&self) -> unsafe fn(&Python, T::Abi) -> Py {
        T::to_py
    }
}

/// The fast path's answer for a result type without [`PyReturn`]: never
/// ready, so its export keeps the ctypes path and the builder is not
/// called.
pub trait NoNativeBuild {
    /// Never.
    fn ready(&self) -> bool {
        false
    }

    /// A builder that leaks the C form and raises `SystemError` (never
    /// called: `ready` is checked before the call).
    fn builder<A>(&self) -> unsafe fn(&Python, A) -> Py {
        unreachable_builder::<A>
    }
}

impl<T> NoNativeBuild for &NativeReturn<T> {}

/// See [`NoNativeBuild::builder`]. `unsafe` only to have the builders'
/// type; forgetting the value (leaking what it owns) is safe.
///
/// # Safety
/// None.
unsafe fn unreachable_builder<A>(py: &Python, abi: A) -> Py {
    core::mem::forget(abi);
    py.system_error(c"ffi-export: a result without a native form reached the fast path")
}

/// The C-API constructor of one row's Python object.
macro_rules! number_object {
    ($py:expr, $value:expr, signed) => {
        api_call!($py.api, long_from_long_long($value as i64))
    };
    ($py:expr, $value:expr, unsigned) => {
        api_call!($py.api, long_from_unsigned_long_long($value as u64))
    };
    ($py:expr, $value:expr, float) => {
        api_call!($py.api, float_from_double($value as f64))
    };
}

macro_rules! number_returns {
    ($($t:ident: $class:ident, $kind:literal, $codes:literal;)*) => {$(
        // SAFETY: a number is its own C form and owns nothing.
        unsafe impl PyReturn for $t {
            type Abi = $t;
            #[inline]
            unsafe fn to_py(py: &Python, abi: $t) -> Py {
                number_object!(py, abi, $class)
            }
        }
    )*};
}
for_each_primitive!(number_returns);

// SAFETY: a byte, owns nothing.
unsafe impl PyReturn for bool {
    type Abi = u8;
    #[inline]
    unsafe fn to_py(py: &Python, abi: u8) -> Py {
        api_call!(py.api, bool_from_long(c_long::from(abi)))
    }
}

// SAFETY: nothing to free.
unsafe impl PyReturn for () {
    type Abi = ();
    #[inline]
    unsafe fn to_py(py: &Python, _: ()) -> Py {
        py.none()
    }
}

// SAFETY: String's C form is the FfiBuffer freed below.
unsafe impl PyReturn for String {
    type Abi = FfiBuffer;
    unsafe fn to_py(py: &Python, mut abi: FfiBuffer) -> Py {
        let object = if abi.ptr.is_null() {
            py.none()
        } else {
            api_call!(
                py.api,
                unicode_from_string_and_size(abi.ptr.cast::<c_char>(), abi.len as isize)
            )
        };
        // SAFETY: made by String's IntoFfi (the caller's contract), freed
        // once here.
        unsafe { <String as FfiData>::free_repr(&mut abi) };
        object
    }
}

// SAFETY: `Option<T>`'s C form is `FfiOption` of `T`'s (`FfiData`), whose
// payload, when set, is freed by `T::to_py`; `None`'s is the empty value,
// which owns nothing.
unsafe impl<T: FfiData + PyReturn<Abi = <T as FfiData>::Repr>> PyReturn for Option<T> {
    type Abi = FfiOption<<T as FfiData>::Repr>;
    unsafe fn to_py(py: &Python, abi: Self::Abi) -> Py {
        if abi.is_some == 0 {
            py.none()
        } else {
            // SAFETY: forwarded contract (a `Some` made by `into_repr`).
            unsafe { T::to_py(py, abi.value) }
        }
    }

    fn ready() -> bool {
        T::ready()
    }

    fn nested_ready() -> bool {
        T::nested_ready()
    }
}

/// An element type whose `Vec<T>` the helper reads as a `list` of its
/// objects (strings, bools, records); number vectors are zero-copy arrays
/// there, built by the ctypes path.
///
/// # Safety
/// `T`'s `PyReturn::Abi` is its `FfiData::Repr` (the element form of
/// `Vec<T>`'s buffer).
pub unsafe trait PyListItem: FfiData + PyReturn<Abi = <Self as FfiData>::Repr> {}

// SAFETY: String's `PyReturn::Abi` is its `FfiData::Repr`.
unsafe impl PyListItem for String {}

// SAFETY: `Vec<T>`'s C form is an `FfiBuffer` of `T`'s forms (`FfiData`):
// each element is taken out once and freed by `T::to_py`, then the buffer's
// memory is freed without dropping them again.
unsafe impl<T: PyListItem> PyReturn for Vec<T> {
    type Abi = FfiBuffer;
    unsafe fn to_py(py: &Python, abi: FfiBuffer) -> Py {
        // SAFETY: forwarded contract; `T::to_py` frees each element form.
        unsafe { list_of::<T>(py, abi) }
    }

    fn ready() -> bool {
        T::nested_ready()
    }
}

// SAFETY: `Vec<u8>`'s C form is an `FfiBuffer` of bytes, copied into a
// `bytes` object and freed once; the helper reads it as `bytes` too.
unsafe impl PyReturn for Vec<u8> {
    type Abi = FfiBuffer;
    unsafe fn to_py(py: &Python, mut abi: FfiBuffer) -> Py {
        // SAFETY: made by `Vec<u8>::into_repr` (the caller's contract).
        let object = unsafe { bytes_of(py, &abi) };
        // SAFETY: as above; freed once here.
        unsafe { FfiBuffer::free::<u8>(&mut abi) };
        object
    }
}

/// A `bytes` copy of the buffer's `len` bytes (NULL with an exception set
/// if the allocation failed).
///
/// # Safety
/// `abi` is NULL or holds `len` readable bytes.
unsafe fn bytes_of(py: &Python, abi: &FfiBuffer) -> Py {
    let len = if abi.ptr.is_null() { 0 } else { abi.len };
    let data: *const c_char = if len == 0 {
        c"".as_ptr()
    } else {
        abi.ptr.cast::<c_char>()
    };
    api_call!(py.api, bytes_from_string_and_size(data, len as isize))
}

/// A `list` of the elements of a `Vec<T>`'s C form, each built (and freed)
/// by `build`; the buffer's memory is freed after. NULL with an exception
/// set if an element or the list could not be made; the elements after a
/// failed one are only freed (by `free`), and the list is made once every
/// element's object exists, so no half-filled list is ever visible.
///
/// # Safety
/// `abi` was made by `Vec<T>::into_repr` (with `T::Repr = E`) and is not
/// used again; `build` and `free` each free the element form they are given.
unsafe fn list_with<E>(
    py: &Python,
    mut abi: FfiBuffer,
    build: impl Fn(E) -> Py,
    free: impl Fn(&mut E),
) -> Py {
    let len = if abi.ptr.is_null() { 0 } else { abi.len };
    let mut objects = Vec::with_capacity(len);
    for index in 0..len {
        // SAFETY: `len` initialised element forms (the caller's contract),
        // each read out once here.
        let mut item = unsafe { core::ptr::read(abi.ptr.cast::<E>().add(index)) };
        if objects.len() < index {
            free(&mut item);
            continue;
        }
        let object = build(item);
        if !object.is_null() {
            objects.push(object);
        }
    }
    // SAFETY: the buffer made by `from_vec::<E>`, whose elements were all
    // taken out above: with its length set to 0 only its memory is freed.
    unsafe {
        abi.len = 0;
        FfiBuffer::free::<E>(&mut abi);
    }
    let list = match objects.len() == len {
        true => api_call!(py.api, list_new(len as isize)),
        false => core::ptr::null_mut(),
    };
    if list.is_null() {
        for object in objects {
            api_call!(py.api, decref(object));
        }
        return core::ptr::null_mut();
    }
    for (index, object) in objects.into_iter().enumerate() {
        // Steals the reference; the index is in range of the new list.
        api_call!(py.api, list_set_item(list, index as isize, object));
    }
    list
}

/// [`list_with`] of `T::to_py`.
///
/// # Safety
/// As [`list_with`] for a `Vec<T>`.
unsafe fn list_of<T: FfiData + PyReturn<Abi = <T as FfiData>::Repr>>(
    py: &Python,
    abi: FfiBuffer,
) -> Py {
    // SAFETY: forwarded contract; each element form made by
    // `T::into_repr` goes to `T::to_py` or to `T::free_repr` once.
    unsafe {
        list_with::<T::Repr>(
            py,
            abi,
            |item| T::to_py(py, item),
            |item| T::free_repr(item),
        )
    }
}

/// The element of a `Vec<T>` record field the helper reads as a `list` of
/// numbers (`bytes` for `u8`), where a `Vec<T>` result is a zero-copy array:
/// how a record builds such a field (see [`NativeField`]).
///
/// # Safety
/// `vec_to_py` frees exactly what `Vec<Self>::into_repr` put in the buffer.
pub unsafe trait PyVecField: Sized {
    /// The field's object, freeing `abi`.
    ///
    /// # Safety
    /// `abi` was made by `Vec<Self>::into_repr` and is not used again.
    unsafe fn vec_to_py(py: &Python, abi: FfiBuffer) -> Py;
}

macro_rules! vec_fields {
    ($($t:ident: $class:ident, $kind:literal, $codes:literal;)*) => {$(
        vec_field!($t);
    )*};
}

macro_rules! vec_field {
    (u8) => {
        // SAFETY: as `PyReturn for Vec<u8>`.
        unsafe impl PyVecField for u8 {
            unsafe fn vec_to_py(py: &Python, abi: FfiBuffer) -> Py {
                // SAFETY: forwarded contract.
                unsafe { <Vec<u8> as PyReturn>::to_py(py, abi) }
            }
        }
    };
    ($t:ident) => {
        // SAFETY: a number is its own element form; `list_of` frees the
        // buffer.
        unsafe impl PyVecField for $t {
            unsafe fn vec_to_py(py: &Python, abi: FfiBuffer) -> Py {
                // SAFETY: forwarded contract.
                unsafe { list_of::<$t>(py, abi) }
            }
        }
    };
}
for_each_primitive!(vec_fields);
vec_field!(bool);

/// Picks how a record builds a field of type `T`, by name, in order: a
/// `Vec` of numbers as a `list` ([`FieldVec`], as the helper reads such a
/// field), else `T`'s [`PyReturn`] ([`NativeBuild`]), else nothing
/// ([`NoNativeBuild`]: the record is not ready). Called as
/// `(&&&NativeField::<T>::new()).builder()`.
pub struct NativeField<T>(PhantomData<T>);

impl<T> NativeField<T> {
    /// The selector for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        NativeField(PhantomData)
    }
}

/// A record field `Vec<T>` of numbers: a `list` (`bytes` for `u8`).
pub trait FieldVec {
    /// Always.
    fn ready(&self) -> bool {
        true
    }
    /// `T::vec_to_py`.
    fn builder(&self) -> unsafe fn(&Python, FfiBuffer) -> Py;
}

impl<T: PyVecField> FieldVec for &&NativeField<Vec<T>> {
    fn builder(&self) -> unsafe fn(&Python, FfiBuffer) -> Py {
        T::vec_to_py
    }
}

// A record field of a type with `PyReturn`: that type's builder.
impl<T: PyReturn> NativeBuild<T> for &NativeField<T> {
    #[inline]
    fn ready(&self) -> bool {
        T::nested_ready()
    }

    #[inline]
    fn builder(&self) -> unsafe fn(&Python, T::Abi) -> Py {
        T::to_py
    }
}

// A record field the fast path cannot build: the record is not ready.
impl<T> NoNativeBuild for NativeField<T> {}

// SAFETY: `Result<T, E>` lowers to `T`'s C form.
unsafe impl<T: PyReturn, E> PyReturn for Result<T, E> {
    type Abi = T::Abi;
    #[inline]
    unsafe fn to_py(py: &Python, abi: T::Abi) -> Py {
        // SAFETY: forwarded contract.
        unsafe { T::to_py(py, abi) }
    }

    fn ready() -> bool {
        T::ready()
    }
}

// ---------------------------------------------------------------------------
// Callbacks: a `Callback<fn(A..) -> R>` argument called natively.
//
// On the ctypes path a Python function passed as a `Callback` becomes a
// ctypes `CFUNCTYPE` trampoline: every call from Rust goes through libffi,
// ctypes' argument conversion and a Python-level wrapper that checks the
// result. On the fast path the callable is passed to Rust as the context of
// a native trampoline instead (one per signature, generic over the types):
// it takes the GIL back, builds the arguments, calls the callable with
// vectorcall and reads the result with the same exact-type readers the fast
// path uses for arguments. A result it cannot read exactly (an `int`
// subclass, a numpy scalar, a wrong type) is checked by the helper's
// `callback_result(rust_type, value)`, the ctypes path's own check, so both
// paths accept and refuse the same results with the same errors.

/// What a fast function lending `Callback`s shares with their native
/// trampolines: the thread state it released the GIL with (so a
/// trampoline takes the GIL back with `PyEval_RestoreThread`, as the fast
/// function itself does, instead of looking the thread up through
/// `PyGILState_Ensure`), and the first exception a callback raised
/// (`PyErr_Fetch`'s three strong references), kept until the fast function
/// raises it again once Rust has unwound (`Python::finish_calling_back`).
/// Later failures of the same call are dropped: the first is the one the
/// caller sees, as on the ctypes path.
#[derive(Default)]
pub struct CallbackCall {
    fetched: core::cell::Cell<Option<[Py; 3]>>,
    gil: core::cell::Cell<CallbackGil>,
}

/// How a trampoline takes the GIL for a callback.
#[derive(Clone, Copy, Default)]
enum CallbackGil {
    /// Not known (not reached by generated code: the Rust call starts after
    /// `released` or `holding_gil`): `PyGILState_Ensure`, which works
    /// whether the thread holds the GIL or not.
    #[default]
    Ensure,
    /// The fast function released it with this thread state: taken back
    /// with `PyEval_RestoreThread` and released again after the callback.
    Released(*mut c_void),
    /// A `keep_gil` function: the thread holds it for the whole Rust call
    /// (a callback's Python code may release it meanwhile, and takes it
    /// back before returning).
    Held,
}

impl CallbackCall {
    /// Nothing kept yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the thread state `released` gave the GIL up with, for the
    /// trampolines to take it back with.
    pub fn released(&self, released: &Released<'_>) {
        self.gil.set(CallbackGil::Released(released.state));
    }

    /// For a `keep_gil` function: the trampolines run with the GIL this
    /// thread holds for the whole call.
    ///
    /// # Safety
    /// The fast function does not release the GIL around the Rust call
    /// (the `Python` token it holds proves it has it).
    pub unsafe fn holding_gil(&self, _py: &Python) {
        self.gil.set(CallbackGil::Held);
    }

    /// Takes the exception set on this thread (the GIL is held), keeping it
    /// if it is the call's first.
    fn keep(&self, py: &Python) {
        let parts = py.fetch();
        if parts[0].is_null() {
            return;
        }
        match self.fetched.take() {
            None => self.fetched.set(Some(parts)),
            Some(first) => {
                self.fetched.set(Some(first));
                // `Py_DecRef` accepts NULL (the value and traceback may be).
                for part in parts {
                    api_call!(py.api, decref(part));
                }
            }
        }
    }
}

/// A Python callable passed for a `Callback<fn(..)>` parameter on the fast
/// path: borrowed from the call's arguments (which the caller keeps alive
/// for the call), with the call's failure record. Its address is the
/// native trampoline's context.
pub struct NativeCallback<'f> {
    callable: Py,
    call: &'f CallbackCall,
}

/// A [`CallbackValue`] the native trampolines convert: a Python object
/// from its C form (`PyReturn`) and its C form from an exact Python object
/// (`PyArg`). Every callback value has both (primitives and `bool`).
pub trait PyCallbackValue:
    CallbackValue + PyArg + PyReturn<Abi = <Self as CallbackValue>::C>
{
}

impl<T: CallbackValue + PyArg + PyReturn<Abi = <T as CallbackValue>::C>> PyCallbackValue for T {}

/// A [`CallbackReturn`] the native trampolines read from the callable's
/// result: `()` (the result is ignored, as on the ctypes path) or a
/// [`PyCallbackValue`].
pub trait PyCallbackReturn: CallbackReturn {
    /// The C form of an exact Python result, or `None` to have the helper
    /// check it.
    ///
    /// # Safety
    /// `obj` is a live object; the GIL is held.
    unsafe fn from_py(py: &Python, obj: Py) -> Option<Self::C>;
    /// What a failed call returns (the caller ignores it).
    fn failed() -> Self::C;
}

impl PyCallbackReturn for () {
    unsafe fn from_py(_: &Python, _: Py) -> Option<()> {
        Some(())
    }
    fn failed() {}
}

impl<T: PyCallbackValue> PyCallbackReturn for T {
    #[inline]
    unsafe fn from_py(py: &Python, obj: Py) -> Option<T::C> {
        // SAFETY: forwarded contract.
        unsafe { <T as PyArg>::extract(py, obj) }.map(CallbackValue::to_c)
    }
    fn failed() -> T::C {
        T::NEUTRAL.to_c()
    }
}

/// The `FfiCallback` of a [`NativeCallback`] for one `Callback` type: the
/// native trampoline of its signature, with the callback as its context.
pub trait PyCallback {
    /// The C form Rust lifts the `Callback` from. It borrows `callback`:
    /// the `Callback` lifted from it must not outlive it (it cannot: a
    /// `Callback` is lent for the call, and the fast function keeps
    /// `callback` until the call returned).
    fn native(callback: &NativeCallback<'_>) -> FfiCallback;
}

macro_rules! native_trampoline {
    ($trampoline:ident: $($a:ident),*) => {
        /// The native trampoline of `Callback<fn(A..) -> R>`: the C signature
        /// `Callback::call` calls (`R (*)(void *context, uint8_t *failed,
        /// A...)`), with a [`NativeCallback`] as the context.
        ///
        /// # Safety
        /// `context` is a live `NativeCallback` (made by the fast function
        /// of this call, on this thread: a `Callback` is neither `Send` nor
        /// `Sync`, and lent for the call only), `failed` a writable byte;
        /// the calling thread has a Python thread state (it is inside a
        /// fast function, with the GIL released around the Rust call).
        #[allow(non_snake_case)]
        unsafe extern "C-unwind" fn $trampoline<R: PyCallbackReturn, $($a: PyCallbackValue),*>(
            context: *mut c_void,
            failed: *mut u8
            $(, $a: <$a as CallbackValue>::C)*
        ) -> R::C {
            // SAFETY: by this function's contract.
            let callback = unsafe { &*context.cast::<NativeCallback<'_>>() };
            // SAFETY: as above; the arguments are built with the GIL held.
            let result = unsafe {
                call_native::<R, _>(callback, |py: &Python| {
                    let _ = py;
                    [$(<$a as PyReturn>::to_py(py, $a)),*]
                })
            };
            result.unwrap_or_else(|| {
                // SAFETY: by this function's contract.
                unsafe { *failed = 1 };
                R::failed()
            })
        }

        impl<'a, R: PyCallbackReturn, $($a: PyCallbackValue),*> PyCallback
            for crate::callback::Callback<'a, fn($($a),*) -> R>
        {
            fn native(callback: &NativeCallback<'_>) -> FfiCallback {
                FfiCallback {
                    call: $trampoline::<R, $($a),*> as *const c_void,
                    context: (callback as *const NativeCallback<'_>).cast_mut().cast(),
                }
            }
        }
    };
}

native_trampoline!(trampoline0:);
native_trampoline!(trampoline1: A);
native_trampoline!(trampoline2: A, B);
native_trampoline!(trampoline3: A, B, C);
native_trampoline!(trampoline4: A, B, C, D);

/// Calls `callback` with the arguments `args` builds, with the GIL taken
/// for the call and given back after; `None` if it failed (its exception
/// is kept in the call's failure record).
///
/// # Safety
/// As the trampolines': the calling thread has a Python thread state, and
/// the call's `CallbackGil` says truly whether it holds the GIL: `Released`
/// (it does not: `PyEval_RestoreThread` with the GIL held would deadlock),
/// `Held` (it does), or `Ensure` (either); the callable is live.
unsafe fn call_native<R: PyCallbackReturn, Args: AsRef<[Py]>>(
    callback: &NativeCallback<'_>,
    args: impl FnOnce(&Python) -> Args,
) -> Option<R::C> {
    // The fast function that made `callback` ran after `init`.
    let api = API.get()?;
    let gil = callback.call.gil.get();
    let ensured = match gil {
        CallbackGil::Ensure => Some(api_call!(api, gil_state_ensure())),
        // The thread's own state, which the fast function released the GIL
        // with: taken back and released again, as `Released` does.
        CallbackGil::Released(thread) => {
            api_call!(api, eval_restore_thread(thread));
            None
        }
        CallbackGil::Held => None,
    };
    let result = {
        // The token lives while the GIL is held, in this block only.
        let py = Python {
            api,
            _gil: PhantomData,
        };
        let args = args(&py);
        // SAFETY: the GIL is held; the callable is live (the caller's
        // contract).
        unsafe { py.call_back::<R>(callback, args.as_ref()) }
    };
    match (ensured, gil) {
        (Some(state), _) => api_call!(api, gil_state_release(state)),
        (None, CallbackGil::Released(_)) => {
            let released = api_call!(api, eval_save_thread());
            callback.call.gil.set(CallbackGil::Released(released));
        }
        (None, _) => {}
    }
    result
}

impl Python {
    /// The exception set on this thread, taken (cleared) and normalized:
    /// `[type, instance, traceback]`, strong references (all NULL if none
    /// was set; the traceback may be NULL), the instance's `__traceback__`
    /// set as a Python `except` would see it.
    fn fetch(&self) -> [Py; 3] {
        let mut parts: [Py; 3] = [core::ptr::null_mut(); 3];
        let [kind, value, traceback] = &mut parts;
        api_call!(self.api, err_fetch(kind, value, traceback));
        if !kind.is_null() {
            api_call!(self.api, err_normalize_exception(kind, value, traceback));
            if !value.is_null() && !traceback.is_null() {
                api_call!(self.api, exception_set_traceback(*value, *traceback));
            }
        }
        parts
    }

    /// A callable argument for a `Callback` parameter, or `None` (the slow
    /// path raises the documented `TypeError`).
    ///
    /// # Safety
    /// `obj` is a live argument of the fast function, kept alive by its
    /// caller for the call.
    pub unsafe fn callback_arg<'f>(
        &self,
        obj: Py,
        call: &'f CallbackCall,
    ) -> Option<NativeCallback<'f>> {
        (api_call!(self.api, callable_check(obj)) != 0).then_some(NativeCallback {
            callable: obj,
            call,
        })
    }

    /// Calls the callable with `args` (new references, consumed; NULL ones
    /// mean building them failed) and reads its result.
    ///
    /// # Safety
    /// The GIL is held; the callable is live.
    unsafe fn call_back<R: PyCallbackReturn>(
        &self,
        callback: &NativeCallback<'_>,
        args: &[Py],
    ) -> Option<R::C> {
        let result = if args.contains(&core::ptr::null_mut()) {
            core::ptr::null_mut()
        } else {
            api_call!(
                self.api,
                object_vectorcall_dict(
                    callback.callable,
                    args.as_ptr(),
                    args.len(),
                    core::ptr::null_mut()
                )
            )
        };
        for arg in args {
            api_call!(self.api, decref(*arg));
        }
        if result.is_null() {
            callback.call.keep(self);
            return None;
        }
        // SAFETY: a live result; the GIL is held.
        let value = match unsafe { R::from_py(self, result) } {
            Some(value) => Some(value),
            // SAFETY: as above.
            None => unsafe { self.checked_result::<R>(result) },
        };
        api_call!(self.api, decref(result));
        if value.is_none() {
            callback.call.keep(self);
        }
        value
    }

    /// A result the exact readers refused, checked by the helper's
    /// `callback_result(rust_type, value)` (the ctypes path's check: it
    /// raises the documented error or returns an exact `int`, `float` or
    /// `bool`), then read again. `None` with an exception set if refused.
    ///
    /// # Safety
    /// `result` is a live object; the GIL is held.
    unsafe fn checked_result<R: PyCallbackReturn>(&self, result: Py) -> Option<R::C> {
        let rust = match R::DESC {
            TypeDesc::Scalar(name) => name,
            _ => "()",
        };
        let name = self.new_str(rust);
        if name.is_null() {
            return None;
        }
        let args = [name, result];
        let checked = api_call!(
            self.api,
            object_vectorcall_dict(
                self.api.callback_result,
                args.as_ptr(),
                args.len(),
                core::ptr::null_mut()
            )
        );
        api_call!(self.api, decref(name));
        if checked.is_null() {
            return None;
        }
        // SAFETY: a live object; the GIL is held.
        let value = unsafe { R::from_py(self, checked) };
        api_call!(self.api, decref(checked));
        if value.is_none() {
            // The helper returned something else than it promises.
            let message = self.new_str("the callback's result could not be converted");
            if !message.is_null() {
                api_call!(self.api, err_set_object(self.api.invalid_argument, message));
                api_call!(self.api, decref(message));
            }
        }
        value
    }

    /// [`Python::finish`] for a call that lent Python callbacks: when the
    /// call failed because one raised (`Fault::CallbackFailed`), that
    /// exception is raised again as it was (its traceback too). A callback
    /// that raised while Rust was already failing (a panic's `Drop` guard
    /// calling back) is the `__context__` of the exception the call raises
    /// (its own context being the exception handled around the call, if
    /// any), as on the ctypes path; one Rust caught and then succeeded is
    /// dropped.
    ///
    /// # Safety
    /// As [`Python::finish`]; the GIL is held again; `call` is the record
    /// the call's trampolines kept their failure in.
    pub unsafe fn finish_calling_back<A>(
        &self,
        abi: A,
        fault: Option<Fault>,
        receiver: Py,
        call: &CallbackCall,
        build: unsafe fn(&Python, A) -> Py,
    ) -> Py {
        if let Some([kind, value, traceback]) = call.fetched.take() {
            if matches!(fault, Some(Fault::CallbackFailed)) {
                // The strong references move into the thread's error
                // indicator. The failed call's `abi` is its zero value,
                // which owns nothing.
                api_call!(self.api, err_restore(kind, value, traceback));
                return core::ptr::null_mut();
            }
            let failed = fault.is_some();
            // SAFETY: forwarded contract.
            let result = unsafe { self.finish(abi, fault, receiver, build) };
            if failed && result.is_null() {
                let [raised_kind, raised, raised_traceback] = self.fetch();
                if !raised.is_null() && !value.is_null() {
                    // Steals the reference to `value`.
                    api_call!(self.api, exception_set_context(raised, value));
                } else {
                    api_call!(self.api, decref(value));
                }
                api_call!(self.api, err_restore(raised_kind, raised, raised_traceback));
            } else {
                api_call!(self.api, decref(value));
            }
            for part in [kind, traceback] {
                api_call!(self.api, decref(part));
            }
            return result;
        }
        // SAFETY: forwarded contract.
        unsafe { self.finish(abi, fault, receiver, build) }
    }
}
