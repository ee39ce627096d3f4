//! Records on the fast path: an `#[export]` struct read from, and built as,
//! an instance of the helper's record class without any Python code.
//!
//! The helper makes one class per record (a subclass of its `_Record` with
//! `__slots__` of the fields, in field order) and, once the fast path is on,
//! registers each with [`ffi_export_python_record`]: the class and where
//! each field's slot is in its instances (measured by the helper, as it
//! measures an object's `_handle` slot). `#[export]` then gives the record
//! a [`PyArg`](super::PyArg) impl that reads an exact instance's slots (each
//! field through its own `PyArg`, a field without one falling back to the
//! ctypes path) and a [`PyReturn`](super::PyReturn) impl that allocates an
//! instance and stores each field's object in its slot, as the helper's
//! generated reader does with `object.__new__` and attribute stores.

use super::{Py, PyObject, Python, API};
use core::cell::Cell;
use core::ffi::{c_char, c_int};
use core::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

/// A registered record class: the class (a strong reference kept for the
/// process, as an address) and its fields' slot offsets, in field order.
pub struct RecordLayout {
    class: usize,
    offsets: Box<[isize]>,
}

/// Registered classes of one kind (records, enums), by type key (what
/// [`crate::describe::type_key`] gives and the helper keys its types by).
/// Entries are leaked: they live as long as the classes they hold.
pub struct Registry<L: 'static>(Mutex<Vec<(String, &'static L)>>);

impl<L> Registry<L> {
    pub(super) const fn new() -> Registry<L> {
        Registry(Mutex::new(Vec::new()))
    }

    /// Adds the layout `make` gives for `key`, unless `key` is registered
    /// already (then `make` is not called). Whether it was added.
    pub(super) fn add(&self, key: &str, make: impl FnOnce() -> L) -> bool {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if entries.iter().any(|(known, _)| known == key) {
            return false;
        }
        entries.push((key.to_owned(), Box::leak(Box::new(make()))));
        true
    }

    pub(super) fn find(&self, key: &str) -> Option<&'static L> {
        let entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .find(|(known, _)| known == key)
            .map(|(_, layout)| *layout)
    }
}

/// A kind of registered class: where its registry is, and how many fields
/// (or variants) its layout was registered with.
pub trait Layout: Sized + Sync + 'static {
    /// The kind's registry.
    fn registry() -> &'static Registry<Self>;
    /// Fields of a record, members of an enum.
    fn count(&self) -> usize;
}

static RECORDS: Registry<RecordLayout> = Registry::new();

impl Layout for RecordLayout {
    fn registry() -> &'static Registry<Self> {
        &RECORDS
    }
    fn count(&self) -> usize {
        self.offsets.len()
    }
}

/// Registers the class of the record `key` for the fast path: `offsets`
/// points to `count` byte offsets, one per field in field order, of the
/// field's slot in the class's instances, whose basic size is
/// `basic_size`. Returns 1 when registered, 0 when refused (the fast path
/// is off, an offset is not a pointer-aligned slot inside the instance, or
/// `key` is registered already); a refused record keeps the ctypes path.
///
/// # Safety
/// `key` is a NUL-terminated string; `class` a live type object whose
/// instances have a `PyObject *` slot at each offset (the helper measured
/// them on an instance), holding NULL or a strong reference; `offsets`
/// points to `count` readable values; the GIL is held.
#[no_mangle]
pub unsafe extern "C" fn ffi_export_python_record(
    key: *const c_char,
    class: Py,
    offsets: *const isize,
    count: usize,
    basic_size: isize,
) -> c_int {
    let Some(api) = API.get() else {
        return 0;
    };
    if key.is_null() || class.is_null() || (offsets.is_null() && count > 0) {
        return 0;
    }
    // SAFETY: forwarded contract.
    let Ok(key) = unsafe { core::ffi::CStr::from_ptr(key) }.to_str() else {
        return 0;
    };
    let offsets: Box<[isize]> = match count {
        0 => Box::new([]),
        // SAFETY: forwarded contract (`count` readable offsets).
        _ => unsafe { core::slice::from_raw_parts(offsets, count) }.into(),
    };
    let header = core::mem::size_of::<PyObject>() as isize;
    let slot = core::mem::size_of::<Py>() as isize;
    let valid = |offset: &isize| {
        *offset >= header && offset % slot == 0 && offset.saturating_add(slot) <= basic_size
    };
    if !offsets.iter().all(valid) {
        return 0;
    }
    let added = RECORDS.add(key, || {
        // The class is kept for the process: the layout refers to it.
        api_call!(api, incref(class));
        RecordLayout {
            class: class as usize,
            offsets,
        }
    });
    c_int::from(added)
}

/// A type's registered layout, looked up once (generated code keeps one
/// per record or enum type in a `static`).
pub struct Cache<L: 'static>(OnceLock<&'static L>);

/// A record type's registered layout.
pub type LayoutCache = Cache<RecordLayout>;
/// An enum type's registered class.
pub type EnumCache = Cache<EnumLayout>;

impl<L: Layout> Cache<L> {
    /// An empty cache.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Cache<L> {
        Cache(OnceLock::new())
    }

    /// The layout of the type `desc` describes, if its class was registered
    /// with `len` fields (or members). The registry is consulted until it
    /// answers; the helper registers every class before returning the
    /// library, so a miss then is final (the ctypes path is used).
    pub fn get(&self, desc: &crate::describe::TypeDesc, len: usize) -> Option<&'static L> {
        if let Some(layout) = self.0.get() {
            return Some(layout);
        }
        let key = crate::describe::type_key(desc)?;
        let found = L::registry()
            .find(&key)
            .filter(|layout| layout.count() == len)?;
        Some(*self.0.get_or_init(|| found))
    }
}

impl RecordLayout {
    /// The field objects of `obj`, an instance of exactly the record's
    /// class with every field set (borrowed references, valid while `obj`
    /// holds them); `None` for anything else (another type, a subclass, an
    /// unset field), which the ctypes path then checks.
    ///
    /// # Safety
    /// `obj` is a live object; the GIL is held.
    pub unsafe fn fields<const N: usize>(&self, _py: &Python, obj: Py) -> Option<[Py; N]> {
        // SAFETY: a live object (the caller's contract).
        if unsafe { PyObject::type_of(obj) } as usize != self.class || self.offsets.len() != N {
            return None;
        }
        let mut fields = [core::ptr::null_mut(); N];
        for (field, &offset) in fields.iter_mut().zip(self.offsets.iter()) {
            // SAFETY: `obj` is an instance of the registered class, whose
            // instances have a pointer slot at each offset (checked inside
            // the basic size and aligned at registration), holding NULL or
            // a strong reference; the GIL is held, so nothing changes it.
            *field = unsafe { *obj.cast::<u8>().offset(offset).cast::<Py>() };
            if field.is_null() {
                return None;
            }
        }
        Some(fields)
    }

    /// A new instance of the record's class holding `values` (new
    /// references, in field order, stolen: stored in the slots or released
    /// here), or NULL with an exception set if a value is NULL (its
    /// conversion failed and set one) or the allocation fails.
    ///
    /// # Safety
    /// Each value is NULL or a strong reference the caller gives away.
    pub unsafe fn build<const N: usize>(&self, py: &Python, values: [Py; N]) -> Py {
        let release = |values: &[Py]| {
            for &value in values.iter().filter(|value| !value.is_null()) {
                api_call!(py.api, decref(value));
            }
        };
        if values.contains(&core::ptr::null_mut()) || self.offsets.len() != N {
            release(&values);
            if api_call!(py.api, err_occurred()).is_null() {
                return py.system_error(c"ffi-export: a record field was not converted");
            }
            return core::ptr::null_mut();
        }
        let object = api_call!(py.api, type_generic_alloc(self.class as Py, 0));
        if object.is_null() {
            release(&values);
            return object;
        }
        for (&value, &offset) in values.iter().zip(self.offsets.iter()) {
            // SAFETY: a new, zeroed instance of the registered class (its
            // slots are at these offsets, checked at registration), seen by
            // nothing else yet: each slot is NULL and takes the reference.
            unsafe { *object.cast::<u8>().offset(offset).cast::<Py>() = value };
        }
        object
    }
}

/// [`RecordLayout::build`], or without a layout: releases `values` and
/// raises `SystemError` (never reached: a record without a registered class
/// is not ready, so its exports keep the ctypes path).
///
/// # Safety
/// As [`RecordLayout::build`].
pub unsafe fn build_record<const N: usize>(
    py: &Python,
    layout: Option<&RecordLayout>,
    values: [Py; N],
) -> Py {
    match layout {
        // SAFETY: forwarded contract.
        Some(layout) => unsafe { layout.build(py, values) },
        None => {
            for &value in values.iter().filter(|value| !value.is_null()) {
                api_call!(py.api, decref(value));
            }
            py.system_error(c"ffi-export: a record's class is not registered")
        }
    }
}

/// A record type's answer to "can the fast path read (or build) it",
/// computed once. A record reached again while its answer is being
/// computed (a recursive record: `children: Vec<Node>`) is guessed ready,
/// so the answer is that of the record's other fields. An answer that
/// relied on such a guess is kept only when it is "not ready" (a guess
/// can only make things more ready) or when it is the outermost record's
/// (which the guess was about); the inner ones are asked again later.
/// (Answers are asked for with the GIL held, so one thread computes at a
/// time; another thread meeting a computation would guess too.)
pub struct Readiness(AtomicU8);

thread_local! {
    /// Readiness computations running on this thread, and how many
    /// guesses they made.
    static COMPUTATIONS: Cell<(u32, u64)> = const { Cell::new((0, 0)) };
}

const UNKNOWN: u8 = 0;
const COMPUTING: u8 = 1;
const READY: u8 = 2;
const NOT_READY: u8 = 3;

impl Readiness {
    /// Not computed yet.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Readiness {
        Readiness(AtomicU8::new(UNKNOWN))
    }

    /// The answer, computed by `compute` the first time.
    pub fn get(&self, compute: impl FnOnce() -> bool) -> bool {
        match self
            .0
            .compare_exchange(UNKNOWN, COMPUTING, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                let (depth, guesses) = COMPUTATIONS.with(Cell::get);
                COMPUTATIONS.with(|c| c.set((depth + 1, guesses)));
                let ready = compute();
                let (_, after) = COMPUTATIONS.with(Cell::get);
                let outermost = depth == 0;
                COMPUTATIONS.with(|c| c.set((depth, if outermost { 0 } else { after })));
                let state = match ready {
                    false => NOT_READY,
                    true if outermost || after == guesses => READY,
                    // Ready only if a record being computed is: ask again.
                    true => UNKNOWN,
                };
                self.0.store(state, Ordering::Release);
                ready
            }
            Err(COMPUTING) => {
                COMPUTATIONS.with(|c| {
                    let (depth, guesses) = c.get();
                    c.set((depth, guesses + 1));
                });
                true
            }
            Err(state) => state == READY,
        }
    }
}

/// How deep records may nest in one argument read natively: deeper (or a
/// cycle: a record holding itself) falls back to the ctypes path, which
/// converts it or raises Python's `RecursionError`, instead of overflowing
/// the stack (kept low for threads with small stacks).
const MAX_DEPTH: u32 = 64;

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// One record level of a native read, or `None` past `MAX_DEPTH` levels.
pub struct Nested(());

impl Nested {
    /// Enters one level.
    pub fn enter() -> Option<Nested> {
        let depth = DEPTH.try_with(Cell::get).ok()?;
        if depth >= MAX_DEPTH {
            return None;
        }
        DEPTH.try_with(|d| d.set(depth + 1)).ok()?;
        Some(Nested(()))
    }
}

impl Drop for Nested {
    fn drop(&mut self) {
        let _ = DEPTH.try_with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// A registered field-less enum class (an `enum.IntEnum`): the class and
/// its members in variant order (strong references kept for the process,
/// as addresses).
pub struct EnumLayout {
    class: usize,
    members: Box<[usize]>,
}

static ENUMS: Registry<EnumLayout> = Registry::new();

impl Layout for EnumLayout {
    fn registry() -> &'static Registry<Self> {
        &ENUMS
    }
    fn count(&self) -> usize {
        self.members.len()
    }
}

/// Registers the class of the field-less enum `key` for the fast path:
/// `members` is a tuple of its members, one per Rust variant in order.
/// Returns 1 when registered, 0 when refused (the fast path is off,
/// `members` is not a tuple, or `key` is registered already).
///
/// # Safety
/// `key` is a NUL-terminated string; `class` and `members` are live
/// objects, the members instances of `class` (an `int` subclass); the GIL
/// is held.
#[no_mangle]
pub unsafe extern "C" fn ffi_export_python_enum(
    key: *const c_char,
    class: Py,
    members: Py,
) -> c_int {
    let Some(api) = API.get() else {
        return 0;
    };
    if key.is_null() || class.is_null() || members.is_null() {
        return 0;
    }
    // SAFETY: forwarded contract.
    let Ok(key) = unsafe { core::ffi::CStr::from_ptr(key) }.to_str() else {
        return 0;
    };
    // SAFETY: a live object (the caller's contract).
    if unsafe { PyObject::type_of(members) } != api.tuple_type {
        return 0;
    }
    let count = api_call!(api, tuple_size(members));
    let mut kept = Vec::new();
    for index in 0..count.max(0) {
        let member = api_call!(api, tuple_get_item(members, index));
        if member.is_null() {
            api_call!(api, err_clear());
            return 0;
        }
        kept.push(member as usize);
    }
    let added = ENUMS.add(key, || {
        // The class and its members are kept for the process.
        api_call!(api, incref(class));
        for &member in &kept {
            api_call!(api, incref(member as Py));
        }
        EnumLayout {
            class: class as usize,
            members: kept.into(),
        }
    });
    c_int::from(added)
}

impl EnumLayout {
    /// The integer value of `obj`, an exact `int` or a member of exactly
    /// the enum's class (as the ctypes path accepts either); `None` for
    /// anything else or a value beyond `i64`.
    ///
    /// # Safety
    /// `obj` is a live object; the GIL is held.
    pub unsafe fn value(&self, py: &Python, obj: Py) -> Option<i64> {
        // SAFETY: a live object (the caller's contract).
        let class = unsafe { PyObject::type_of(obj) };
        if class != py.api.int_type && class as usize != self.class {
            return None;
        }
        // An `int` or an `IntEnum` member: `PyLong_AsLongLong` reads the
        // number itself (no `__index__` runs for an `int` subclass).
        py.long_i64(obj)
    }
}

/// The member of variant `index` of a registered enum (a new reference),
/// or NULL with `SystemError` set if there is none (never reached: an enum
/// without a registered class is not ready, and `index` comes from a value
/// Rust made).
pub fn enum_member(py: &Python, layout: Option<&EnumLayout>, index: Option<u32>) -> Py {
    let member = layout
        .zip(index)
        .and_then(|(layout, index)| layout.members.get(index as usize));
    match member {
        Some(&member) => {
            api_call!(py.api, incref(member as Py));
            member as Py
        }
        None => py.system_error(c"ffi-export: an enum variant without a registered member"),
    }
}
