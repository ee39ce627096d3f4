//! The error channel: every shim runs the user's function through [`call`],
//! which catches panics and records failures for the calling thread.
//!
//! Why a thread-local record and not an out-parameter: an extra argument
//! costs every call (ctypes converts each argument, ~75 ns), and a per-call
//! status struct costs more than the call itself. Instead a failed call
//! returns the zero value of its return type, records a [`Fault`] for its
//! thread, numbered by the process-wide [`FFI_EXPORT_FAULTS`] counter (the
//! failure's sequence number is the counter's value before it moved).
//!
//! Two ways to take it:
//!
//! * C callers call `ffi_export_error_take` right after a call: it takes the
//!   failure of the thread's latest call (every call forgets, on entry, which
//!   call was the latest to fail), or reports that the latest call succeeded.
//! * The Python helper reads the counter before a call (one load) and, when
//!   it moved, calls `ffi_export_error_take_since(before)`: the oldest failure
//!   of this thread numbered `before` or later. That is the helper's own
//!   call's failure even when Python code ran between the call and the take
//!   (a finalizer, a signal handler, another export): such code can only add
//!   later failures, which it takes itself. Failures nobody takes (a C caller
//!   that never asks) are kept per thread up to [`KEPT`], the oldest dropped
//!   first; a take that finds its failure dropped reports that, so a failed
//!   call is never read as a success.
//!
//! The CPython fast path takes its failure in Rust before it re-acquires the
//! GIL ([`take_latest`]), so no Python code runs in between at all.

use crate::abi::{code, AbiValue, ErrorRepr, FfiBuffer, FfiError};
use crate::describe::TypeEntry;
use core::any::Any;
use core::cell::{Cell, RefCell};
use core::ffi::c_void;
use core::fmt::Display;
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::error::Error;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once, PoisonError};

#[cfg(panic = "abort")]
compile_error!(
    "ffi-export needs `panic = \"unwind\"`: with `panic = \"abort\"` a panic in an exported \
     function would kill the caller's process instead of becoming an error"
);

/// Counts failed calls in this library, over all threads. Exported so that
/// callers can detect a failure with two memory reads and no call.
#[no_mangle]
#[used]
pub static FFI_EXPORT_FAULTS: AtomicU64 = AtomicU64::new(0);

/// The unwind payload of a failed callback or allocation (`Callback::call`
/// and `Allocator` unwind with it; [`call`] reports it as code 4).
pub(crate) struct CallbackFailed;

/// The value of an `Err(e)` whose type is an `#[export]` record or enum:
/// its registry entry and its C form, owned (freed when dropped).
#[derive(Debug)]
pub struct ErrorValue {
    /// The registered type of `e`.
    pub entry: &'static TypeEntry,
    /// `e` in its C form, with its variant's index.
    pub repr: ErrorRepr,
}

impl PartialEq for ErrorValue {
    fn eq(&self, other: &Self) -> bool {
        core::ptr::eq(self.entry, other.entry) && self.repr == other.repr
    }
}

impl Eq for ErrorValue {}

/// Why a call failed, before it is flattened into an [`FfiError`].
#[derive(Debug, PartialEq, Eq)]
pub enum Fault {
    /// The function returned `Err`: the error type's short name and its
    /// `Display`.
    Error {
        /// Short type name, e.g. `ParseIntError`.
        type_name: &'static str,
        /// The error's `Display` (for `anyhow::Error` and boxed errors, with
        /// their chain of causes).
        message: String,
        /// The error value itself, when its type is an `#[export]` record
        /// or enum.
        value: Option<ErrorValue>,
    },
    /// The function panicked with this message.
    Panic(String),
    /// An argument was refused before the function ran.
    InvalidArgument(String),
    /// A callback or the caller's allocator failed; the caller holds the
    /// reason (e.g. its Python exception).
    CallbackFailed,
}

/// How many causes of a boxed error's chain the message shows (a chain is
/// finite unless an error is its own source; this bounds it anyway).
const MAX_CAUSES: usize = 64;

/// `error: cause: root cause`, each error's `Display` joined by `: `.
fn with_causes(error: &(dyn Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    for _ in 0..MAX_CAUSES {
        let Some(cause) = source else { break };
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The message of an `Err(e)`: `e`'s `Display`; for boxed errors
/// (`Box<dyn Error>`, with `Send`/`Sync`) their chain of causes (`source()`),
/// and for `anyhow::Error` its alternate `Display`, which is that chain.
fn error_message<E: Display + 'static>(error: &E) -> String {
    let any: &dyn Any = error;
    if let Some(boxed) = any.downcast_ref::<Box<dyn Error + Send + Sync>>() {
        return with_causes(&**boxed);
    }
    if let Some(boxed) = any.downcast_ref::<Box<dyn Error + Send>>() {
        return with_causes(&**boxed);
    }
    if let Some(boxed) = any.downcast_ref::<Box<dyn Error>>() {
        return with_causes(&**boxed);
    }
    // `anyhow::Error` is not a `std::error::Error` and the runtime does not
    // depend on anyhow: it is recognised by name, and its `{:#}` is
    // documented as "outer: inner: root" (tests/python/test_errors.py
    // checks both).
    if core::any::type_name::<E>() == "anyhow::Error" {
        return format!("{error:#}");
    }
    error.to_string()
}

impl Fault {
    /// A `Fault::Error` for any displayable error value. When `E` is an
    /// `#[export]` record or enum (found in [`crate::describe::TYPES`] by
    /// its `TypeId`), the fault keeps the value in its C form.
    pub fn error<E: Display + 'static>(error: E) -> Fault {
        let message = error_message(&error);
        let value = crate::describe::type_entry::<E>().and_then(|entry| {
            let encode = entry.error?;
            Some(ErrorValue {
                entry,
                repr: encode(Box::new(error))?,
            })
        });
        Fault::Error {
            type_name: crate::describe::short_type_name::<E>(),
            message,
            value,
        }
    }

    /// The value of an `Err` of an `#[export]` type.
    pub fn value(&self) -> Option<&ErrorValue> {
        match self {
            Fault::Error { value, .. } => value.as_ref(),
            _ => None,
        }
    }

    /// A `Fault::InvalidArgument` naming the parameter.
    pub fn invalid(param: &str, why: impl Display) -> Fault {
        Fault::InvalidArgument(format!("argument `{param}`: {why}"))
    }

    /// The same failure, located at element `index` of a batched call.
    pub fn at(self, index: usize) -> Fault {
        match self {
            Fault::Error {
                type_name,
                message,
                value,
            } => Fault::Error {
                type_name,
                message: format!("element {index}: {message}"),
                value,
            },
            Fault::Panic(message) => Fault::Panic(format!("element {index}: {message}")),
            Fault::InvalidArgument(message) => {
                Fault::InvalidArgument(format!("element {index}: {message}"))
            }
            Fault::CallbackFailed => Fault::CallbackFailed,
        }
    }

    /// The C error code, the type name in `FfiError::type_name`, and the
    /// message.
    pub fn parts(&self) -> (i32, &'static str, Cow<'_, str>) {
        match self {
            Fault::Error {
                type_name, message, ..
            } => (code::ERROR, type_name, message.into()),
            Fault::Panic(message) => (code::PANIC, "RustPanic", message.into()),
            Fault::InvalidArgument(message) => {
                (code::INVALID_ARGUMENT, "InvalidArgument", message.into())
            }
            Fault::CallbackFailed => (
                code::CALLBACK_FAILED,
                "CallbackFailed",
                "a callback or the caller's allocator failed".into(),
            ),
        }
    }

    fn into_ffi(self) -> FfiError {
        let (code, type_name, message) = self.parts();
        let message = FfiBuffer::from_string(message.into_owned());
        let type_name = FfiBuffer::from_string(type_name.to_owned());
        let (variant, value) = match self {
            Fault::Error {
                value: Some(value), ..
            } => (value.repr.variant, lend(value.repr)),
            _ => (-1, core::ptr::null_mut()),
        };
        FfiError {
            code,
            variant,
            message,
            type_name,
            value,
        }
    }
}

/// Error values handed to C callers (`FfiError::value`), by address, with
/// their free: `ffi_export_error_free` frees only a value found here, once,
/// so a forged, copied or already-freed `value` is ignored, never freed.
/// (Every value is at least one byte long, so live values have distinct
/// addresses.)
static LENT: Mutex<Option<Lent>> = Mutex::new(None);

/// The values in [`LENT`]: address → free.
type Lent = HashMap<usize, unsafe fn(*mut c_void)>;

/// Hands `repr` to a C caller: its address, recorded in [`LENT`].
fn lend(repr: ErrorRepr) -> *mut c_void {
    let (ptr, free) = repr.into_raw();
    LENT.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_or_insert_with(HashMap::new)
        .insert(ptr as usize, free);
    ptr
}

/// Frees a value [`lend`] handed out, if `ptr` is one still lent.
fn give_back(ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    let free = LENT
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_mut()
        .and_then(|lent| lent.remove(&(ptr as usize)));
    if let Some(free) = free {
        // SAFETY: `ptr` and `free` are what `ErrorRepr::into_raw` handed to
        // `lend`; removing them from LENT first makes this the only free.
        unsafe { free(ptr) }
    }
}

/// How many untaken failures a thread keeps; older ones are dropped.
pub const KEPT: usize = 16;

/// A recorded failure and its sequence number.
struct Recorded {
    seq: u64,
    fault: Fault,
}

/// One thread's failures not taken yet.
#[derive(Default)]
struct Record {
    /// Oldest first; sequence numbers increase.
    faults: VecDeque<Recorded>,
    /// One past the highest sequence number dropped untaken (0: none).
    dropped_below: u64,
}

thread_local! {
    static RECORD: RefCell<Record> = RefCell::new(Record::default());
    /// The sequence number of the failure of this thread's latest call, if
    /// it failed (`u64::MAX`: it succeeded, or its failure was taken).
    static LATEST: Cell<u64> = const { Cell::new(u64::MAX) };
    /// How many shims are running on this thread (for the panic hook).
    static SHIM_DEPTH: Cell<u32> = const { Cell::new(0) };
}

static HOOK: Once = Once::new();

/// Wraps the process's panic hook once: panics raised inside a shim are
/// delivered to the caller as errors, so they are not also printed (unless
/// `FFI_EXPORT_PRINT_PANICS=1` is set, for debugging). Other panics print as
/// before.
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        let verbose = std::env::var_os("FFI_EXPORT_PRINT_PANICS").is_some_and(|v| v == "1");
        panic::set_hook(Box::new(move |info| {
            let in_shim = SHIM_DEPTH.try_with(|d| d.get() > 0).unwrap_or(false);
            if !in_shim || verbose {
                previous(info);
            }
        }));
    });
}

/// Whether this thread is inside an exported call (a shim is running on
/// it): a call the caller made, from a thread of the caller's.
pub(crate) fn in_shim() -> bool {
    SHIM_DEPTH.try_with(|d| d.get() > 0).unwrap_or(false)
}

/// Marks the current thread as running a shim for as long as it lives.
struct ShimScope;

impl ShimScope {
    fn enter() -> ShimScope {
        SHIM_DEPTH.with(|d| d.set(d.get() + 1));
        ShimScope
    }
}

impl Drop for ShimScope {
    fn drop(&mut self) {
        SHIM_DEPTH.with(|d| d.set(d.get() - 1));
    }
}

thread_local! {
    /// The element a batched call was running when it panicked (set while
    /// unwinding by [`BatchElement`], taken by [`call`]).
    static PANIC_ELEMENT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Tracks which element of a batched call is running, so that a panic in
/// the user's function is reported as `element i: ...`, like an error.
/// `#[export(batch)]` shims make one per call and [`set`](Self::set) it per
/// element (a store; no unwinding pad per element).
#[doc(hidden)]
#[derive(Default)]
pub struct BatchElement(Cell<usize>);

impl BatchElement {
    /// Marks element `index` as running.
    #[inline]
    pub fn set(&self, index: usize) {
        self.0.set(index);
    }
}

impl Drop for BatchElement {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let index = self.0.get();
            let _ = PANIC_ELEMENT.try_with(|e| e.set(Some(index)));
        }
    }
}

/// Records `fault` as the failure of this thread's latest call and moves
/// the counter.
pub fn record(fault: Fault) {
    let seq = FFI_EXPORT_FAULTS.fetch_add(1, Ordering::SeqCst);
    // At thread exit (a call made from a TLS destructor) the record may be
    // gone: the failure is then only counted.
    let _ = RECORD.try_with(|record| {
        let mut record = record.borrow_mut();
        record.faults.push_back(Recorded { seq, fault });
        while record.faults.len() > KEPT {
            if let Some(dropped) = record.faults.pop_front() {
                record.dropped_below = record.dropped_below.max(dropped.seq + 1);
            }
        }
    });
    let _ = LATEST.try_with(|latest| latest.set(seq));
}

/// Removes the failure numbered `seq`, if this thread still holds it.
fn take_seq(seq: u64) -> Option<Fault> {
    RECORD
        .try_with(|record| {
            let mut record = record.borrow_mut();
            let index = record.faults.iter().position(|r| r.seq == seq)?;
            record.faults.remove(index).map(|r| r.fault)
        })
        .ok()
        .flatten()
}

/// Takes the failure of this thread's latest call, if it failed.
pub fn take_latest() -> Option<Fault> {
    let seq = LATEST.try_with(|latest| latest.replace(u64::MAX)).ok()?;
    if seq == u64::MAX {
        return None;
    }
    take_seq(seq)
}

/// Takes this thread's oldest failure numbered `since` or later: the
/// failure of a call made after reading `FFI_EXPORT_FAULTS == since`,
/// whatever ran on this thread after it. When that failure was dropped
/// (more than [`KEPT`] untaken failures followed it), says so.
pub fn take_since(since: u64) -> Option<Fault> {
    let (seq, fault) = RECORD
        .try_with(|record| {
            let mut record = record.borrow_mut();
            // The call's failure is this thread's first one numbered `since`
            // or later (whatever ran after it failed later). Dropped failures
            // are older than every kept one, so a dropped one at or after
            // `since` was the call's: say so, once.
            if record.dropped_below > since {
                record.dropped_below = 0;
                return Some((
                    u64::MAX,
                    Fault::Panic(format!(
                        "this call failed, but its error was dropped: more than {KEPT} \
                         failures on this thread were never taken after it"
                    )),
                ));
            }
            let index = record.faults.iter().position(|r| r.seq >= since)?;
            record.faults.remove(index).map(|r| (r.seq, r.fault))
        })
        .ok()
        .flatten()?;
    // Taken: no longer the latest call's pending failure.
    let _ = LATEST.try_with(|latest| {
        if latest.get() == seq {
            latest.set(u64::MAX);
        }
    });
    Some(fault)
}

pub(crate) fn panic_message(payload: &(dyn core::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Runs user code outside a shim (an `async fn` export's future on an
/// executor thread) under `catch_unwind`, its panics kept quiet like a
/// shim's: they are delivered to the caller when it takes the result.
pub fn catch_quietly<R>(body: impl FnOnce() -> R) -> std::thread::Result<R> {
    install_panic_hook();
    let scope = ShimScope::enter();
    let outcome = panic::catch_unwind(AssertUnwindSafe(body));
    drop(scope);
    outcome
}

/// Runs one exported call: marks it as the thread's latest call, runs
/// `body` under `catch_unwind`, and turns an `Err` or a panic into a
/// recorded [`Fault`] plus the zero return value. Unwinding never leaves
/// this function.
#[inline]
pub fn call<R: AbiValue>(body: impl FnOnce() -> Result<R, Fault>) -> R {
    install_panic_hook();
    // `ffi_export_error_take` must describe this call, not an earlier one.
    let _ = LATEST.try_with(|latest| latest.set(u64::MAX));
    let scope = ShimScope::enter();
    let outcome = panic::catch_unwind(AssertUnwindSafe(body));
    drop(scope);
    match outcome {
        Ok(Ok(value)) => value,
        Ok(Err(fault)) => {
            record(fault);
            R::error_value()
        }
        Err(payload) => {
            record(panic_fault(payload));
            R::error_value()
        }
    }
}

/// As [`call`], for the CPython fast path, which raises a failure at once:
/// the body's failure (or panic) comes back with the zero value instead of
/// being recorded for `ffi_export_error_take` and taken again (no
/// thread-local record touched on success or failure).
#[inline]
pub fn call_and_take<R: AbiValue>(body: impl FnOnce() -> Result<R, Fault>) -> (R, Option<Fault>) {
    install_panic_hook();
    let scope = ShimScope::enter();
    let outcome = panic::catch_unwind(AssertUnwindSafe(body));
    drop(scope);
    match outcome {
        Ok(Ok(value)) => (value, None),
        Ok(Err(fault)) => (R::error_value(), Some(fault)),
        Err(payload) => (R::error_value(), Some(panic_fault(payload))),
    }
}

/// The failure a caught panic's `payload` stands for (naming the batch
/// element it happened in, if any); the payload is dropped here.
fn panic_fault(payload: Box<dyn core::any::Any + Send>) -> Fault {
    let element = PANIC_ELEMENT.with(Cell::take);
    let fault = if payload.is::<CallbackFailed>() {
        Fault::CallbackFailed
    } else {
        Fault::Panic(panic_message(&*payload))
    };
    let fault = match element {
        Some(index) => fault.at(index),
        None => fault,
    };
    // A payload whose destructor panics must not unwind out of here.
    let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(payload)));
    fault
}

/// Moves the error of the calling thread's latest call into `*out` and
/// returns `true`, or writes an empty error (code 0) and returns `false`
/// when the latest call succeeded (or its error was taken). `out` may be
/// NULL to only ask whether there is an error (the error is then dropped).
/// Free a taken error with `ffi_export_error_free`.
///
/// # Safety
/// `out` is NULL or valid for writing one `FfiError`.
#[no_mangle]
pub unsafe extern "C" fn ffi_export_error_take(out: *mut FfiError) -> bool {
    // SAFETY: forwarded contract.
    unsafe { write_error(take_latest(), out) }
}

/// Moves this thread's oldest error numbered `since` or later into `*out`
/// and returns `true`; `false` (code 0 written) when there is none. `since`
/// is the value of `FFI_EXPORT_FAULTS` read before the call: the error
/// taken is that call's, even if other calls ran on this thread between
/// the call and this take (they only add later errors). A call that failed
/// never finds nothing: if its error was dropped (more than 16 untaken
/// errors followed it on this thread), a code 2 error says so.
///
/// # Safety
/// `out` is NULL or valid for writing one `FfiError`.
#[no_mangle]
pub unsafe extern "C" fn ffi_export_error_take_since(since: u64, out: *mut FfiError) -> bool {
    // SAFETY: forwarded contract.
    unsafe { write_error(take_since(since), out) }
}

/// # Safety
/// `out` is NULL or valid for writing one `FfiError`.
unsafe fn write_error(fault: Option<Fault>, out: *mut FfiError) -> bool {
    let found = fault.is_some();
    if !out.is_null() {
        // SAFETY: the caller promises `out` is writable (it may hold
        // uninitialised memory, so it is written, never read or referenced).
        unsafe { out.write(fault.map_or(FfiError::OK, Fault::into_ffi)) };
    }
    found
}

/// Releases the buffers and the error value of an error taken with
/// `ffi_export_error_take` and resets it to code 0, so freeing twice is
/// harmless. NULL is a no-op. A `value` that is not one the library handed
/// out and still owes (forged, or freed through a copy of the struct) is
/// ignored.
///
/// # Safety
/// `error` is NULL or points to an `FfiError` filled by
/// `ffi_export_error_take` (or zeroed).
#[no_mangle]
pub unsafe extern "C" fn ffi_export_error_free(error: *mut FfiError) {
    // SAFETY: the caller promises `error` is NULL or valid.
    let Some(error) = (unsafe { error.as_mut() }) else {
        return;
    };
    let mut owned = core::mem::replace(error, FfiError::OK);
    // SAFETY: both buffers were made by `FfiBuffer::from_string`.
    unsafe {
        FfiBuffer::free::<u8>(&mut owned.message);
        FfiBuffer::free::<u8>(&mut owned.type_name);
    }
    give_back(owned.value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take_ffi() -> (bool, FfiError) {
        let mut error = FfiError::OK;
        // SAFETY: `error` is a valid, writable FfiError.
        let found = unsafe { ffi_export_error_take(&mut error) };
        (found, error)
    }

    fn text(buffer: &FfiBuffer) -> String {
        // SAFETY: error buffers are UTF-8 strings of `len` bytes.
        let bytes = unsafe { core::slice::from_raw_parts(buffer.ptr.cast::<u8>(), buffer.len) };
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[test]
    fn panic_becomes_a_panic_error() {
        let before = FFI_EXPORT_FAULTS.load(Ordering::Relaxed);
        let value: i32 = call(|| panic!("boom {}", 7));
        assert_eq!(value, 0);
        assert!(FFI_EXPORT_FAULTS.load(Ordering::Relaxed) > before);
        let (found, mut error) = take_ffi();
        assert!(found);
        assert_eq!(error.code, code::PANIC);
        assert_eq!(text(&error.message), "boom 7");
        assert_eq!(text(&error.type_name), "RustPanic");
        // SAFETY: taken above; the second free is a no-op by contract.
        unsafe {
            ffi_export_error_free(&mut error);
            ffi_export_error_free(&mut error);
        }
        assert!(error.message.ptr.is_null());
    }

    #[test]
    fn take_since_finds_a_failure_after_later_calls() {
        let before = FFI_EXPORT_FAULTS.load(Ordering::SeqCst);
        let _: u8 = call(|| Err(Fault::invalid("x", "first")));
        // Code running between the failure and its take: a success and a
        // failure that is taken by its own caller.
        let _: u8 = call(|| Ok(1));
        let inner = FFI_EXPORT_FAULTS.load(Ordering::SeqCst);
        let _: u8 = call(|| Err(Fault::invalid("y", "second")));
        assert_eq!(take_since(inner), Some(Fault::invalid("y", "second")));
        assert_eq!(take_since(before), Some(Fault::invalid("x", "first")));
        assert_eq!(take_since(before), None);
    }

    #[test]
    fn a_dropped_failure_is_never_a_success() {
        let before = FFI_EXPORT_FAULTS.load(Ordering::SeqCst);
        for i in 0..KEPT + 5 {
            let _: u8 = call(|| Err(Fault::invalid("x", i)));
        }
        // The oldest were dropped: their take says so.
        let first = take_since(before).expect("reported");
        assert!(
            matches!(&first, Fault::Panic(m) if m.contains("dropped")),
            "{first:?}"
        );
        for _ in 0..KEPT {
            assert!(matches!(
                take_since(before),
                Some(Fault::InvalidArgument(_))
            ));
        }
        assert_eq!(take_since(before), None);
    }

    #[test]
    fn error_is_cleared_by_the_next_call() {
        let _: u8 = call(|| Err(Fault::invalid("x", "bad")));
        let ok: u8 = call(|| Ok(5));
        assert_eq!(ok, 5);
        assert!(!take_ffi().0);
    }

    #[test]
    fn error_carries_type_name() {
        let _: () = call(|| Err(Fault::error("x".parse::<i32>().unwrap_err())));
        let (found, mut error) = take_ffi();
        assert!(found);
        assert_eq!(error.code, code::ERROR);
        assert_eq!(text(&error.type_name), "ParseIntError");
        assert_eq!(text(&error.message), "invalid digit found in string");
        // SAFETY: taken above.
        unsafe { ffi_export_error_free(&mut error) };
    }

    #[test]
    fn boxed_errors_keep_their_causes_and_others_their_display() {
        #[derive(Debug)]
        struct Layer(&'static str, Option<Box<Layer>>);
        impl Display for Layer {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl Error for Layer {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                self.1
                    .as_deref()
                    .map(|inner| inner as &(dyn Error + 'static))
            }
        }
        let chain = || {
            Layer(
                "outer",
                Some(Box::new(Layer(
                    "inner",
                    Some(Box::new(Layer("root", None))),
                ))),
            )
        };
        let message = |fault: Fault| match fault {
            Fault::Error { message, value, .. } => {
                assert!(value.is_none());
                message
            }
            other => panic!("{other:?}"),
        };
        let sync: Box<dyn Error + Send + Sync> = Box::new(chain());
        assert_eq!(message(Fault::error(sync)), "outer: inner: root");
        let local: Box<dyn Error> = Box::new(chain());
        assert_eq!(message(Fault::error(local)), "outer: inner: root");
        // Not boxed: its own `Display`, causes or not (as before).
        assert_eq!(message(Fault::error(chain())), "outer");
        assert_eq!(message(Fault::error("text")), "text");
    }
}
