//! A function of the caller borrowed for one call, with arguments and a
//! result of any type that crosses: a `&dyn Fn(&str, Record) -> Result<T,
//! E>` parameter.
//!
//! It crosses as an [`FfiForeign`] of one method, number 0, like a stored
//! closure (`Box<dyn Fn(..) + Send + Sync>`, see `crate::dynamic`), so the
//! caller's side is the same; what differs is on the Rust side. The macro
//! turns the parameter into a local closure of the user's own argument
//! types around an [`FnRef`] and passes a reference to it: the user's
//! function cannot keep it past the call (the borrow checker says so), and
//! it need not be `Send`, `Sync` or `'static`. Each argument moves into its
//! C form ([`CallArg`], `&str` borrowed as it is) for the call and is freed
//! after it.
//!
//! When the caller's function fails (a Python exception), the Rust function
//! is unwound with the private payload of a failed [`Callback`]
//! (`crate::Callback`), its destructors run, and the exported call reports
//! code 4 (`CALLBACK_FAILED`): the caller re-raises its own exception, not a
//! panic. A failure while the thread is already unwinding (a `Drop` guard
//! calling back) gives the empty value of the result type instead (zero,
//! `""`, `None`, an empty `Vec`, `Ok` of those), so that the first failure
//! is the one reported; a result type without an empty value aborts the
//! process there, as a second panic would.

use crate::abi::{AbiValue, FfiBuffer, FfiForeign};
use crate::data::FfiValue;
use crate::describe::TypeDesc;
use crate::dynamic::{CallFailure, ForeignObject, ForeignReturn, ForeignSlot};
use crate::status::{CallbackFailed, Fault};
use core::ffi::c_void;

/// The caller's function behind a `&dyn Fn(..)` parameter, retained for
/// the call (and released when the call's locals drop).
pub struct FnRef {
    object: ForeignObject,
}

impl FnRef {
    /// Takes the caller's function for the call.
    ///
    /// # Safety
    /// `abi` follows the C contract of `FfiForeign` (see
    /// [`ForeignObject::lift`]).
    pub unsafe fn lift(abi: FfiForeign, param: &'static str) -> Result<FnRef, Fault> {
        // SAFETY: forwarded contract.
        unsafe { ForeignObject::lift(abi, param, "callback") }.map(|object| FnRef { object })
    }

    /// Calls the function with one pointer per argument, each to the C
    /// form of an [`ArgRepr`] living across the call. A failure of the
    /// caller's unwinds (see the module's documentation).
    ///
    /// # Safety
    /// `args` holds one pointer per parameter the callback's description
    /// lists, in order, each to a live C form of that parameter's type.
    pub unsafe fn call<R: ForeignReturn>(&self, args: &[*mut c_void]) -> R {
        // SAFETY: forwarded contract.
        let failure = match unsafe { self.object.call_raw::<R>(0, args) } {
            Ok(value) => return value,
            Err(failure) => failure,
        };
        if std::thread::panicking() {
            let ok = <R::OkRepr as ForeignSlot>::empty();
            let err = <R::ErrRepr as ForeignSlot>::empty();
            // SAFETY: `empty` is `AbiValue::error_value`, a valid C form of
            // the type (all pointers NULL, lengths 0) by `AbiValue`'s
            // contract.
            match unsafe { R::finish(false, &ok, &err) } {
                Ok(value) => return value,
                Err(_) => {
                    eprintln!(
                        "ffi-export: a callback failed while Rust was unwinding, and its result \
                         type has no empty value to return instead: aborting"
                    );
                    std::process::abort()
                }
            }
        }
        match failure {
            CallFailure::Raised(_) => std::panic::resume_unwind(Box::new(CallbackFailed)),
            CallFailure::Broken(text) => {
                std::panic::panic_any(format!("the callback (implemented by the caller) {text}"))
            }
        }
    }
}

/// A value that can be an argument of a `&dyn Fn(..)` callback: any type
/// that crosses by value, or `&str`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an argument of a callback the caller implements",
    label = "unsupported callback argument",
    note = "arguments of a `&dyn Fn(..)` callback may be &str or any type a parameter takes by value: numbers, bool, String, Vec<T>, Option<T>, maps, sets, tuples, #[export] records and enums"
)]
///
/// # Safety
/// `to_repr` returns a C form the caller may read as `DESC` describes (the
/// helper and C callers trust it), valid until `free`.
pub unsafe trait CallArg {
    /// Its C form.
    type Repr: AbiValue;
    /// Its description (a `&str` is described as a `String`: the same C
    /// form, read the same way).
    const DESC: TypeDesc;
    /// Its C form, valid for the call.
    fn to_repr(self) -> Self::Repr;
    /// Frees what `to_repr` made.
    ///
    /// # Safety
    /// `repr` was made by `to_repr` and is freed once.
    unsafe fn free(repr: &mut Self::Repr);
    /// Its C form for one call, freed when dropped.
    fn lend(self) -> ArgRepr<Self::Repr>
    where
        Self: Sized,
    {
        ArgRepr {
            repr: self.to_repr(),
            free: Self::free,
        }
    }
}

// SAFETY: `T`'s own C form and description (`FfiValue`'s contract).
unsafe impl<T: FfiValue> CallArg for T {
    type Repr = T::Repr;
    const DESC: TypeDesc = T::DESC;
    fn to_repr(self) -> T::Repr {
        self.into_repr()
    }
    unsafe fn free(repr: &mut T::Repr) {
        // SAFETY: forwarded contract.
        unsafe { T::free_repr(repr) }
    }
}

// SAFETY: a `String`'s C form (pointer, length, capacity 0) over the
// borrowed bytes, which outlive the call; nothing to free.
unsafe impl CallArg for &str {
    type Repr = FfiBuffer;
    const DESC: TypeDesc = TypeDesc::String;
    /// A view of the bytes (capacity 0: nothing to free); the caller only
    /// reads it during the call, which the borrow outlives.
    fn to_repr(self) -> FfiBuffer {
        FfiBuffer {
            ptr: self.as_ptr().cast_mut().cast(),
            len: self.len(),
            cap: 0,
        }
    }
    unsafe fn free(_: &mut FfiBuffer) {}
}

/// An argument's C form for one call of an [`FnRef`] ([`CallArg::lend`]),
/// freed when dropped (also when the call unwinds).
pub struct ArgRepr<R> {
    repr: R,
    /// `CallArg::free` of the argument's type.
    free: unsafe fn(&mut R),
}

impl<R> ArgRepr<R> {
    /// The pointer the caller reads the argument through.
    pub fn ptr(&mut self) -> *mut c_void {
        (&mut self.repr as *mut R).cast()
    }
}

impl<R> Drop for ArgRepr<R> {
    fn drop(&mut self) {
        // SAFETY: `repr` was made by the `to_repr` of the type whose `free`
        // this is (`CallArg::lend`), and is freed only here.
        unsafe { (self.free)(&mut self.repr) }
    }
}
