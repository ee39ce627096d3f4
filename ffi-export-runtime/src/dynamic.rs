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

use crate::abi::{FfiBuffer, FfiForeign, FFI_EXPORT_CALL_HELD, FFI_EXPORT_CALL_RELEASE};
use crate::data::{FfiLift, FfiValue};
use crate::describe::{short_type_name, TypeDesc};
use crate::foreign::HangIfUnwound;
use crate::status::Fault;
use core::ffi::c_void;
use core::fmt::Display;
use std::any::TypeId;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

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
        // SAFETY: forwarded contract.
        unsafe { ForeignObject::lift_value(abi, name) }.map_err(|why| Fault::invalid(param, why))
    }

    /// [`lift`](ForeignObject::lift) inside another value: says why not.
    ///
    /// # Safety
    /// As [`lift`](ForeignObject::lift).
    unsafe fn lift_value(abi: FfiForeign, name: &'static str) -> Result<ForeignObject, String> {
        if abi.call.is_null() || abi.retain.is_null() || abi.release.is_null() {
            return Err(
                "NULL function in the FfiForeign (call, retain and release are required)"
                    .to_owned(),
            );
        }
        // SAFETY: checked non-NULL; forwarded C contract.
        unsafe { retain_raw(&abi) };
        Ok(ForeignObject { raw: abi, name })
    }

    /// The caller's object itself, with one more reference for whoever
    /// receives it (a round trip: the object is handed back to its owner,
    /// which releases that reference).
    pub fn share(&self) -> FfiForeign {
        // SAFETY: checked non-NULL when lifted; the object is alive (we
        // hold a reference).
        unsafe { retain_raw(&self.raw) };
        self.raw
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

/// Calls `abi.retain(abi.context)`.
///
/// # Safety
/// `abi.retain` is non-NULL and follows the C contract.
unsafe fn retain_raw(abi: &FfiForeign) {
    // SAFETY: by this function's contract. `C-unwind`: see
    // `crate::foreign`.
    let retain: unsafe extern "C-unwind" fn(*mut c_void) =
        unsafe { core::mem::transmute(abi.retain) };
    crate::foreign::park_if_caller_exited(crate::status::in_shim);
    let guard = HangIfUnwound::arm();
    // SAFETY: as above.
    unsafe { retain(abi.context) };
    guard.disarm();
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
    /// Whether it holds objects of an `#[export] impl` by value
    /// ([`FfiLift::OBJECTS`]): the macro refuses such a result of the
    /// caller's functions at compile time.
    const OBJECTS: bool;
    /// Copies the value out of the caller's C form.
    ///
    /// # Safety
    /// `repr` is a C form the caller wrote (pointers in it valid for reads).
    unsafe fn lift(repr: &Self::Repr) -> Result<Self, String>;
    /// Moves the value into its C form at `slot` (a Rust closure the caller
    /// calls); what frees it once the caller is done reading it.
    ///
    /// # Safety
    /// `slot` is valid for writes of a `Repr`.
    unsafe fn write(self, slot: *mut Self::Repr) -> Option<Written>;
}

/// A C form Rust wrote for the caller (the result of a Rust closure it
/// called), freed when dropped: kept until the same thread's next call on
/// the closure, or, for a call made with [`FFI_EXPORT_CALL_HELD`], until the
/// caller releases it (the C contract of `FfiForeign`).
pub struct Written(#[allow(dead_code)] Box<dyn Send>);

/// One C form, freed when dropped.
struct Owned<T: FfiValue>(T::Repr);

// SAFETY: the C form is owned by this value alone (the caller only reads a
// bitwise view of it, before the owner is dropped); freeing it is freeing
// Rust heap memory, which any thread may do.
unsafe impl<T: FfiValue> Send for Owned<T> {}

impl<T: FfiValue> Drop for Owned<T> {
    fn drop(&mut self) {
        // SAFETY: made by `into_repr` (`written`) and freed only here.
        unsafe { T::free_repr(&mut self.0) }
    }
}

/// Moves `value` into its C form, writes a bitwise view of it to `slot`,
/// and returns its owner (none when the form owns nothing).
///
/// # Safety
/// `slot` is valid for writes of a `T::Repr`.
unsafe fn written<T: FfiValue + 'static>(value: T, slot: *mut T::Repr) -> Option<Written> {
    let repr = value.into_repr();
    // SAFETY: by this function's contract; the caller reads the view only
    // while the owner returned here is alive.
    unsafe { core::ptr::copy_nonoverlapping(&repr, slot, 1) };
    let owner = Owned::<T>(repr);
    T::OWNED.then(|| Written(Box::new(owner)))
}

// SAFETY: no C form, described as unit.
unsafe impl ForeignValue for () {
    type Repr = ();
    const DESC: TypeDesc = TypeDesc::Unit;
    const OBJECTS: bool = false;
    unsafe fn lift(_: &()) -> Result<(), String> {
        Ok(())
    }
    unsafe fn write(self, _: *mut ()) -> Option<Written> {
        None
    }
}

// SAFETY: `T`'s own C form and description.
unsafe impl<T: FfiLift + 'static> ForeignValue for T {
    type Repr = <T as FfiValue>::Repr;
    const DESC: TypeDesc = <T as FfiValue>::DESC;
    const OBJECTS: bool = <T as FfiValue>::OBJECTS;
    unsafe fn lift(repr: &Self::Repr) -> Result<T, String> {
        // SAFETY: forwarded contract.
        unsafe { <T as FfiValue>::from_repr(repr) }
    }
    unsafe fn write(self, slot: *mut Self::Repr) -> Option<Written> {
        // SAFETY: forwarded contract.
        unsafe { written(self, slot) }
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
    /// Whether the value or the error holds objects by value
    /// ([`ForeignValue::OBJECTS`]).
    const OBJECTS: bool;
    /// The result from the slots the caller wrote (`error`: status 1).
    ///
    /// # Safety
    /// The slot the status names holds a C form the caller wrote.
    unsafe fn finish(error: bool, ok: &Self::OkRepr, err: &Self::ErrRepr) -> Result<Self, String>;
    /// Writes the result for the caller (a Rust closure it called): the
    /// status (0 value in `ok`, 1 error value in `err`) and what frees it.
    ///
    /// # Safety
    /// `ok` and `err` are valid for writes of their C forms.
    unsafe fn write(self, ok: *mut Self::OkRepr, err: *mut Self::ErrRepr)
        -> (i32, Option<Written>);
}

// A plain value: status 1 is a contract violation.
// SAFETY: `T`'s slot and description; no error slot.
unsafe impl<T: ForeignValue> ForeignReturn for T {
    type OkRepr = T::Repr;
    type ErrRepr = ();
    const DESC: TypeDesc = T::DESC;
    const OBJECTS: bool = T::OBJECTS;
    unsafe fn finish(error: bool, ok: &T::Repr, _: &()) -> Result<T, String> {
        if error {
            return Err("returned an error value from a method without `Result`".to_owned());
        }
        // SAFETY: forwarded contract.
        unsafe { T::lift(ok) }.map_err(|e| format!("returned an invalid value: {e}"))
    }
    unsafe fn write(self, ok: *mut T::Repr, _: *mut ()) -> (i32, Option<Written>) {
        // SAFETY: forwarded contract.
        (OK, unsafe { self.write(ok) })
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
    const OBJECTS: bool = T::OBJECTS || <E as FfiValue>::OBJECTS;
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
    unsafe fn write(self, ok: *mut T::Repr, err: *mut Self::ErrRepr) -> (i32, Option<Written>) {
        match self {
            // SAFETY: forwarded contract.
            Ok(value) => (OK, unsafe { value.write(ok) }),
            // SAFETY: forwarded contract.
            Err(error) => (ERR, unsafe { written(error, err) }),
        }
    }
}

/// `dyn Trait` of an `#[export]` trait (the macro implements it), or of a
/// closure: what a caller's [`ForeignObject`] becomes, and what crosses as
/// an `FfiForeign` both ways (`Box<Self>`, `Arc<Self>`, alone or inside
/// other values).
///
/// # Safety
/// `DESC` describes the methods `from_foreign`'s object calls, in order,
/// with the argument and result types it passes; `rust_foreign` returns an
/// `FfiForeign` the caller may use under the C contract with one reference
/// for the receiver.
pub unsafe trait FfiTrait: 'static {
    /// `TypeDesc::Trait` or `TypeDesc::Closure`.
    const DESC: TypeDesc;
    /// The Rust name, for messages.
    const NAME: &'static str;
    /// Wraps the caller's object.
    fn from_foreign(object: ForeignObject) -> Box<Self>;
    /// The Rust implementation behind an object handle the caller passed
    /// back (an `FfiForeign` with NULL functions and the handle as its
    /// context), or why there is none.
    fn from_handle(handle: u64) -> Result<Arc<Self>, String>;
    /// A box sharing `value`.
    fn boxed(value: Arc<Self>) -> Box<Self>;
    /// The caller's own object when `value` is one (`from_foreign` made
    /// it): handed back as itself.
    fn caller_object(value: &Self) -> Option<&ForeignObject>;
    /// A Rust implementation handed to the caller.
    fn rust_foreign(value: Arc<Self>) -> FfiForeign;
}

/// `value` for the caller: the caller's own object handed back (one more
/// reference), or a Rust implementation ([`FfiTrait::rust_foreign`]).
pub fn into_foreign<T: ?Sized + FfiTrait>(value: Arc<T>) -> FfiForeign {
    if let Some(object) = T::caller_object(&value) {
        return object.share();
    }
    T::rust_foreign(value)
}

/// `FfiTrait::rust_foreign` of a trait: NULL functions, the handle of a
/// new `Dyn<Trait>` object (`register`'s) as the context.
pub fn handle_foreign(handle: u64) -> FfiForeign {
    FfiForeign {
        context: handle as usize as *mut c_void,
        ..FfiForeign::NULL
    }
}

/// Lifts an `FfiForeign`: the caller's object, a Rust implementation the
/// caller got as a handle and passes back (NULL functions), or a Rust
/// closure the caller got and passes back (Rust's own functions: the
/// closure itself, if it has this type).
///
/// # Safety
/// As [`ForeignObject::lift`].
unsafe fn lift_shared<T: ?Sized + FfiTrait>(
    abi: FfiForeign,
) -> Result<Result<Arc<T>, Box<T>>, String> {
    if abi.call.is_null() && abi.retain.is_null() && abi.release.is_null() {
        if abi.context.is_null() {
            return Err(format!("no {} given (a NULL FfiForeign)", T::NAME));
        }
        return T::from_handle(abi.context as usize as u64).map(Ok);
    }
    if abi.call.is_null() || abi.retain.is_null() || abi.release.is_null() {
        return Err(
            "NULL function in the FfiForeign (call, retain and release are required)".to_owned(),
        );
    }
    if abi.release == rust_release as *const c_void && !abi.context.is_null() {
        // SAFETY: Rust's own `release` comes only with the context of a
        // live `RustImpl` (`rust_foreign` of a closure), by the C contract.
        return unsafe { RustImpl::<T>::shared(abi.context) }.map(Ok);
    }
    // SAFETY: forwarded C contract.
    unsafe { ForeignObject::lift_value(abi, T::NAME) }.map(|o| Err(T::from_foreign(o)))
}

/// [`lift_shared`] for a parameter: faults name it.
///
/// # Safety
/// As [`ForeignObject::lift`].
unsafe fn lift_param<T: ?Sized + FfiTrait>(
    abi: FfiForeign,
    param: &'static str,
) -> Result<Result<Arc<T>, Box<T>>, Fault> {
    // SAFETY: forwarded C contract.
    unsafe { lift_shared::<T>(abi) }.map_err(|why| Fault::invalid(param, why))
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
        Ok(match unsafe { lift_param::<T>(abi, param) }? {
            Ok(shared) => T::boxed(shared),
            Err(boxed) => boxed,
        })
    }
}

/// `FfiArcParam::lift_arc` of a trait or closure type (`dyn Trait`): the
/// caller's object, or a Rust implementation passed back.
///
/// # Safety
/// As [`ForeignObject::lift`].
pub unsafe fn lift_arc<T: ?Sized + FfiTrait>(
    abi: FfiForeign,
    param: &'static str,
) -> Result<Arc<T>, Fault> {
    // SAFETY: forwarded C contract.
    Ok(match unsafe { lift_param::<T>(abi, param) }? {
        Ok(shared) => shared,
        Err(boxed) => Arc::from(boxed),
    })
}

/// `FfiArcData::arc_from_repr` of a trait or closure type: as
/// [`lift_arc`], inside another value.
///
/// # Safety
/// As [`ForeignObject::lift`].
pub unsafe fn arc_from_repr<T: ?Sized + FfiTrait>(repr: &FfiForeign) -> Result<Arc<T>, String> {
    // SAFETY: forwarded C contract.
    Ok(match unsafe { lift_shared::<T>(*repr) }? {
        Ok(shared) => shared,
        Err(boxed) => Arc::from(boxed),
    })
}

// SAFETY: an `FfiForeign` with one reference for the receiver
// (`into_foreign`), which releases it itself: nothing to free here.
// Lifting checks it as a parameter's.
unsafe impl<T: ?Sized + FfiTrait> crate::data::FfiData for Box<T> {
    type Repr = FfiForeign;
    const DESC: TypeDesc = T::DESC;
    const OWNED: bool = false;
    fn into_repr(self) -> FfiForeign {
        into_foreign::<T>(Arc::from(self))
    }
    unsafe fn free_repr(_: &mut FfiForeign) {}
}

// SAFETY: as `lift_shared`, which checks what it reads.
unsafe impl<T: ?Sized + FfiTrait> FfiLift for Box<T> {
    unsafe fn from_repr(repr: &FfiForeign) -> Result<Box<T>, String> {
        // SAFETY: forwarded C contract.
        Ok(match unsafe { lift_shared::<T>(*repr) }? {
            Ok(shared) => T::boxed(shared),
            Err(boxed) => boxed,
        })
    }
}

/// What every [`RustImpl`] starts with (its context points here), whatever
/// its closure type: Rust's `retain` and `release` need nothing else.
#[repr(C)]
struct ImplHeader {
    /// References: one per `FfiForeign` handed out, plus one per `retain`.
    refs: AtomicUsize,
    /// The closure type, `TypeId::of::<dyn Fn(..) -> R + Send + Sync>`.
    type_id: TypeId,
    /// Its description, for messages.
    desc: &'static TypeDesc,
    /// What calls wrote and the caller may still read (the C contract):
    /// per thread, its last plain call's and each held call's, in order.
    kept: Mutex<Vec<Kept>>,
    /// Drops the whole `RustImpl` (its closure type's).
    drop: unsafe fn(*mut ImplHeader),
}

/// What one call of a Rust closure wrote, kept for the thread that made it.
struct Kept {
    thread: ThreadId,
    /// Made with [`FFI_EXPORT_CALL_HELD`]: freed by a release call only
    /// (present even when the call wrote nothing, so releases pair up).
    held: bool,
    /// Kept alive (freed when the entry is dropped), never read.
    #[allow(dead_code)]
    written: Option<Written>,
}

impl ImplHeader {
    /// Keeps what a call of `thread` wrote: a plain call's replaces that
    /// thread's previous plain call's (freed here, outside the lock).
    fn keep(&self, thread: ThreadId, held: bool, written: Option<Written>) {
        let previous = {
            let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            let previous = if held {
                None
            } else {
                kept.iter()
                    .position(|k| k.thread == thread && !k.held)
                    .map(|i| kept.remove(i))
            };
            if held || written.is_some() {
                kept.push(Kept {
                    thread,
                    held,
                    written,
                });
            }
            previous
        };
        drop(previous);
    }

    /// Frees what the latest held call of `thread` not yet released wrote;
    /// false when there is none.
    fn release(&self, thread: ThreadId) -> bool {
        let released = {
            let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            kept.iter()
                .rposition(|k| k.thread == thread && k.held)
                .map(|i| kept.remove(i))
        };
        released.is_some()
    }
}

/// A Rust closure handed to the caller as an `FfiForeign` whose functions
/// are Rust's: [`rust_call`], [`rust_retain`], [`rust_release`].
#[repr(C)]
struct RustImpl<F: ?Sized + 'static> {
    header: ImplHeader,
    value: Arc<F>,
}

impl<F: ?Sized + 'static> RustImpl<F> {
    /// A new one, with one reference for the receiver.
    fn foreign(value: Arc<F>, desc: &'static TypeDesc) -> FfiForeign
    where
        F: RustCallable,
    {
        let boxed = Box::new(RustImpl {
            header: ImplHeader {
                refs: AtomicUsize::new(1),
                type_id: TypeId::of::<F>(),
                desc,
                kept: Mutex::new(Vec::new()),
                drop: Self::drop_raw,
            },
            value,
        });
        FfiForeign {
            call: rust_call::<F> as *const c_void,
            retain: rust_retain as *const c_void,
            release: rust_release as *const c_void,
            context: Box::into_raw(boxed).cast(),
        }
    }

    /// # Safety
    /// `header` is the header of a `RustImpl<F>` made by `foreign`, whose
    /// last reference is gone.
    unsafe fn drop_raw(header: *mut ImplHeader) {
        // SAFETY: by this function's contract (the header is the first
        // field of a `#[repr(C)]` struct boxed by `foreign`).
        drop(unsafe { Box::from_raw(header.cast::<RustImpl<F>>()) });
    }

    /// The closure behind the context of a Rust `FfiForeign` the caller
    /// passed back, if it has type `F`.
    ///
    /// # Safety
    /// `context` is the context of a live `RustImpl` (of any closure type).
    unsafe fn shared(context: *mut c_void) -> Result<Arc<F>, String>
    where
        F: FfiTrait,
    {
        // SAFETY: by this function's contract; the header is the first
        // field of every `RustImpl`.
        let header = unsafe { &*context.cast::<ImplHeader>() };
        if header.type_id != TypeId::of::<F>() {
            return Err(format!(
                "a Rust closure `{}` where `{}` is expected",
                header.desc,
                <F as FfiTrait>::DESC
            ));
        }
        // SAFETY: its type is `F` (checked above).
        let this = unsafe { &*context.cast::<RustImpl<F>>() };
        Ok(this.value.clone())
    }
}

/// A closure type Rust can hand to the caller: calls it with arguments in
/// their C forms.
///
/// # Safety
/// `call_rust` reads `args` as one pointer per argument of the closure's
/// signature (`DESC`'s), each to that argument's C form, and writes the
/// result's C forms to `ok` / `err` as `DESC` describes.
pub unsafe trait RustCallable {
    /// Calls the closure: the status and what to keep, or why the
    /// arguments are invalid.
    ///
    /// # Safety
    /// `args` holds a pointer per argument, each NULL or to a C form the
    /// caller built (valid for reads during the call); `ok` and `err` are
    /// valid for writes of the result's C forms.
    unsafe fn call_rust(
        &self,
        args: *const *mut c_void,
        ok: *mut c_void,
        err: *mut c_void,
    ) -> Result<(i32, Option<Written>), String>;
}

/// `retain` of a Rust closure handed to the caller.
///
/// # Safety
/// `context` is that of a live Rust closure (C contract).
unsafe extern "C" fn rust_retain(context: *mut c_void) {
    // SAFETY: by this function's contract.
    let header = unsafe { &*context.cast::<ImplHeader>() };
    header.refs.fetch_add(1, Ordering::Relaxed);
}

/// `release` of a Rust closure handed to the caller: the last one drops it.
///
/// # Safety
/// `context` is that of a live Rust closure, released once per reference
/// (C contract).
unsafe extern "C" fn rust_release(context: *mut c_void) {
    // SAFETY: by this function's contract.
    let header = unsafe { &*context.cast::<ImplHeader>() };
    if header.refs.fetch_sub(1, Ordering::Release) != 1 {
        return;
    }
    core::sync::atomic::fence(Ordering::Acquire);
    let drop_impl = header.drop;
    // The closure's destructor is the user's code: a panic in it stops
    // here (this function is called from C), its payload forgotten.
    // SAFETY: the last reference is gone (the count reached zero).
    let dropped = crate::status::catch_quietly(|| unsafe { drop_impl(context.cast()) });
    if let Err(payload) = dropped {
        core::mem::forget(payload);
    }
}

/// `call` of a Rust closure handed to the caller: the `FfiForeign` C
/// contract, Rust's side. A panic of the closure, or invalid arguments,
/// is status 2 with the message.
///
/// # Safety
/// `context` is that of a live `RustImpl<F>` (C contract: the caller holds
/// a reference); the other pointers as `FfiForeign::call`'s contract.
unsafe extern "C" fn rust_call<F: ?Sized + RustCallable + 'static>(
    context: *mut c_void,
    method: u32,
    args: *const *mut c_void,
    ok: *mut c_void,
    err: *mut c_void,
    message: *mut FfiBuffer,
) -> i32 {
    // SAFETY: by this function's contract.
    let this = unsafe { &*context.cast::<RustImpl<F>>() };
    let thread = std::thread::current().id();
    if method == FFI_EXPORT_CALL_RELEASE {
        if this.header.release(thread) {
            return OK;
        }
        let (status, kept) = failed("no held call of this thread to release".to_owned(), message);
        this.header.keep(thread, false, kept);
        return status;
    }
    let held = method & FFI_EXPORT_CALL_HELD != 0;
    let method = method & !FFI_EXPORT_CALL_HELD;
    // Quiet like a shim's: the panic is reported to the caller.
    let outcome = crate::status::catch_quietly(|| {
        if method != 0 {
            return Err(format!("a closure has method 0 only, not {method}"));
        }
        // SAFETY: forwarded contract.
        unsafe { this.value.call_rust(args, ok, err) }
    });
    let (status, kept) = match outcome {
        Ok(Ok(done)) => done,
        Ok(Err(why)) => failed(why, message),
        Err(payload) => {
            let text = crate::status::panic_message(&*payload);
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(payload)));
            failed(format!("Rust panic: {text}"), message)
        }
    };
    this.header.keep(thread, held, kept);
    status
}

/// Status 2 with `why` as the message (kept with the call's result).
fn failed(why: String, message: *mut FfiBuffer) -> (i32, Option<Written>) {
    let text = why.into_bytes().into_boxed_slice();
    if !message.is_null() {
        // SAFETY: a non-NULL `message` is writable (C contract); the bytes
        // live in the `Written` returned, kept as the call's result is.
        unsafe {
            message.write(FfiBuffer {
                ptr: text.as_ptr() as *mut c_void,
                len: text.len(),
                cap: 0,
            })
        };
    }
    (FAILED, Some(Written(Box::new(text))))
}

macro_rules! closures {
    ($($a:ident $i:tt),*) => {
        // SAFETY: one method, number 0, with these argument and result
        // types (`DESC`), which `from_foreign`'s closure passes;
        // `rust_foreign` is a `RustImpl` of this type.
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
                // The macro refuses such a closure type where it sees it;
                // this catches one behind a type alias (at monomorphization).
                const {
                    assert!(
                        !R::OBJECTS,
                        "a closure the caller implements cannot return an object of an #[export] impl by value: return `Arc<Object>` instead"
                    )
                };
                Box::new(move |$($a: $a),*| object.call::<_, R>(0, "call", ($($a,)*)))
            }
            fn from_handle(_: u64) -> Result<Arc<Self>, String> {
                Err("a closure needs a call function (NULL given)".to_owned())
            }
            #[allow(non_snake_case)]
            fn boxed(value: Arc<Self>) -> Box<Self> {
                Box::new(move |$($a: $a),*| value($($a),*))
            }
            fn caller_object(_: &Self) -> Option<&ForeignObject> {
                None
            }
            fn rust_foreign(value: Arc<Self>) -> FfiForeign {
                RustImpl::foreign(value, &<Self as FfiTrait>::DESC)
            }
        }

        // SAFETY: reads one argument C form per pointer, by these types,
        // and writes `R`'s C forms (`ForeignReturn::write`).
        unsafe impl<R: ForeignReturn + 'static, $($a: FfiValue + 'static),*> RustCallable
            for dyn Fn($($a),*) -> R + Send + Sync
        {
            #[allow(non_snake_case, unused_variables)]
            unsafe fn call_rust(
                &self,
                args: *const *mut c_void,
                ok: *mut c_void,
                err: *mut c_void,
            ) -> Result<(i32, Option<Written>), String> {
                $(
                    // SAFETY: one pointer per argument (contract).
                    let pointer = unsafe { *args.add($i) };
                    if pointer.is_null() {
                        return Err(format!("argument {}: NULL", $i));
                    }
                    // SAFETY: a C form of `$a` the caller built (contract).
                    let $a = unsafe { <$a as FfiValue>::from_repr(&*pointer.cast::<$a::Repr>()) }
                        .map_err(|why| format!("argument {}: {why}", $i))?;
                )*
                let result = self($($a),*);
                // SAFETY: the slots of `R`'s C forms (contract).
                Ok(unsafe { result.write(ok.cast(), err.cast()) })
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

        impl<R: ForeignReturn + 'static, $($a: FfiValue + 'static),*> crate::data::FfiArcRepr
            for dyn Fn($($a),*) -> R + Send + Sync
        {
            type Repr = FfiForeign;
        }

        // SAFETY: an `FfiForeign` (`into_foreign`), checked when read back.
        unsafe impl<R: ForeignReturn + 'static, $($a: FfiValue + 'static),*> crate::data::FfiArcData
            for dyn Fn($($a),*) -> R + Send + Sync
        {
            const DESC: TypeDesc = <Self as FfiTrait>::DESC;
            fn arc_into_repr(value: Arc<Self>) -> FfiForeign {
                into_foreign::<Self>(value)
            }
            unsafe fn arc_from_repr(repr: &FfiForeign) -> Result<Arc<Self>, String> {
                // SAFETY: forwarded contract.
                unsafe { arc_from_repr::<Self>(repr) }
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
/// `O` (`Dyn<Trait>`): a stale or foreign handle is refused, saying why.
pub fn shared_from_handle<O: crate::object::FfiObject, T: ?Sized>(
    handle: u64,
    get: impl FnOnce(&O) -> Arc<T>,
) -> Result<Arc<T>, String> {
    crate::object::with_object::<O, _>(handle, false, |object| get(object)).map_err(|fault| {
        match fault {
            Fault::InvalidArgument(message) => message
                .strip_prefix("argument `self`: ")
                .map_or_else(|| message.clone(), str::to_owned),
            other => format!("{other:?}"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{FfiData, FfiLift};

    type Step = dyn Fn(i64) -> i64 + Send + Sync;
    type Greet = dyn Fn(String) -> String + Send + Sync;

    static DROPPED: AtomicUsize = AtomicUsize::new(0);

    struct Counted;
    impl Drop for Counted {
        fn drop(&mut self) {
            DROPPED.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Calls a Rust closure's `FfiForeign` as a C caller would.
    fn call_c(foreign: &FfiForeign, arg: i64) -> (i32, i64) {
        let mut arg = arg;
        let args = [(&mut arg as *mut i64).cast::<c_void>()];
        let mut ok = 0_i64;
        let mut message = FfiBuffer::NULL;
        // SAFETY: a Rust closure's `call`, its context, one i64 argument
        // and an i64 result slot (its C contract).
        let call: unsafe extern "C" fn(
            *mut c_void,
            u32,
            *const *mut c_void,
            *mut c_void,
            *mut c_void,
            *mut FfiBuffer,
        ) -> i32 = unsafe { core::mem::transmute(foreign.call) };
        // SAFETY: as above.
        let status = unsafe {
            call(
                foreign.context,
                0,
                args.as_ptr(),
                (&mut ok as *mut i64).cast(),
                core::ptr::null_mut(),
                &mut message,
            )
        };
        (status, ok)
    }

    /// Calls a `Greet` closure's `FfiForeign` with method number `method`
    /// as a C caller would: the status and the result's C form.
    fn call_greet(foreign: &FfiForeign, method: u32, name: &str) -> (i32, FfiBuffer) {
        let mut arg = FfiBuffer {
            ptr: name.as_ptr() as *mut c_void,
            len: name.len(),
            cap: 0,
        };
        let args = [(&mut arg as *mut FfiBuffer).cast::<c_void>()];
        let mut ok = FfiBuffer::NULL;
        let mut message = FfiBuffer::NULL;
        // SAFETY: a Rust closure's `call` and context, one `String`
        // argument's C form (borrowed bytes) and a `String` result slot.
        let status = unsafe {
            rust_call::<Greet>(
                foreign.context,
                method,
                args.as_ptr(),
                (&mut ok as *mut FfiBuffer).cast(),
                core::ptr::null_mut(),
                &mut message,
            )
        };
        (status, ok)
    }

    /// The bytes a result's C form points to (copied).
    fn read(buffer: &FfiBuffer) -> Vec<u8> {
        // SAFETY: a `String`'s C form Rust wrote, still kept (each caller
        // reads before releasing it).
        unsafe { core::slice::from_raw_parts(buffer.ptr as *const u8, buffer.len) }.to_vec()
    }

    fn kept_of(foreign: &FfiForeign) -> usize {
        // SAFETY: the context of a live `RustImpl` (the test holds it).
        let header = unsafe { &*foreign.context.cast::<ImplHeader>() };
        header.kept.lock().map(|k| k.len()).unwrap_or(usize::MAX)
    }

    #[test]
    fn a_held_result_survives_nested_calls_until_released() {
        let greet: Box<Greet> = Box::new(|name| format!("hello {name}"));
        let foreign = FfiData::into_repr(greet);
        // The outer call, held: a signal handler or finalizer then calls
        // the same closure on this thread (plain and held) before the
        // outer result is read.
        let (status, outer) = call_greet(&foreign, FFI_EXPORT_CALL_HELD, "outer");
        assert_eq!(status, OK);
        let (status, plain) = call_greet(&foreign, 0, "plain");
        assert_eq!((status, read(&plain)), (OK, b"hello plain".to_vec()));
        let (status, nested) = call_greet(&foreign, FFI_EXPORT_CALL_HELD, "nested");
        assert_eq!((status, read(&nested)), (OK, b"hello nested".to_vec()));
        assert_eq!(call_greet(&foreign, FFI_EXPORT_CALL_RELEASE, "").0, OK);
        let (status, plain) = call_greet(&foreign, 0, "again");
        assert_eq!((status, read(&plain)), (OK, b"hello again".to_vec()));
        // The outer result is intact, then released.
        assert_eq!(read(&outer), b"hello outer".to_vec());
        assert_eq!(
            kept_of(&foreign),
            2,
            "the outer held call's and the last plain call's"
        );
        assert_eq!(call_greet(&foreign, FFI_EXPORT_CALL_RELEASE, "").0, OK);
        assert_eq!(kept_of(&foreign), 1);
        // Nothing held any more: a release fails with a message.
        assert_eq!(call_greet(&foreign, FFI_EXPORT_CALL_RELEASE, "").0, FAILED);
        // Another thread's held call is its own to release.
        let context = foreign.context as usize;
        std::thread::spawn(move || {
            // (`call_greet` uses the context only.)
            let foreign = FfiForeign {
                call: core::ptr::null(),
                retain: core::ptr::null(),
                release: core::ptr::null(),
                context: context as *mut c_void,
            };
            assert_eq!(call_greet(&foreign, FFI_EXPORT_CALL_HELD, "there").0, OK);
            assert_eq!(call_greet(&foreign, FFI_EXPORT_CALL_RELEASE, "").0, OK);
        })
        .join()
        .map_err(|_| "the thread panicked")
        .unwrap_or_else(|m| panic!("{m}"));
        // SAFETY: Rust's `release`, once for the reference handed out.
        unsafe { rust_release(foreign.context) };
    }

    #[test]
    fn rust_closures_cross_as_foreign_objects_and_come_back_as_themselves() {
        let counted = Counted;
        let step: Box<Step> = Box::new(move |x| {
            let _ = &counted;
            x + 1
        });
        let before = DROPPED.load(Ordering::SeqCst);
        let foreign = FfiData::into_repr(step);
        assert_eq!(call_c(&foreign, 41), (OK, 42));
        // Read back as the same type: the closure itself (one more Arc).
        // SAFETY: an `FfiForeign` Rust made, still referenced.
        let back = unsafe { <Box<Step> as FfiLift>::from_repr(&foreign) }.map(|f| f(1));
        assert_eq!(back.ok(), Some(2));
        // As another closure type: refused, not misread.
        // SAFETY: as above.
        let wrong = unsafe { <Box<Greet> as FfiLift>::from_repr(&foreign) }.map(|_| ());
        assert!(
            matches!(&wrong, Err(m) if m.contains("a Rust closure") && m.contains("is expected")),
            "{wrong:?}"
        );
        // The receiver's one reference: the closure drops with it.
        assert_eq!(DROPPED.load(Ordering::SeqCst), before);
        // SAFETY: Rust's `release`, once for the reference handed out.
        unsafe { rust_release(foreign.context) };
        assert_eq!(DROPPED.load(Ordering::SeqCst), before + 1);
    }

    #[test]
    fn a_panicking_rust_closure_reports_status_2_with_its_message() {
        let step: Box<Step> = Box::new(|x| if x == 0 { panic!("zero") } else { x });
        let foreign = FfiData::into_repr(step);
        let mut arg = 0_i64;
        let args = [(&mut arg as *mut i64).cast::<c_void>()];
        let mut ok = 0_i64;
        let mut message = FfiBuffer::NULL;
        // SAFETY: as in `call_c`.
        let status = unsafe {
            rust_call::<Step>(
                foreign.context,
                0,
                args.as_ptr(),
                (&mut ok as *mut i64).cast(),
                core::ptr::null_mut(),
                &mut message,
            )
        };
        assert_eq!(status, FAILED);
        // SAFETY: the message Rust wrote, kept until this thread's next call.
        let text = unsafe { crate::data::borrow_str(&message) };
        assert_eq!(text.ok(), Some("Rust panic: zero"));
        assert_eq!(call_c(&foreign, 5), (OK, 5));
        // SAFETY: once, for the reference handed out.
        unsafe { rust_release(foreign.context) };
    }

    #[test]
    fn null_and_half_null_foreign_objects_are_refused() {
        // SAFETY: no function is called for these.
        let none = unsafe { <Box<Step> as FfiLift>::from_repr(&FfiForeign::NULL) }.map(|_| ());
        assert!(matches!(none, Err(m) if m.contains("NULL FfiForeign")));
        let half = FfiForeign {
            release: rust_release as *const c_void,
            ..FfiForeign::NULL
        };
        // SAFETY: refused before any function is called (`call` is NULL).
        let half = unsafe { <Box<Step> as FfiLift>::from_repr(&half) }.map(|_| ());
        assert!(matches!(half, Err(m) if m.contains("NULL function")));
    }
}
