//! Objects on the fast path: an `#[export] impl` type's instances made,
//! constructed and finalized without any Python code.
//!
//! The helper makes one class per object type (a subclass of its `_Object`,
//! whose `_handle`, `_id` and `_fresh` slots hold the Rust value's handle,
//! the identity it keeps after closing, and "just made by `__new__`") and,
//! once the fast path is on, registers each with
//! [`ffi_export_python_object`]. Then:
//!
//! * a result of the type is built as an instance of the class holding its
//!   handle ([`build_object`], the type's `PyReturn`), as the helper's
//!   `_from_handle` does;
//! * the class's `__new__` is a native function calling the constructor
//!   export's fast function ([`ffi_export_python_constructor`]), and its
//!   `__init__` a native one that accepts the instance `__new__` just made
//!   and hands every other call (a second `__init__`, a subclass's) to the
//!   helper's Python `__init__`;
//! * its `__del__` is a native function that frees the handle, as
//!   `_Object.__del__` does through the type's `<Type>_free`.

use super::{
    call_with_keywords, new_native_function, FastFn, NativeFunction, NativeParts, Py, PyApi,
    PyObject, Python, Registry, Role, API, PY_VECTORCALL_ARGUMENTS_OFFSET,
};
use super::{records::Layout, Cache};
use core::ffi::{c_char, c_int};

/// A registered object class: the class (a strong reference kept for the
/// process, as an address), its instances' slot offsets, and how to free a
/// handle of the type.
pub struct ObjectLayout {
    class: usize,
    handle: isize,
    id: isize,
    fresh: isize,
    release: fn(u64),
}

static OBJECTS: Registry<ObjectLayout> = Registry::new();

impl Layout for ObjectLayout {
    fn registry() -> &'static Registry<Self> {
        &OBJECTS
    }
    fn count(&self) -> usize {
        0
    }
}

/// An object type's registered class, looked up once.
pub type ObjectCache = Cache<ObjectLayout>;

/// Registers the class of the object type `key` for the fast path: the
/// byte offsets of its instances' `_handle`, `_id` and `_fresh` slots
/// (measured by the helper on an instance; `basic_size` is the class's).
/// Returns 1 when registered, 0 when refused (the fast path is off, `key`
/// is no object type of this library or is registered already, an offset
/// is not a pointer-aligned slot inside the instance); a refused type keeps
/// the ctypes path.
///
/// # Safety
/// `key` is a NUL-terminated string; `class` a live type object, a
/// subclass of the helper's `_Object` (the `Object` of the API table),
/// whose instances have a `PyObject *` slot at each offset holding NULL or
/// a strong reference; the GIL is held.
#[no_mangle]
pub unsafe extern "C" fn ffi_export_python_object(
    key: *const c_char,
    class: Py,
    handle: isize,
    id: isize,
    fresh: isize,
    basic_size: isize,
) -> c_int {
    let Some(api) = API.get() else {
        return 0;
    };
    if key.is_null() || class.is_null() {
        return 0;
    }
    // SAFETY: forwarded contract.
    let Ok(key) = unsafe { core::ffi::CStr::from_ptr(key) }.to_str() else {
        return 0;
    };
    let header = core::mem::size_of::<PyObject>() as isize;
    let slot = core::mem::size_of::<Py>() as isize;
    let valid = |offset: isize| {
        offset >= header && offset % slot == 0 && offset.saturating_add(slot) <= basic_size
    };
    let distinct = handle != id && id != fresh && handle != fresh;
    if ![handle, id, fresh].into_iter().all(valid) || !distinct {
        return 0;
    }
    if api_call!(api, type_is_subtype(class, api.object_base)) == 0 {
        return 0;
    }
    let release = crate::describe::TYPES
        .iter()
        .find_map(|entry| match entry.desc {
            crate::describe::TypeDesc::Object(desc)
                if crate::describe::type_key(&entry.desc).as_deref() == Some(key) =>
            {
                Some(desc().release)
            }
            _ => None,
        });
    let Some(release) = release else {
        return 0;
    };
    let added = OBJECTS.add(key, || {
        // The class is kept for the process: the layout refers to it.
        api_call!(api, incref(class));
        ObjectLayout {
            class: class as usize,
            handle,
            id,
            fresh,
            release,
        }
    });
    c_int::from(added)
}

/// A registered object type's layout, by key.
fn registered(key: *const c_char) -> Option<&'static ObjectLayout> {
    if key.is_null() {
        return None;
    }
    // SAFETY: the callers' contract: a NUL-terminated string.
    let key = unsafe { core::ffi::CStr::from_ptr(key) }.to_str().ok()?;
    OBJECTS.find(key)
}

/// `None`, a new reference.
fn none(api: &PyApi) -> Py {
    api_call!(api, incref(api.py_none));
    api.py_none
}

/// The native `__init__` (`which` 0) or `__del__` (`which` 1) of the
/// registered object class `key`: `__init__` accepts an instance its
/// native `__new__` just made (clearing its `_fresh` slot) and hands every
/// other call to `slow`, the helper's Python `__init__`; `__del__` frees
/// the instance's handle (and sets it to 0), handing anything unexpected
/// (a `_handle` that is not an `int`) to `slow`, `_Object.__del__`. `None`
/// when `key` is not registered; NULL with an exception set on failure.
///
/// # Safety
/// `key` is a NUL-terminated string, `slow` a live callable; the GIL is
/// held.
#[no_mangle]
pub unsafe extern "C" fn ffi_export_python_object_slot(
    key: *const c_char,
    which: c_int,
    slow: Py,
) -> Py {
    let Some(api) = API.get() else {
        return core::ptr::null_mut();
    };
    let role = match (registered(key), which) {
        (Some(layout), 0) => Role::Init(layout.fresh),
        (Some(layout), 1) => Role::Del(layout),
        _ => return none(api),
    };
    let parts = NativeParts {
        slow,
        names: api.py_none,
        defaults: api.py_none,
        count: 0,
        required: 0,
        fast: None,
        role,
        other: core::ptr::null_mut(),
    };
    new_native_function(api, parts)
}

/// What a native `__new__` needs besides its export's fast function.
#[derive(Clone, Copy)]
pub(super) struct NewRole {
    layout: &'static ObjectLayout,
}

/// The native `__new__` of the registered object class `key`, calling the
/// fast function of the constructor export `name` (parameters `names`,
/// trailing `defaults`, as [`super::ffi_export_python_native`]). Called
/// as `(cls, params...)`: for `cls` exactly the class, the instance the
/// export builds, marked fresh for `__init__`; its fallback is `slow`
/// (called with the parameters, it returns a fresh instance or raises the
/// ctypes path's error). For a subclass, `other(cls, params...)` (the
/// helper's `_Object.__new__`: an empty instance its `__init__` fills).
/// `None` when the export has no fast function or `key` is not registered.
///
/// # Safety
/// As [`super::ffi_export_python_native`]; `key` is a NUL-terminated
/// string and `other` a live callable.
#[no_mangle]
pub unsafe extern "C" fn ffi_export_python_constructor(
    name: *const c_char,
    slow: Py,
    names: Py,
    defaults: Py,
    key: *const c_char,
    other: Py,
) -> Py {
    let Some(api) = API.get() else {
        return core::ptr::null_mut();
    };
    let Some(layout) = registered(key) else {
        return none(api);
    };
    // SAFETY: forwarded contract.
    let object = unsafe { super::ffi_export_python_native(name, slow, names, defaults) };
    if object.is_null() || object == api.py_none || other.is_null() {
        return object;
    }
    // SAFETY: a `native_function` just made, seen by nobody else yet; it
    // takes a reference to `other`, released by its dealloc.
    api_call!(api, incref(other));
    unsafe {
        let this = object.cast::<NativeFunction>();
        (*this).role = Role::New(NewRole { layout });
        (*this).other = other;
    }
    object
}

/// The `vectorcall` of a native `__new__` (see
/// [`ffi_export_python_constructor`]).
///
/// # Safety
/// As `native_vectorcall`; `role` is the function's own.
pub(super) unsafe fn new_vectorcall(
    api: &PyApi,
    this: &NativeFunction,
    fast: FastFn,
    role: NewRole,
    args: *const Py,
    nargsf: usize,
    kwnames: Py,
) -> Py {
    let nargs = nargsf & !PY_VECTORCALL_ARGUMENTS_OFFSET;
    // SAFETY: CPython passes at least `nargs` live arguments.
    let cls = match unsafe { Python::args(args, nargs as isize) }.first() {
        Some(&cls) if cls as usize == role.layout.class => cls,
        // SAFETY: forwarded contract.
        _ => return unsafe { call_with_keywords(api, this.other, args, nargsf, kwnames) },
    };
    // The parameters, after `cls`: bound as a free function's.
    // SAFETY: `nargs >= 1` (`cls` was there): one past it is in bounds.
    let params = unsafe { args.add(1) };
    let mut bound = [core::ptr::null_mut(); super::MAX_NATIVE_PARAMS];
    let nparams = nargs as isize - 1;
    // SAFETY: the arguments and keywords CPython passed, after `cls`.
    let binds = kwnames.is_null() && nparams == this.count
        || unsafe { super::bind_arguments(api, this, params, nparams, kwnames, &mut bound) };
    let made = if kwnames.is_null() && nparams == this.count {
        // SAFETY: `count` live arguments with the GIL held.
        unsafe { fast(this.slow, params, nparams) }
    } else if binds {
        // SAFETY: `count` live arguments with the GIL held.
        unsafe { fast(this.slow, bound.as_ptr(), this.count) }
    } else {
        // SAFETY: as above; `slow` raises Python's error for the call.
        unsafe { call_with_keywords(api, this.slow, params, nparams as usize, kwnames) }
    };
    // SAFETY: a live object (or NULL) the call returned.
    if !made.is_null() && unsafe { PyObject::type_of(made) } == cls {
        // SAFETY: an instance of exactly the registered class: its
        // `_fresh` slot is at this offset (checked at registration),
        // holding NULL or a strong reference; the GIL is held.
        unsafe { mark(api, made, role.layout.fresh, api.py_true) };
    }
    made
}

/// Stores `value` (borrowed; NULL to clear) in the slot at `offset` of
/// `object`, releasing what it held.
///
/// # Safety
/// `object` has a `PyObject *` slot at `offset` holding NULL or a strong
/// reference; the GIL is held.
unsafe fn mark(api: &PyApi, object: Py, offset: isize, value: Py) {
    // SAFETY: the caller's contract.
    let slot = unsafe { object.cast::<u8>().offset(offset).cast::<Py>() };
    if !value.is_null() {
        api_call!(api, incref(value));
    }
    // SAFETY: as above; the old value is released after the slot changed,
    // so code its release runs sees the new one.
    let old = unsafe { core::ptr::replace(slot, value) };
    if !old.is_null() {
        api_call!(api, decref(old));
    }
}

/// The slot at `offset` of `receiver` when it is an instance of the
/// helper's `_Object` (borrowed, maybe NULL); `None` for anything else.
///
/// # Safety
/// `receiver` is a live object; `offset` one of a registered layout's
/// (valid in every `_Object` subclass instance, whose layout extends
/// `_Object`'s); the GIL is held.
unsafe fn slot_of(api: &PyApi, receiver: Py, offset: isize) -> Option<Py> {
    // SAFETY: a live object.
    let class = unsafe { PyObject::type_of(receiver) };
    if api_call!(api, type_is_subtype(class, api.object_base)) == 0 {
        return None;
    }
    // SAFETY: the caller's contract (an `_Object` instance, a registered
    // offset of one of its slots).
    Some(unsafe { *receiver.cast::<u8>().offset(offset).cast::<Py>() })
}

/// The `vectorcall` of a native `__init__`: `(self, params...)`; an
/// instance marked fresh is unmarked and accepted, anything else goes to
/// the helper's `__init__`.
///
/// # Safety
/// As `native_vectorcall`; `fresh` is a registered layout's `_fresh` offset.
pub(super) unsafe fn init_vectorcall(
    api: &PyApi,
    this: &NativeFunction,
    fresh: isize,
    args: *const Py,
    nargsf: usize,
    kwnames: Py,
) -> Py {
    let nargs = nargsf & !PY_VECTORCALL_ARGUMENTS_OFFSET;
    // SAFETY: CPython passes at least `nargs` live arguments.
    if let Some(&receiver) = unsafe { Python::args(args, nargs as isize) }.first() {
        // SAFETY: a live argument; `fresh` is a registered offset.
        if let Some(marked) = unsafe { slot_of(api, receiver, fresh) } {
            if !marked.is_null() {
                // SAFETY: an `_Object` instance's `_fresh` slot.
                unsafe { mark(api, receiver, fresh, core::ptr::null_mut()) };
                return none(api);
            }
        }
    }
    // SAFETY: forwarded contract.
    unsafe { call_with_keywords(api, this.slow, args, nargsf, kwnames) }
}

/// The `vectorcall` of a native `__del__`: `(self)`; frees the handle in
/// `self`'s `_handle` slot (an exact `int`; 0 is closed) and sets it to 0,
/// with the GIL released while the Rust value drops, as the ctypes free
/// does. Nothing is raised: a failure to free (a panic in `Drop`, a
/// handle of another type) is dropped, as `_Object.__del__` ignores it.
///
/// # Safety
/// As `native_vectorcall`.
pub(super) unsafe fn del_vectorcall(
    api: &PyApi,
    this: &NativeFunction,
    layout: &'static ObjectLayout,
    args: *const Py,
    nargsf: usize,
    kwnames: Py,
) -> Py {
    let nargs = nargsf & !PY_VECTORCALL_ARGUMENTS_OFFSET;
    // SAFETY: CPython passes at least `nargs` live arguments.
    let given = unsafe { Python::args(args, nargs as isize) };
    let (&[receiver], true) = (given, kwnames.is_null()) else {
        // SAFETY: forwarded contract.
        return unsafe { call_with_keywords(api, this.slow, args, nargsf, kwnames) };
    };
    // SAFETY: a live argument; `layout.handle` is a registered offset.
    let Some(held) = (unsafe { slot_of(api, receiver, layout.handle) }) else {
        // SAFETY: forwarded contract.
        return unsafe { call_with_keywords(api, this.slow, args, nargsf, kwnames) };
    };
    if held.is_null() {
        return none(api);
    }
    // SAFETY: a live object held by the slot.
    if unsafe { PyObject::type_of(held) } != api.int_type {
        // SAFETY: forwarded contract.
        return unsafe { call_with_keywords(api, this.slow, args, nargsf, kwnames) };
    }
    let handle = api_call!(api, long_as_unsigned_long_long(held));
    if handle == u64::MAX && !api_call!(api, err_occurred()).is_null() {
        api_call!(api, err_clear());
        // SAFETY: forwarded contract.
        return unsafe { call_with_keywords(api, this.slow, args, nargsf, kwnames) };
    }
    if handle == 0 {
        return none(api);
    }
    let zero = api_call!(api, long_from_long_long(0));
    if zero.is_null() {
        return zero;
    }
    // SAFETY: `receiver` is an `_Object` instance (checked by `slot_of`),
    // `layout.handle` its `_handle` slot; `zero` is moved into it.
    unsafe { mark(api, receiver, layout.handle, zero) };
    api_call!(api, decref(zero));
    // SAFETY: CPython called this function with the GIL held; the token
    // does not outlive the call.
    let Some(mut py) = (unsafe { super::python() }) else {
        return core::ptr::null_mut();
    };
    let released = py.release();
    (layout.release)(handle);
    drop(released);
    none(api)
}

/// The instance of the registered class `layout` for a new `handle` of its
/// type (a new reference), as the helper's `_from_handle` makes it; NULL
/// with an exception set if it cannot be made, the handle then freed.
/// (Without a layout, which never happens: the type is not ready and its
/// exports keep the ctypes path, the handle is freed and `SystemError`
/// raised.)
///
/// # Safety
/// `handle` was made by registering a value of `layout`'s type and is not
/// used again; the GIL is held.
pub unsafe fn build_object(
    py: &Python,
    layout: Option<&ObjectLayout>,
    handle: u64,
    release: fn(u64),
) -> Py {
    let Some(layout) = layout else {
        release(handle);
        return py.system_error(c"ffi-export: an object's class is not registered");
    };
    let number = api_call!(py.api, long_from_unsigned_long_long(handle));
    let object = match number.is_null() {
        true => core::ptr::null_mut(),
        false => api_call!(py.api, type_generic_alloc(layout.class as Py, 0)),
    };
    if object.is_null() {
        if !number.is_null() {
            api_call!(py.api, decref(number));
        }
        // Freed with the GIL held (the value's `Drop` runs here): only
        // after an allocation failed.
        release(handle);
        return core::ptr::null_mut();
    }
    // SAFETY: a new, zeroed instance of the registered class (its slots
    // at these offsets, checked at registration), seen by nothing else
    // yet: each slot takes a reference to the handle's `int`, and the one
    // `number` held is released.
    unsafe {
        mark(py.api, object, layout.handle, number);
        mark(py.api, object, layout.id, number);
    }
    api_call!(py.api, decref(number));
    object
}

/// A type's `release` for its `ObjectDesc`: frees `handle` through the
/// registry, its `Drop` run under `catch_unwind` and any failure dropped
/// (a finalizer has no one to report to).
pub fn release_quietly<T: crate::FfiObject>(handle: u64) {
    let _ = crate::status::catch_quietly(|| crate::release::<T>(handle));
}

/// The native method `name` of the registered object class `key` whose
/// parameters after `self` marked in `others` (one bit each) are other
/// instances of the class (`other: &Self` of a comparison): as
/// [`super::ffi_export_python_native_method`], but each such operand is
/// passed as its handle, and one that is not an instance of the class
/// makes the call `NotImplemented` (what Python's binary dunders return
/// for another type). `None` when the export has no fast function or `key`
/// is not registered.
///
/// # Safety
/// As [`super::ffi_export_python_native_method`]; `key` is a
/// NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn ffi_export_python_protocol_method(
    name: *const c_char,
    slow: Py,
    names: Py,
    defaults: Py,
    handle_offset: isize,
    key: *const c_char,
    others: u32,
) -> Py {
    let Some(api) = API.get() else {
        return core::ptr::null_mut();
    };
    let Some(layout) = registered(key) else {
        return none(api);
    };
    if layout.handle != handle_offset {
        return none(api);
    }
    // SAFETY: forwarded contract.
    let object = unsafe {
        super::ffi_export_python_native_method(name, slow, names, defaults, handle_offset)
    };
    if object.is_null() || object == api.py_none {
        return object;
    }
    // SAFETY: a `native_function` just made, seen by nobody else yet.
    unsafe {
        (*object.cast::<NativeFunction>()).role = Role::Method(super::MethodRole {
            handle: handle_offset,
            others,
            class: layout.class,
        });
    }
    object
}

/// Where `RustIterator.__next__` finds the items read ahead.
#[derive(Clone, Copy)]
pub(super) struct IterRole {
    /// The helper's `RustIterator` class.
    class: usize,
    /// The offset of its `_items` slot.
    items: isize,
}

/// A native `__next__` for the helper's `RustIterator` class `class`,
/// whose `_items` slot (at `items`) holds the iterator over the items read
/// ahead: an exact `list_iterator`'s next item is returned without Python
/// code; anything else (the chunk is used up, the iterator is closed, the
/// slot holds another kind of iterator) goes to `slow`, the class's own
/// `__next__`, which reads the next chunk. NULL with an exception set on
/// failure.
///
/// # Safety
/// `class` is a live type whose instances have a `PyObject *` slot at
/// `items` (measured by the helper), inside `basic_size`; `slow` a live
/// callable; the GIL is held.
#[no_mangle]
pub unsafe extern "C" fn ffi_export_python_iterator_next(
    class: Py,
    items: isize,
    basic_size: isize,
    slow: Py,
) -> Py {
    let Some(api) = API.get() else {
        return core::ptr::null_mut();
    };
    let header = core::mem::size_of::<PyObject>() as isize;
    let slot = core::mem::size_of::<Py>() as isize;
    if class.is_null() || items < header || items % slot != 0 || items + slot > basic_size {
        return none(api);
    }
    // The class is kept for the process: the function refers to it.
    api_call!(api, incref(class));
    let parts = NativeParts {
        slow,
        names: api.py_none,
        defaults: api.py_none,
        count: 0,
        required: 0,
        fast: None,
        role: Role::IterNext(IterRole {
            class: class as usize,
            items,
        }),
        other: core::ptr::null_mut(),
    };
    new_native_function(api, parts)
}

/// The `vectorcall` of the native `RustIterator.__next__` (see
/// [`ffi_export_python_iterator_next`]).
///
/// # Safety
/// As `native_vectorcall`; `role` is the function's own.
pub(super) unsafe fn next_vectorcall(
    api: &PyApi,
    this: &NativeFunction,
    role: IterRole,
    args: *const Py,
    nargsf: usize,
    kwnames: Py,
) -> Py {
    let nargs = nargsf & !PY_VECTORCALL_ARGUMENTS_OFFSET;
    // SAFETY: CPython passes at least `nargs` live arguments.
    let given = unsafe { Python::args(args, nargs as isize) };
    if let (&[receiver], true) = (given, kwnames.is_null()) {
        // SAFETY: a live argument.
        let class = unsafe { PyObject::type_of(receiver) };
        if api_call!(api, type_is_subtype(class, role.class as Py)) != 0 {
            // SAFETY: an instance of the iterator class (or a subclass,
            // whose layout extends it): its `_items` slot is at this
            // offset (checked inside the basic size at creation), holding
            // NULL or a strong reference; the GIL is held.
            let items = unsafe { *receiver.cast::<u8>().offset(role.items).cast::<Py>() };
            // SAFETY: a live object held by the slot.
            if !items.is_null() && unsafe { PyObject::type_of(items) } == api.list_iterator {
                // Held while it runs (a list iterator runs no Python code,
                // but nothing else may release it meanwhile either way).
                api_call!(api, incref(items));
                let item = api_call!(api, iter_next(items));
                api_call!(api, decref(items));
                if !item.is_null() || !api_call!(api, err_occurred()).is_null() {
                    return item;
                }
            }
        }
    }
    // SAFETY: forwarded contract.
    unsafe { call_with_keywords(api, this.slow, args, nargsf, kwnames) }
}
