//! The error channel: every shim runs the user's function through [`call`],
//! which catches panics and records failures in a thread-local slot.
//!
//! Why a thread-local slot and not an out-parameter: an extra argument costs
//! every call (ctypes converts each argument, ~75 ns), and a per-call status
//! struct costs more than the call itself. Instead a failed call returns the
//! zero value of its return type, stores an [`Fault`] in the calling
//! thread's slot and bumps the process-wide [`FFI_EXPORT_FAULTS`] counter.
//! A caller reads the counter before and after a call (two loads) and takes
//! the error only when it moved; C callers may simply call
//! `ffi_export_error_take` after each call. Every call clears the slot on
//! entry, so what `take` returns always belongs to the latest call.

use crate::abi::{code, AbiValue, FfiBuffer, FfiError};
use core::cell::Cell;
use core::fmt::Display;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

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

/// Why a call failed, before it is flattened into an [`FfiError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The function returned `Err`: the error type's short name and its
    /// `Display`.
    Error {
        /// Short type name, e.g. `ParseIntError`.
        type_name: &'static str,
        /// The error's `Display`.
        message: String,
    },
    /// The function panicked with this message.
    Panic(String),
    /// An argument was refused before the function ran.
    InvalidArgument(String),
    /// A callback or the caller's allocator failed; the caller holds the
    /// reason (e.g. its Python exception).
    CallbackFailed,
}

impl Fault {
    /// A `Fault::Error` for any displayable error value.
    pub fn error<E: Display>(error: &E) -> Fault {
        Fault::Error {
            type_name: crate::describe::short_type_name::<E>(),
            message: error.to_string(),
        }
    }

    /// A `Fault::InvalidArgument` naming the parameter.
    pub fn invalid(param: &str, why: impl Display) -> Fault {
        Fault::InvalidArgument(format!("argument `{param}`: {why}"))
    }

    /// The same failure, located at element `index` of a batched call.
    pub fn at(self, index: usize) -> Fault {
        match self {
            Fault::Error { type_name, message } => Fault::Error {
                type_name,
                message: format!("element {index}: {message}"),
            },
            Fault::Panic(message) => Fault::Panic(format!("element {index}: {message}")),
            Fault::InvalidArgument(message) => {
                Fault::InvalidArgument(format!("element {index}: {message}"))
            }
            Fault::CallbackFailed => Fault::CallbackFailed,
        }
    }

    fn into_ffi(self) -> FfiError {
        let (code, type_name, message) = match self {
            Fault::Error { type_name, message } => (code::ERROR, type_name, message),
            Fault::Panic(message) => (code::PANIC, "RustPanic", message),
            Fault::InvalidArgument(message) => (code::INVALID_ARGUMENT, "InvalidArgument", message),
            Fault::CallbackFailed => (
                code::CALLBACK_FAILED,
                "CallbackFailed",
                "a callback or the caller's allocator failed".to_owned(),
            ),
        };
        FfiError {
            code,
            message: FfiBuffer::from_string(message),
            type_name: FfiBuffer::from_string(type_name.to_owned()),
        }
    }
}

thread_local! {
    /// The latest call's failure on this thread.
    static LAST_FAULT: Cell<Option<Box<Fault>>> = const { Cell::new(None) };
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

/// Records `fault` as this thread's latest failure and bumps the counter.
pub fn record(fault: Fault) {
    LAST_FAULT.with(|slot| slot.set(Some(Box::new(fault))));
    FFI_EXPORT_FAULTS.fetch_add(1, Ordering::Relaxed);
}

/// Whether this thread's latest call failed (its error not yet taken).
pub fn pending() -> bool {
    LAST_FAULT.with(|slot| {
        let fault = slot.take();
        let pending = fault.is_some();
        slot.set(fault);
        pending
    })
}

/// Takes this thread's latest failure, if any.
pub fn take() -> Option<Fault> {
    LAST_FAULT.with(|slot| slot.take()).map(|fault| *fault)
}

fn panic_message(payload: &(dyn core::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Runs one exported call: clears the thread's error slot, runs `body`
/// under `catch_unwind`, and turns an `Err` or a panic into a recorded
/// [`Fault`] plus the zero return value. Unwinding never leaves this
/// function.
#[inline]
pub fn call<R: AbiValue>(body: impl FnOnce() -> Result<R, Fault>) -> R {
    install_panic_hook();
    // Clear a failure the caller never took: `take` must describe this call.
    drop(LAST_FAULT.with(|slot| slot.take()));
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
            let element = PANIC_ELEMENT.with(Cell::take);
            let fault = if crate::callback::is_callback_failure(&*payload) {
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
            record(fault);
            R::error_value()
        }
    }
}

/// Moves the calling thread's latest error into `*out` and returns `true`,
/// or writes an empty error (code 0) and returns `false` when the latest
/// call succeeded. `out` may be NULL to only ask whether there is an error
/// (the error is then dropped). Free a taken error with
/// `ffi_export_error_free`.
///
/// # Safety
/// `out` is NULL or valid for writing one `FfiError`.
#[no_mangle]
pub unsafe extern "C" fn ffi_export_error_take(out: *mut FfiError) -> bool {
    let fault = take();
    let found = fault.is_some();
    // SAFETY: the caller promises `out` is NULL or writable.
    if let Some(out) = unsafe { out.as_mut() } {
        *out = fault.map_or(FfiError::OK, Fault::into_ffi);
    }
    found
}

/// Releases the buffers of an error taken with `ffi_export_error_take` and
/// resets it to code 0, so freeing twice is harmless. NULL is a no-op.
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
    fn error_is_cleared_by_the_next_call() {
        let _: u8 = call(|| Err(Fault::invalid("x", "bad")));
        let ok: u8 = call(|| Ok(5));
        assert_eq!(ok, 5);
        assert!(!take_ffi().0);
    }

    #[test]
    fn error_carries_type_name() {
        let _: () = call(|| Err(Fault::error(&"x".parse::<i32>().unwrap_err())));
        let (found, mut error) = take_ffi();
        assert!(found);
        assert_eq!(error.code, code::ERROR);
        assert_eq!(text(&error.type_name), "ParseIntError");
        assert_eq!(text(&error.message), "invalid digit found in string");
        // SAFETY: taken above.
        unsafe { ffi_export_error_free(&mut error) };
    }
}
