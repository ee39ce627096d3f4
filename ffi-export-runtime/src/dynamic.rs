//! Objects of the caller that Rust keeps: a Python (or C) implementation
//! of an `#[export]` trait taken as `Box<dyn Trait>` / `Arc<dyn Trait>`, and
//! stored closures, `Box<dyn Fn(A..) -> R + Send + Sync>` / `Arc<..>`.
//!
//! Unlike a [`Callback`](crate::Callback), borrowed for one call, these
//! are owned: Rust may store them and call them later from any thread.
//! Each is a [`ForeignObject`] around an [`FfiForeign`]: Rust retains the
//! caller's object when it takes it and releases it exactly once when the
//! last box or `Arc` drops, so the caller keeps it alive exactly as long as
//! Rust holds it. Calls go through one C function, `call(context, method,
//! args, ok, err, message)`, made through a `C-unwind` pointer under a
//! [`HangIfUnwound`] guard (see `crate::foreign`): arguments cross by their
//! C form (Rust owns and frees them after the call), results are copied out
//! of the C form the caller wrote.
//!
//! When the caller's implementation fails (a Python exception that is not
//! one of the method's error type), the Rust call panics with a message
//! naming the method and the exception: the fault stays in the Rust code
//! that called the method (inside an exported call it becomes that call's
//! `RustPanic`), and a method returning `Result<_, E>` gets `Err(e)` when
//! the exception is one of `E`'s.

use crate::abi::{FfiBuffer, FfiForeign};
use crate::data::{FfiLift, FfiValue};
use crate::describe::{short_type_name, TypeDesc};
use crate::foreign::HangIfUnwound;
use crate::status::Fault;
use core::ffi::c_void;
use core::fmt::Display;
use std::sync::Arc;

/// Status codes `FfiForeign::call` returns.
const OK: i32 = 0;
const ERR: i32 = 1;
const FAILED: i32 = 2;

/// The caller's object, retained once when lifted and released once when
/// dropped.
pub struct ForeignObject {
    raw: FfiForeign,
    /// `Trait::method` names, for messages.
    name: &'static str,
}

// SAFETY: by the C contract of `FfiForeign` (documented in `abi.rs` and
// the header), `call`, `retain` and `release` may be called from any
// thread, concurrently: the Python helper's functions take the GIL
// themselves. `context` is only passed back, never dereferenced by Rust.
unsafe impl Send for ForeignObject {}
// SAFETY: as above; `&ForeignObject` only allows `call`.
unsafe impl Sync for ForeignObject {}

impl ForeignObject {
    /// Takes a reference to the caller's object (calls `retain`).
    ///
    /// # Safety
    /// `abi` follows the C contract: its functions have the documented
    /// signatures and may be called from any thread until `release`.
    pub unsafe fn lift(
        abi: FfiForeign,
        param: &'static str,
        name: &'static str,
    ) -> Result<ForeignObject, Fault> {
        if abi.call.is_null() || abi.retain.is_null() || abi.release.is_null() {
            return Err(Fault::invalid(
                param,
                "NULL function in the FfiForeign (call, retain and release are required)",
            ));
        }
        // SAFETY: checked non-NULL; this signature by the C contract.
        // `C-unwind`: see `crate::foreign`.
        let retain: unsafe extern "C-unwind" fn(*mut c_void) =
            unsafe { core::mem::transmute(abi.retain) };
        crate::foreign::park_if_caller_exited(crate::status::in_shim);
        let guard = HangIfUnwound::arm();
        // SAFETY: as above.
        unsafe { retain(abi.context) };
        guard.disarm();
        Ok(ForeignObject { raw: abi, name })
    }

    /// Calls method number `method` (named `method_name`) with `args`; a
    /// failure of the caller's panics with a message naming the method.
    pub fn call<A: ForeignArgs, R: ForeignReturn>(
        &self,
        method: u32,
        method_name: &'static str,
        args: A,
    ) -> R {
        crate::foreign::park_if_caller_exited(crate::status::in_shim);
        // SAFETY: `with_pointers` gives one pointer per argument, each to
        // the live C form of its type; the generated trait impl passes the
        // method's number with its argument and result types (`FfiTrait`'s
        // contract).
        match args.with_pointers(|pointers| unsafe { self.call_raw(method, pointers) }) {
            Ok(value) => value,
            Err(CallFailure::Raised(text) | CallFailure::Broken(text)) => {
                std::panic::panic_any(format!(
                    "{}::{method_name} (implemented by the caller) failed: {text}",
                    self.name
                ))
            }
        }
    }

    /// Calls method number `method` with one pointer per argument, each to
    /// its C form (valid for the call), and copies the result out.
    ///
    /// # Safety
    /// `pointers` holds one pointer per parameter of method `method` (as the
    /// object's description lists them), each to a live C form of that
    /// parameter's type, and `R` is the method's result type.
    pub(crate) unsafe fn call_raw<R: ForeignReturn>(
        &self,
        method: u32,
        pointers: &[*mut c_void],
    ) -> Result<R, CallFailure> {
        let mut ok = <R::OkRepr as ForeignSlot>::empty();
        let mut err = <R::ErrRepr as ForeignSlot>::empty();
        let mut message = FfiBuffer::NULL;
        // SAFETY: checked non-NULL when lifted; this signature by the C
        // contract. `C-unwind`: see `crate::foreign`.
        let call: unsafe extern "C-unwind" fn(
            *mut c_void,
            u32,
            *const *mut c_void,
            *mut c_void,
            *mut c_void,
            *mut FfiBuffer,
        ) -> i32 = unsafe { core::mem::transmute(self.raw.call) };
        let guard = HangIfUnwound::arm();
        // SAFETY: as above; the argument C forms (the caller of this
        // function's) and the three output slots outlive the call.
        let status = unsafe {
            call(
                self.raw.context,
                method,
                pointers.as_ptr(),
                (&mut ok as *mut R::OkRepr).cast(),
                (&mut err as *mut R::ErrRepr).cast(),
                &mut message,
            )
        };
        guard.disarm();
        match status {
            // SAFETY: status 0 or 1: the caller wrote a C form of the type
            // to the slot (C contract); it stays valid until this thread's
            // next call on the object, and `finish` copies it now.
            OK | ERR => unsafe { R::finish(status == ERR, &ok, &err) }.map_err(CallFailure::Broken),
            FAILED => {
                // SAFETY: status 2: `message` is NULL or UTF-8 bytes of the
                // caller's, valid as above; copied here.
                let text = unsafe { crate::data::borrow_str(&message) }
                    .unwrap_or("(the failure message was not UTF-8)");
                Err(CallFailure::Raised(text.to_owned()))
            }
            other => Err(CallFailure::Broken(format!(
                "returned the unknown status {other}"
            ))),
        }
    }
}

/// Why a call of the caller's method gave no value.
pub(crate) enum CallFailure {
    /// The caller's implementation failed (status 2, e.g. a Python
    /// exception): its message.
    Raised(String),
    /// The caller broke the C contract (an invalid value, an unknown
    /// status).
    Broken(String),
}

impl Drop for ForeignObject {
    fn drop(&mut self) {
        // SAFETY: checked non-NULL when lifted; this signature by the C
        // contract; called once, as the one `retain` was. `C-unwind`: see
        // `crate::foreign`.
        let release: unsafe extern "C-unwind" fn(*mut c_void) =
            unsafe { core::mem::transmute(self.raw.release) };
        crate::foreign::park_if_caller_exited(crate::status::in_shim);
        let guard = HangIfUnwound::arm();
        // SAFETY: as above.
        unsafe { release(self.raw.context) };
        guard.disarm();
    }
}

/// A slot the caller writes a C form into: zeroed before the call.
pub trait ForeignSlot {
    /// The empty value.
    fn empty() -> Self;
}

impl<T: crate::abi::AbiValue> ForeignSlot for T {
    fn empty() -> T {
        T::error_value()
    }
}

/// The arguments of a method, as a tuple of crossable values.
pub trait ForeignArgs {
    /// Moves the arguments into their C forms, calls `body` with one
    /// pointer per argument, and frees them (also when `body` unwinds).
    fn with_pointers<T>(self, body: impl FnOnce(&[*mut c_void]) -> T) -> T;
}

/// An argument's C form, freed when dropped.
struct Arg<T: FfiValue>(T::Repr);

impl<T: FfiValue> Drop for Arg<T> {
    fn drop(&mut self) {
        // SAFETY: made by `into_repr` below and freed only here.
        unsafe { T::free_repr(&mut self.0) }
    }
}

macro_rules! foreign_args {
    ($($a:ident $i:tt),*) => {
        impl<$($a: FfiValue),*> ForeignArgs for ($($a,)*) {
            #[allow(non_snake_case, unused_mut)]
            fn with_pointers<T>(self, body: impl FnOnce(&[*mut c_void]) -> T) -> T {
                $(let mut $a = Arg::<$a>(self.$i.into_repr());)*
                body(&[$((&mut $a.0 as *mut $a::Repr).cast::<c_void>()),*])
            }
        }
    };
}
foreign_args!();
foreign_args!(A 0);
foreign_args!(A 0, B 1);
foreign_args!(A 0, B 1, C 2);
foreign_args!(A 0, B 1, C 2, D 3);
foreign_args!(A 0, B 1, C 2, D 3, E 4);
foreign_args!(A 0, B 1, C 2, D 3, E 4, F 5);

/// A value a caller's method can produce: `()`, or any type that can be a
/// parameter.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned by a method the caller implements",
    label = "unsupported result",
    note = "results of trait methods and stored closures may be (), any type that can be a parameter (numbers, String, Vec, Option, maps, #[export] records and enums), or Result<T, E> of those"
)]
///
/// # Safety
/// The caller writes a C form of `DESC` into a `Repr` slot: they must match.
pub unsafe trait ForeignValue: Sized {
    /// Its C form.
    type Repr: crate::abi::AbiValue;
    /// Its description.
    const DESC: TypeDesc;
    /// Copies the value out of the caller's C form.
    ///
    /// # Safety
    /// `repr` is a C form the caller wrote (pointers in it valid for reads).
    unsafe fn lift(repr: &Self::Repr) -> Result<Self, String>;
}

// SAFETY: no C form, described as unit.
unsafe impl ForeignValue for () {
    type Repr = ();
    const DESC: TypeDesc = TypeDesc::Unit;
    unsafe fn lift(_: &()) -> Result<(), String> {
        Ok(())
    }
}

// SAFETY: `T`'s own C form and description.
unsafe impl<T: FfiLift> ForeignValue for T {
    type Repr = <T as FfiValue>::Repr;
    const DESC: TypeDesc = <T as FfiValue>::DESC;
    unsafe fn lift(repr: &Self::Repr) -> Result<T, String> {
        // SAFETY: forwarded contract.
        unsafe { <T as FfiValue>::from_repr(repr) }
    }
}

/// What a caller's method returns: a [`ForeignValue`], or `Result<T, E>`
/// whose `E` the caller produces from its own errors.
///
/// # Safety
/// The caller writes C forms of the types `DESC` describes into the
/// `OkRepr` and `ErrRepr` slots: they must match.
pub unsafe trait ForeignReturn: Sized {
    /// The C form of the value.
    type OkRepr: crate::abi::AbiValue;
    /// The C form of the error value (`()` when there is none).
    type ErrRepr: crate::abi::AbiValue;
    /// Its description.
    const DESC: TypeDesc;
    /// The result from the slots the caller wrote (`error`: status 1).
    ///
    /// # Safety
    /// The slot the status names holds a C form the caller wrote.
    unsafe fn finish(error: bool, ok: &Self::OkRepr, err: &Self::ErrRepr) -> Result<Self, String>;
}

// A plain value: status 1 is a contract violation.
// SAFETY: `T`'s slot and description; no error slot.
unsafe impl<T: ForeignValue> ForeignReturn for T {
    type OkRepr = T::Repr;
    type ErrRepr = ();
    const DESC: TypeDesc = T::DESC;
    unsafe fn finish(error: bool, ok: &T::Repr, _: &()) -> Result<T, String> {
        if error {
            return Err("returned an error value from a method without `Result`".to_owned());
        }
        // SAFETY: forwarded contract.
        unsafe { T::lift(ok) }.map_err(|e| format!("returned an invalid value: {e}"))
    }
}

// SAFETY: `T`'s and `E`'s own slots, described as `Result` of them.
unsafe impl<T: ForeignValue, E: FfiLift + Display + 'static> ForeignReturn for Result<T, E> {
    type OkRepr = T::Repr;
    type ErrRepr = <E as FfiValue>::Repr;
    const DESC: TypeDesc = TypeDesc::Result {
        ok: &T::DESC,
        error: short_type_name::<E>,
        error_type: crate::describe::error_type::<E>,
    };
    unsafe fn finish(error: bool, ok: &T::Repr, err: &Self::ErrRepr) -> Result<Self, String> {
        if error {
            // SAFETY: forwarded contract.
            return unsafe { <E as FfiValue>::from_repr(err) }
                .map(Err)
                .map_err(|e| format!("returned an invalid error value: {e}"));
        }
        // SAFETY: forwarded contract.
        unsafe { T::lift(ok) }
            .map(Ok)
            .map_err(|e| format!("returned an invalid value: {e}"))
    }
}

/// `dyn Trait` of an `#[export]` trait (the macro implements it), or of a
/// closure: what a caller's [`ForeignObject`] becomes.
///
/// # Safety
/// `DESC` describes the methods `from_foreign`'s object calls, in order,
/// with the argument and result types it passes.
pub unsafe trait FfiTrait {
    /// `TypeDesc::Trait` or `TypeDesc::Closure`.
    const DESC: TypeDesc;
    /// The Rust name, for messages.
    const NAME: &'static str;
    /// Wraps the caller's object.
    fn from_foreign(object: ForeignObject) -> Box<Self>;
    /// The Rust implementation behind an object handle the caller passed
    /// back (an `FfiForeign` with NULL functions and the handle as its
    /// context).
    fn from_handle(handle: u64, param: &'static str) -> Result<Arc<Self>, Fault>;
    /// A box sharing `value`.
    fn boxed(value: Arc<Self>) -> Box<Self>;
}

/// `dyn Trait` of an `#[export]` trait implemented in Rust and returned:
/// it lives in the object registry as `Dyn<Trait>` and crosses as its
/// handle, whose methods call the trait's.
pub trait FfiTraitObject: FfiTrait {
    /// The description of its object type (`TypeDesc::Object`).
    const OBJECT: TypeDesc;
    /// Registers `value`; its handle.
    fn register(value: Arc<Self>) -> u64;
}

/// Lifts an `FfiForeign`: the caller's object, or (NULL functions) a Rust
/// implementation the caller got as a handle and passes back.
///
/// # Safety
/// As [`ForeignObject::lift`].
unsafe fn lift_shared<T: ?Sized + FfiTrait>(
    abi: FfiForeign,
    param: &'static str,
) -> Result<Result<Arc<T>, Box<T>>, Fault> {
    if abi.call.is_null() && abi.retain.is_null() && abi.release.is_null() {
        return T::from_handle(abi.context as usize as u64, param).map(Ok);
    }
    // SAFETY: forwarded C contract.
    unsafe { ForeignObject::lift(abi, param, T::NAME) }.map(|o| Err(T::from_foreign(o)))
}

// SAFETY: an FfiForeign by value; NULL functions are a handle (checked by
// the registry); retained here and released when the box drops.
unsafe impl<T: ?Sized + FfiTrait> crate::convert::FfiParam for Box<T> {
    type Abi = FfiForeign;
    const DESC: TypeDesc = T::DESC;
    type Lifted<'s> = Box<T>;
    unsafe fn lift(
        abi: FfiForeign,
        param: &'static str,
        _scope: &crate::convert::CallScope,
    ) -> Result<Box<T>, Fault> {
        // SAFETY: forwarded C contract.
        Ok(match unsafe { lift_shared::<T>(abi, param) }? {
            Ok(shared) => T::boxed(shared),
            Err(boxed) => boxed,
        })
    }
}

/// `FfiArcParam::lift_arc` of a trait or closure type (`dyn Trait`): the
/// caller's object, or a Rust implementation passed back as its handle.
///
/// # Safety
/// As [`ForeignObject::lift`].
pub unsafe fn lift_arc<T: ?Sized + FfiTrait>(
    abi: FfiForeign,
    param: &'static str,
) -> Result<Arc<T>, Fault> {
    // SAFETY: forwarded C contract.
    Ok(match unsafe { lift_shared::<T>(abi, param) }? {
        Ok(shared) => shared,
        Err(boxed) => Arc::from(boxed),
    })
}

// SAFETY: the C form is the registry handle (a u64, 0 for none); the object
// is freed through its `Dyn<Trait>_free`, not here.
unsafe impl<T: ?Sized + FfiTraitObject> crate::data::FfiData for Box<T> {
    type Repr = u64;
    const DESC: TypeDesc = T::OBJECT;
    const OWNED: bool = false;
    fn into_repr(self) -> u64 {
        T::register(Arc::from(self))
    }
    unsafe fn free_repr(_: &mut u64) {}
}

macro_rules! closures {
    ($($a:ident $i:tt),*) => {
        // SAFETY: one method, number 0, with these argument and result
        // types (`DESC`), which `from_foreign`'s closure passes.
        unsafe impl<R: ForeignReturn + 'static, $($a: FfiValue + 'static),*> FfiTrait
            for dyn Fn($($a),*) -> R + Send + Sync
        {
            const DESC: TypeDesc = TypeDesc::Closure {
                params: &[$(<$a as FfiValue>::DESC),*],
                ret: &R::DESC,
            };
            const NAME: &'static str = "closure";
            #[allow(non_snake_case)]
            fn from_foreign(object: ForeignObject) -> Box<Self> {
                Box::new(move |$($a: $a),*| object.call::<_, R>(0, "call", ($($a,)*)))
            }
            fn from_handle(_: u64, param: &'static str) -> Result<Arc<Self>, Fault> {
                Err(Fault::invalid(param, "a closure needs a call function (NULL given)"))
            }
            #[allow(non_snake_case)]
            fn boxed(value: Arc<Self>) -> Box<Self> {
                Box::new(move |$($a: $a),*| value($($a),*))
            }
        }

        // SAFETY: `lift_arc`'s contract is `lift`'s.
        unsafe impl<R: ForeignReturn + 'static, $($a: FfiValue + 'static),*> crate::convert::FfiArcParam
            for dyn Fn($($a),*) -> R + Send + Sync
        {
            type Abi = FfiForeign;
            const DESC: TypeDesc = <Self as FfiTrait>::DESC;
            unsafe fn lift_arc(abi: FfiForeign, param: &'static str) -> Result<Arc<Self>, Fault> {
                // SAFETY: forwarded contract.
                unsafe { lift_arc::<Self>(abi, param) }
            }
        }
    };
}
closures!();
closures!(A 0);
closures!(A 0, B 1);
closures!(A 0, B 1, C 2);
closures!(A 0, B 1, C 2, D 3);

/// The Rust implementation of a trait behind `handle`, an object of type
/// `O` (`Dyn<Trait>`), for parameter `param`: a stale or foreign handle is
/// an invalid argument naming `param`.
pub fn shared_from_handle<O: crate::object::FfiObject, T: ?Sized>(
    handle: u64,
    param: &'static str,
    get: impl FnOnce(&O) -> Arc<T>,
) -> Result<Arc<T>, Fault> {
    crate::object::with_object::<O, _>(handle, false, |object| get(object)).map_err(|fault| {
        match fault {
            Fault::InvalidArgument(message) => Fault::InvalidArgument(message.replacen(
                "argument `self`",
                &format!("argument `{param}`"),
                1,
            )),
            other => other,
        }
    })
}
