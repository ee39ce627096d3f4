//! Calling back into the caller: [`Callback`] lets an exported function call
//! a caller-provided function (a Python function, through the helper), and
//! [`Allocator`] lets it ask the caller for output arrays the caller owns.
//!
//! Both are borrowed for the duration of one call only (they carry a
//! lifetime and are neither `Send` nor `Sync`), so Rust can never call them
//! after the caller's objects are gone, nor from another thread.
//!
//! When the caller's side fails (a Python exception, an allocation refused)
//! the Rust function is unwound with a private payload, its destructors run,
//! and the shim reports code 4 (`CALLBACK_FAILED`); the Python helper then
//! re-raises the original exception.

use crate::abi::{FfiAllocator, FfiCallback};
use crate::convert::{CallScope, FfiElement, FfiParam};
use crate::describe::TypeDesc;
use crate::foreign::HangIfUnwound;
use crate::status::Fault;
use core::ffi::c_void;
use core::marker::PhantomData;

fn fail() -> ! {
    std::panic::resume_unwind(Box::new(crate::status::CallbackFailed))
}

/// Only the runtime implements the callback and allocator element traits:
/// the trampolines and allocation kinds in the helper and the C contract
/// exist for primitives only, and unsafe code relies on `C`, `DESC` and
/// `KIND` matching the type.
mod sealed {
    pub trait Sealed {}
    macro_rules! sealed {
        ($($t:ident: $class:ident, $kind:literal, $codes:literal;)*) => {$(impl Sealed for $t {})*};
    }
    for_each_primitive!(sealed);
    impl Sealed for bool {}
    impl Sealed for () {}
}

/// A value that can be a callback argument or result: a primitive.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a callback argument or result",
    label = "unsupported in `Callback<fn(..) -> R>`",
    note = "callback arguments and results may be i8, i16, i32, i64, u8, u16, u32, u64, isize, usize, f32, f64 or bool (and `()` as the result)",
    note = "for text, records, Option, Vec or Result arguments and results take the callback as `&dyn Fn(A, ..) -> R` instead of `Callback<fn(A, ..) -> R>`"
)]
pub trait CallbackValue: sealed::Sealed + Sized {
    /// Its C type.
    type C: Copy;
    /// Its description.
    const DESC: TypeDesc;
    /// The value a failed callback returns while Rust is already unwinding
    /// (zero, `false`).
    const NEUTRAL: Self;
    /// To C.
    fn to_c(self) -> Self::C;
    /// From C, checked.
    fn from_c(c: Self::C) -> Option<Self>;
}

macro_rules! callback_values {
    ($($t:ident: $class:ident, $kind:literal, $codes:literal;)*) => {$(
        impl CallbackValue for $t {
            type C = $t;
            const DESC: TypeDesc = TypeDesc::Scalar(stringify!($t));
            const NEUTRAL: $t = 0 as $t;
            #[inline]
            fn to_c(self) -> $t { self }
            #[inline]
            fn from_c(c: $t) -> Option<$t> { Some(c) }
        }
    )*};
}
for_each_primitive!(callback_values);

impl CallbackValue for bool {
    type C = u8;
    const DESC: TypeDesc = TypeDesc::Scalar("bool");
    const NEUTRAL: bool = false;
    fn to_c(self) -> u8 {
        u8::from(self)
    }
    fn from_c(c: u8) -> Option<bool> {
        crate::data::bool_from_byte(c).ok()
    }
}

/// A callback result: a [`CallbackValue`] or `()`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a callback result",
    label = "unsupported in `Callback<fn(..) -> R>`",
    note = "callback results may be (), i8, i16, i32, i64, u8, u16, u32, u64, isize, usize, f32, f64 or bool",
    note = "for text, records, Option, Vec or Result arguments and results take the callback as `&dyn Fn(A, ..) -> R` instead of `Callback<fn(A, ..) -> R>`"
)]
pub trait CallbackReturn: sealed::Sealed + Sized {
    /// Its C type.
    type C: Copy;
    /// Its description.
    const DESC: TypeDesc;
    /// What `call` returns for a failed callback while Rust is already
    /// unwinding.
    const NEUTRAL: Self;
    /// From C, checked.
    fn from_c(c: Self::C) -> Option<Self>;
}

impl CallbackReturn for () {
    type C = ();
    const DESC: TypeDesc = TypeDesc::Unit;
    const NEUTRAL: () = ();
    fn from_c(_: ()) -> Option<()> {
        Some(())
    }
}

impl<T: CallbackValue> CallbackReturn for T {
    type C = T::C;
    const DESC: TypeDesc = T::DESC;
    const NEUTRAL: T = T::NEUTRAL;
    fn from_c(c: T::C) -> Option<T> {
        T::from_c(c)
    }
}

/// A function of the caller, borrowed for one call: `Callback<fn(f64) -> f64>`.
///
/// `F` is a Rust `fn` type naming the argument and result types (primitives
/// and `bool`; `()` as a result). For text, records, `Option`, `Vec` or
/// `Result` arguments and results take `&dyn Fn(..) -> R` instead.
pub struct Callback<'a, F: CallbackSignature> {
    raw: FfiCallback,
    /// Calls `raw` with `F`'s types: chosen when lifted, where the types
    /// are checked, so that `call` itself has no bounds (an unsupported
    /// type is one error, at the parameter, not another at each call).
    invoke: F::Invoke,
    _borrow: PhantomData<(&'a (), *const ())>,
}

/// The `fn(A, ..) -> R` types a [`Callback`] is written with: the type of
/// the function that calls one.
#[doc(hidden)]
pub trait CallbackSignature {
    /// `unsafe fn(&FfiCallback, A, ..) -> R`.
    type Invoke: Copy;
}

macro_rules! callback_arity {
    ($invoke:ident: $($a:ident),*) => {
        impl<R, $($a),*> CallbackSignature for fn($($a),*) -> R {
            type Invoke = unsafe fn(&FfiCallback $(, $a)*) -> R;
        }

        impl<'a, R, $($a),*> Callback<'a, fn($($a),*) -> R> {
            /// Calls the function. If it fails (the Python function raised),
            /// this unwinds the exported function, and the caller sees its
            /// own exception.
            ///
            /// While the thread is already unwinding (a `Drop` guard calling
            /// back, say), a failed call returns zero / `false` / `()`
            /// instead: the first failure is the one reported, and a second
            /// panic would abort the process.
            #[allow(non_snake_case, clippy::too_many_arguments)]
            #[inline]
            pub fn call(&self, $($a: $a),*) -> R {
                // SAFETY: `invoke` was made for `raw` and these types when
                // lifted (see `invoke`'s contract).
                unsafe { (self.invoke)(&self.raw $(, $a)*) }
            }
        }

        /// `Callback::call` of these types.
        ///
        /// # Safety
        /// `raw` was lifted as a `Callback` of these types: its function is
        /// non-NULL and has this C signature (C contract), and it lives for
        /// the call.
        #[allow(non_snake_case, clippy::too_many_arguments)]
        unsafe fn $invoke<R: CallbackReturn, $($a: CallbackValue),*>(raw: &FfiCallback $(, $a: $a)*) -> R {
            let mut failed: u8 = 0;
            // SAFETY: by this function's contract. `C-unwind`: see
            // `crate::foreign`.
            let call: unsafe extern "C-unwind" fn(*mut c_void, *mut u8 $(, $a::C)*) -> R::C =
                unsafe { core::mem::transmute(raw.call) };
            let guard = HangIfUnwound::arm();
            // SAFETY: as above; `failed` outlives the call.
            let result = unsafe { call(raw.context, &mut failed $(, $a.to_c())*) };
            guard.disarm();
            if failed != 0 {
                if std::thread::panicking() {
                    return R::NEUTRAL;
                }
                fail();
            }
            match R::from_c(result) {
                Some(value) => value,
                None if std::thread::panicking() => R::NEUTRAL,
                None => fail_with("the callback returned an invalid value"),
            }
        }

        // SAFETY: an FfiCallback by value; a NULL function is refused, and
        // the callback's C signature is the one DESC announces.
        unsafe impl<'a, R: CallbackReturn, $($a: CallbackValue),*> FfiParam for Callback<'a, fn($($a),*) -> R> {
            type Abi = FfiCallback;
            const DESC: TypeDesc = TypeDesc::Callback {
                params: &[$($a::DESC),*],
                ret: &R::DESC,
            };
            // Borrowed for the call only, whatever lifetime the signature
            // names (`Callback<'static, ..>` does not compile).
            type Lifted<'s> = Callback<'s, fn($($a),*) -> R>;
            unsafe fn lift<'s>(
                abi: FfiCallback,
                param: &'static str,
                _scope: &'s CallScope,
            ) -> Result<Callback<'s, fn($($a),*) -> R>, Fault> {
                if abi.call.is_null() {
                    return Err(Fault::invalid(param, "NULL callback"));
                }
                Ok(Callback { raw: abi, invoke: $invoke::<R, $($a),*>, _borrow: PhantomData })
            }
        }
    };
}

fn fail_with(message: &str) -> ! {
    std::panic::panic_any(message.to_owned())
}

callback_arity!(invoke0:);
callback_arity!(invoke1: A);
callback_arity!(invoke2: A, B);
callback_arity!(invoke3: A, B, C);
callback_arity!(invoke4: A, B, C, D);

/// Element kinds an [`Allocator`] hands out, as `kind` codes.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an element of an `Allocator` output array",
    label = "unsupported element type",
    note = "`Allocator::array::<T>` hands out arrays of i8, i16, i32, i64, u8, u16, u32, u64, isize, usize, f32 or f64 (for bools use u8)",
    note = "for text call `alloc.text(&str)` once per string"
)]
pub trait AllocElement: sealed::Sealed + FfiElement<Raw = Self> + Copy {
    /// The code passed to the caller's allocation function.
    const KIND: u32;
}

macro_rules! alloc_elements {
    ($($t:ident: $class:ident, $kind:literal, $codes:literal;)*) => {$(
        impl AllocElement for $t {
            const KIND: u32 = $kind;
        }
    )*};
}
for_each_primitive!(alloc_elements);

/// `kind` code of a UTF-8 text output.
pub const ALLOC_TEXT: u32 = 0;

/// The caller's allocator, borrowed for one call: outputs allocated through
/// it belong to the caller (Python objects), so nothing needs freeing.
pub struct Allocator<'a> {
    raw: FfiAllocator,
    /// The call's scope: it owns the stand-in outputs handed out when the
    /// caller's allocator fails while Rust is already unwinding.
    scope: &'a CallScope,
    _not_send: PhantomData<*const ()>,
}

impl<'a> Allocator<'a> {
    /// The caller's buffer, or NULL when it failed (its failure is
    /// recorded on its side).
    fn raw_alloc(&self, kind: u32, len: usize, align: usize) -> Option<*mut c_void> {
        // SAFETY: checked non-NULL when lifted; this signature by contract.
        // `C-unwind`: see `crate::foreign`.
        let alloc: unsafe extern "C-unwind" fn(*mut c_void, u32, usize) -> *mut c_void =
            unsafe { core::mem::transmute(self.raw.alloc) };
        let guard = HangIfUnwound::arm();
        // SAFETY: as above.
        let ptr = unsafe { alloc(self.raw.context, kind, len) };
        guard.disarm();
        if ptr.is_null() {
            return None;
        }
        if (ptr as usize) % align != 0 {
            if std::thread::panicking() {
                return None;
            }
            fail_with("the allocator returned a misaligned buffer");
        }
        Some(ptr)
    }

    /// A new zeroed output array of `len` elements, owned by the caller.
    ///
    /// If the caller's allocator fails, the exported function is unwound
    /// and the caller sees its failure; while the thread is already
    /// unwinding (a `Drop` guard writing an output, say) a zeroed stand-in
    /// owned by the call is returned instead, so the first failure is the
    /// one reported.
    pub fn array<T: AllocElement>(&self, len: usize) -> &'a mut [T] {
        if len == 0 {
            // Still tell the caller, so it returns an empty array.
            if self.raw_alloc(T::KIND, 0, 1).is_none() && !std::thread::panicking() {
                fail();
            }
            return &mut [];
        }
        // The caller allocates `len` elements of the kind's size: refuse a
        // request whose byte size does not fit before asking.
        if len
            .checked_mul(core::mem::size_of::<T>())
            .is_none_or(|n| n > isize::MAX as usize)
        {
            if std::thread::panicking() {
                return &mut [];
            }
            fail_with("the requested output is too large");
        }
        match self.raw_alloc(T::KIND, len, core::mem::align_of::<T>()) {
            // SAFETY: the caller returned a zeroed buffer of `len` elements of
            // kind `T::KIND`, whose size is `size_of::<T>()` (the kinds are
            // the runtime's own, sealed: only the primitives listed in
            // `alloc_elements!` implement AllocElement), aligned (checked),
            // that only this call uses until it returns (the helper hands out
            // memory no Python code can reach during the call); zero is a
            // valid value of every AllocElement.
            Some(ptr) => unsafe { core::slice::from_raw_parts_mut(ptr.cast::<T>(), len) },
            None if std::thread::panicking() => {
                // Holds for every AllocElement (numbers of at most 8 bytes).
                assert!(core::mem::align_of::<T>() <= core::mem::align_of::<u64>());
                let ptr = self.scope.zeroed(len * core::mem::size_of::<T>());
                // SAFETY: `len * size_of::<T>()` zeroed bytes (the size was
                // checked above), u64-aligned (enough for T, asserted), owned
                // by the call's scope ('a) and handed out once; zero is a
                // valid value of every AllocElement.
                unsafe { core::slice::from_raw_parts_mut(ptr.cast::<T>(), len) }
            }
            None => fail(),
        }
    }

    /// A new text output holding `text`, owned by the caller (skipped if
    /// the allocator fails while the thread is already unwinding).
    pub fn text(&self, text: &str) {
        match self.raw_alloc(ALLOC_TEXT, text.len(), 1) {
            Some(ptr) if !text.is_empty() => {
                // SAFETY: the caller returned `text.len()` writable bytes.
                unsafe {
                    core::ptr::copy_nonoverlapping(text.as_ptr(), ptr.cast::<u8>(), text.len())
                };
            }
            Some(_) => {}
            None if std::thread::panicking() => {}
            None => fail(),
        }
    }
}

// SAFETY: an FfiAllocator by value; a NULL function is refused.
unsafe impl FfiParam for Allocator<'_> {
    type Abi = FfiAllocator;
    const DESC: TypeDesc = TypeDesc::Allocator;
    // Borrowed for the call only (`Allocator<'static>` does not compile).
    type Lifted<'s> = Allocator<'s>;
    unsafe fn lift<'s>(
        abi: FfiAllocator,
        param: &'static str,
        scope: &'s CallScope,
    ) -> Result<Allocator<'s>, Fault> {
        if abi.alloc.is_null() {
            return Err(Fault::invalid(param, "NULL allocator"));
        }
        Ok(Allocator {
            raw: abi,
            scope,
            _not_send: PhantomData,
        })
    }
}
