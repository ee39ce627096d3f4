//! Conversions between C arguments/returns and Rust values. The macro only
//! emits calls to these traits and functions; a type's C form, its
//! description and its checks live here, once.

use crate::abi::{AbiValue, FfiBuffer};
use crate::data::{FfiData, Moves};
use crate::describe::{error_type, short_type_name, TypeDesc};
use crate::status::Fault;
use core::ffi::{c_char, CStr};
use core::fmt::Display;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};

/// The borrow scope of one exported call. Every shim makes one as a local
/// and lifts each borrowed argument (`&str`, `&[T]`, `Callback`, ...) with a
/// lifetime bounded by it, so the borrow checker refuses any function that
/// would keep an argument past the call, whatever its signature spells
/// (`'static`, a named lifetime, a type alias hiding either).
#[doc(hidden)]
pub struct CallScope {
    /// Zeroed stand-ins for allocator outputs the caller failed to provide
    /// while Rust was already unwinding (see `Allocator::array`); freed
    /// with the scope, after the function returned. Empty on every normal
    /// call (no allocation).
    stand_ins: core::cell::RefCell<Vec<Vec<u64>>>,
    // Neither Send nor Sync: a scope belongs to the thread making the call.
    _call: PhantomData<*const ()>,
}

impl CallScope {
    /// A scope for the call about to run.
    #[inline]
    #[allow(clippy::new_without_default)] // made by generated code only
    pub fn new() -> CallScope {
        CallScope {
            stand_ins: core::cell::RefCell::new(Vec::new()),
            _call: PhantomData,
        }
    }

    /// `bytes` zeroed bytes, 8-byte aligned, that live as long as the scope
    /// and that nothing else points to.
    pub(crate) fn zeroed(&self, bytes: usize) -> *mut u64 {
        let mut storage = vec![0u64; bytes.div_ceil(size_of::<u64>())];
        let ptr = storage.as_mut_ptr();
        // Moving the Vec into the list does not move its heap buffer.
        self.stand_ins.borrow_mut().push(storage);
        ptr
    }
}

/// A type whose values can be elements of a slice parameter, borrowed in
/// place: primitives and `#[repr(C)]` plain-data records.
///
/// # Safety
/// `Raw` must have the size and alignment of `Self`, and every `Raw` slice
/// for which [`FfiElement::valid`] returns true must be a valid `[Self]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an element of a slice parameter",
    label = "unsupported element type",
    note = "`&[T]` takes numbers, bool, String, #[export] structs and enums, Vec, Option, maps, sets and tuples; `&mut [T]` (written in place) only numbers, bool and #[repr(C)] #[export] structs of numbers",
    note = "to change other values, take them by value (`Vec<T>`) and return the new ones"
)]
pub unsafe trait FfiElement: 'static {
    /// The C element type.
    type Raw;
    /// The element's description.
    const DESC: TypeDesc;
    /// Whether every raw value is a valid `Self`.
    fn valid(raw: &[Self::Raw]) -> bool;
}

/// An element of a `&[T]` parameter: borrowed in place when it is
/// [`FfiElement`] (numbers, `bool`, `#[repr(C)]` plain data), copied in from
/// its C form otherwise (records, enums, `String`, `Vec`, options, maps,
/// tuples: a `&[Person]` is a `Vec<Person>` lifted for the call and lent).
///
/// # Safety
/// `lift_elems` reads `len` values of `Raw` at `ptr` only as the caller's
/// C contract allows (NULL with length 0, or readable for the call) and
/// checks every one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an element of a `&[T]` parameter",
    label = "unsupported slice element",
    note = "slice elements may be numbers, bool, #[repr(C)] #[export] structs (borrowed in place), or records, enums, String, Vec, Option, maps and tuples (copied in)",
    note = "objects of an #[export] impl are elements as `Arc<T>` (shared), not by value"
)]
pub unsafe trait FfiSliceElem: Sized {
    /// The C element type: the parameter is `(const Raw *ptr, size_t len)`.
    type Raw;
    /// The element's description.
    const DESC: TypeDesc;
    /// The elements, borrowed or copied, checked.
    ///
    /// # Safety
    /// Unless NULL or `len == 0`, `ptr` points to `len` initialised `Raw`s
    /// readable (and not mutated) during the call.
    unsafe fn lift_elems<'s>(
        scope: &'s CallScope,
        ptr: *const Self::Raw,
        len: usize,
        param: &'static str,
    ) -> Result<SliceArg<'s, Self>, Fault>;
}

/// The elements of a `&[T]` parameter: the caller's memory, or a copy.
pub enum SliceArg<'s, T> {
    /// Borrowed in place.
    Borrowed(&'s [T]),
    /// Copied in (dropped after the call).
    Owned(Vec<T>),
}

impl<T> core::ops::Deref for SliceArg<'_, T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        match self {
            SliceArg::Borrowed(slice) => slice,
            SliceArg::Owned(vec) => vec,
        }
    }
}

// SAFETY: lift_slice checks the pointer, length and every element.
unsafe impl<T: FfiElement> FfiSliceElem for T {
    type Raw = T::Raw;
    const DESC: TypeDesc = T::DESC;
    #[inline]
    unsafe fn lift_elems<'s>(
        scope: &'s CallScope,
        ptr: *const T::Raw,
        len: usize,
        param: &'static str,
    ) -> Result<SliceArg<'s, T>, Fault> {
        // SAFETY: forwarded contract.
        unsafe { lift_slice(scope, ptr, len, param) }.map(SliceArg::Borrowed)
    }
}

/// Lifts `(ptr, len)` of `T`'s C form as a copy: a `&[T]` of a type that
/// crosses by copy (what `FfiSliceElem` impls of such types call).
///
/// # Safety
/// As [`FfiSliceElem::lift_elems`].
pub unsafe fn lift_copied<'s, T: crate::data::FfiLift>(
    ptr: *const T::Repr,
    len: usize,
    param: &'static str,
) -> Result<SliceArg<'s, T>, Fault> {
    let view = FfiBuffer {
        ptr: ptr.cast_mut().cast(),
        len,
        cap: 0,
    };
    // SAFETY: the caller's contract: NULL with length 0, or `len` readable
    // C forms; `from_repr` checks the pointer, its alignment, the length
    // and every element.
    unsafe { <Vec<T> as crate::data::FfiLift>::from_repr(&view) }
        .map(SliceArg::Owned)
        .map_err(|why| Fault::invalid(param, why))
}

/// `FfiSliceElem` by copy for types of the runtime that are not
/// `FfiElement`.
macro_rules! copied_elems {
    ($(impl[$($generics:tt)*] for $ty:ty;)*) => {$(
        // SAFETY: lift_copied checks the pointer, length and every element.
        unsafe impl<$($generics)*> FfiSliceElem for $ty {
            type Raw = <$ty as FfiData>::Repr;
            const DESC: TypeDesc = <$ty as FfiData>::DESC;
            unsafe fn lift_elems<'s>(
                _: &'s CallScope,
                ptr: *const Self::Raw,
                len: usize,
                param: &'static str,
            ) -> Result<SliceArg<'s, $ty>, Fault> {
                // SAFETY: forwarded contract.
                unsafe { lift_copied::<$ty>(ptr, len, param) }
            }
        }
    )*};
}
pub(crate) use copied_elems;

copied_elems! {
    impl[] for String;
    impl[T: crate::data::FfiLift] for Vec<T>;
    impl[T: crate::data::FfiLift] for Option<T>;
}

/// A Rust parameter type passed by value as one C argument.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of an #[export] function",
    label = "unsupported parameter type",
    note = "supported parameters: i8 … i128, u8 … u128, isize, usize, f32, f64, bool, String, #[export] structs and enums, objects of an #[export] impl (moved in), Vec<T>, Option<T>, HashMap/BTreeMap<K, V>, HashSet/BTreeSet<T> and tuples of those, &str, &CStr, &[T], &mut [T] of numbers, Callback<fn(..) -> R>, Allocator",
    note = "convert other types inside the function"
)]
///
/// # Safety
/// `Abi` is the C form the description `DESC` announces (the helper and C
/// callers pass arguments by it), and `lift` accepts every value of `Abi`
/// a caller following the C contract can pass: it checks what it reads.
pub unsafe trait FfiParam: Sized {
    /// The C argument type.
    type Abi: Copy;
    /// How it is described.
    const DESC: TypeDesc;
    /// The value handed to the function: `Self` with every borrowed
    /// lifetime set to the call's scope `'s` (`Self` for owned types). A
    /// function whose parameter needs a longer lifetime than the call does
    /// not compile.
    type Lifted<'s>;
    /// Whether lifting it moves objects into Rust ([`FfiLift::moves`]):
    /// the call then [`reserve`](FfiParam::reserve)s it with the other
    /// arguments' checks and lifts it only once they all passed.
    #[inline]
    fn moves() -> bool {
        false
    }
    /// Converts the C argument, refusing invalid values.
    ///
    /// # Safety
    /// `abi` comes from a caller following the C contract: a pointer in it
    /// is NULL or valid for reads during the call.
    unsafe fn lift<'s>(
        abi: Self::Abi,
        param: &'static str,
        scope: &'s CallScope,
    ) -> Result<Self::Lifted<'s>, Fault>;
    /// Checks the C argument as `lift` would and reserves the objects it
    /// moves ([`FfiLift::reserve`]); called only when `moves()` holds.
    ///
    /// # Safety
    /// As [`FfiParam::lift`].
    unsafe fn reserve(abi: Self::Abi, param: &'static str, moves: &mut Moves) -> Result<(), Fault> {
        let _ = (abi, param, moves);
        Ok(())
    }
}

/// What an `Arc<T>` parameter points to: a shared `#[export]` object
/// (crossing as its handle) or an `#[export]` trait or closure the caller
/// implements (an `FfiForeign`). One trait, so that `Arc<T>` has one
/// `FfiParam` impl for both (`object.rs`, `dynamic.rs`).
///
/// # Safety
/// `lift_arc` upholds [`FfiParam::lift`]'s contract for `Arc<Self>`: it
/// returns only an `Arc` of a valid `Self` made from a checked `abi`.
pub unsafe trait FfiArcParam {
    /// The C argument type.
    type Abi: Copy;
    /// How `Arc<Self>` is described.
    const DESC: TypeDesc;
    /// Converts the C argument, refusing invalid values.
    ///
    /// # Safety
    /// As [`FfiParam::lift`].
    unsafe fn lift_arc(abi: Self::Abi, param: &'static str) -> Result<std::sync::Arc<Self>, Fault>;
}

// SAFETY: forwarded to `FfiArcParam`, whose contract is this one.
unsafe impl<T: ?Sized + FfiArcParam> FfiParam for std::sync::Arc<T> {
    type Abi = T::Abi;
    const DESC: TypeDesc = T::DESC;
    type Lifted<'s> = std::sync::Arc<T>;
    unsafe fn lift(
        abi: T::Abi,
        param: &'static str,
        _: &CallScope,
    ) -> Result<std::sync::Arc<T>, Fault> {
        // SAFETY: forwarded contract.
        unsafe { T::lift_arc(abi, param) }
    }
}

/// A Rust return type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from an #[export] function",
    label = "unsupported return type",
    note = "supported returns: (), i8 … i128, u8 … u128, isize, usize, f32, f64, bool, String, #[export] structs and enums, objects, Vec<T>, Option<T>, HashMap/BTreeMap<K, V>, HashSet/BTreeSet<T> and tuples of any of those, and Result<T, E: Display + 'static> of any of them",
    note = "in `Result<T, E>` the error type `E` must implement `std::fmt::Display` and own its data (`'static`)"
)]
///
/// # Safety
/// `Abi` is the C form `DESC` announces, `lower` produces only values of it
/// that the helper and C callers can read by `DESC` and release with `free`,
/// and `OWNED` says whether `free` must be called.
pub unsafe trait IntoFfi: Sized {
    /// The C return type.
    type Abi: AbiValue;
    /// How it is described.
    const DESC: TypeDesc;
    /// Whether the returned value owns memory the caller must free through
    /// the paired `<name>_free`.
    const OWNED: bool;
    /// Converts the value (or its error) for C.
    fn lower(self) -> Result<Self::Abi, Fault>;
    /// Frees a value returned by [`IntoFfi::lower`] and resets it; NULL and
    /// already-freed values are no-ops.
    ///
    /// # Safety
    /// `abi` is NULL or points to a value this type's `lower` produced.
    unsafe fn free(abi: *mut Self::Abi) {
        let _ = abi;
    }
}

macro_rules! primitives {
    ($($t:ident: $class:ident, $kind:literal, $codes:literal;)*) => {$(
        // SAFETY: Raw is Self; every bit pattern of a numeric type is valid.
        unsafe impl FfiElement for $t {
            type Raw = $t;
            const DESC: TypeDesc = TypeDesc::Scalar(stringify!($t));
            #[inline]
            fn valid(_: &[$t]) -> bool { true }
        }
        // SAFETY: a number is its own C form, any value is valid.
        unsafe impl FfiParam for $t {
            type Abi = $t;
            const DESC: TypeDesc = TypeDesc::Scalar(stringify!($t));
            type Lifted<'s> = $t;
            #[inline]
            unsafe fn lift(abi: $t, _: &'static str, _: &CallScope) -> Result<$t, Fault> { Ok(abi) }
        }
    )*};
}
for_each_primitive!(primitives);

// SAFETY: bool has the size and alignment of u8, and 0/1 are the only valid
// bytes, which `valid` checks.
unsafe impl FfiElement for bool {
    type Raw = u8;
    const DESC: TypeDesc = TypeDesc::Scalar("bool");
    #[inline]
    fn valid(raw: &[u8]) -> bool {
        raw.iter().all(|&b| b <= 1)
    }
}

// SAFETY: a byte, checked to be 0 or 1.
unsafe impl FfiParam for bool {
    // A byte, not `bool`: a C caller passing 2 must get an error, not UB.
    type Abi = u8;
    const DESC: TypeDesc = TypeDesc::Scalar("bool");
    type Lifted<'s> = bool;
    #[inline]
    unsafe fn lift(abi: u8, param: &'static str, _: &CallScope) -> Result<bool, Fault> {
        crate::data::bool_from_byte(abi).map_err(|why| Fault::invalid(param, why))
    }
}

/// `Option<T>` parameters cross as `const T::Repr *`, NULL for `None`.
// SAFETY: NULL or a pointer to `T`'s C form, lifted through its checks.
unsafe impl<T: crate::data::FfiLift> FfiParam for Option<T> {
    type Abi = *const T::Repr;
    const DESC: TypeDesc = TypeDesc::Option(&T::DESC);
    type Lifted<'s> = Option<T>;
    #[inline]
    fn moves() -> bool {
        T::moves()
    }
    unsafe fn reserve(
        abi: *const T::Repr,
        param: &'static str,
        moves: &mut Moves,
    ) -> Result<(), Fault> {
        // SAFETY: forwarded contract: NULL (None) or valid for the call.
        match unsafe { abi.as_ref() } {
            None => Ok(()),
            // SAFETY: as above.
            Some(repr) => {
                unsafe { T::reserve(repr, moves) }.map_err(|why| Fault::invalid(param, why))
            }
        }
    }
    unsafe fn lift(
        abi: *const T::Repr,
        param: &'static str,
        _: &CallScope,
    ) -> Result<Option<T>, Fault> {
        // SAFETY: forwarded contract: NULL or valid for the call.
        match unsafe { abi.as_ref() } {
            None => Ok(None),
            // SAFETY: as above.
            Some(repr) => unsafe { T::from_repr(repr) }
                .map(Some)
                .map_err(|why| Fault::invalid(param, why)),
        }
    }
}

// SAFETY: nothing crosses.
unsafe impl IntoFfi for () {
    type Abi = ();
    const DESC: TypeDesc = TypeDesc::Unit;
    const OWNED: bool = false;
    #[inline]
    fn lower(self) -> Result<(), Fault> {
        Ok(())
    }
}

// SAFETY: the C form is `FfiData::Repr`, freed by `FfiData::free_repr`.
unsafe impl<T: FfiData> IntoFfi for T {
    type Abi = T::Repr;
    const DESC: TypeDesc = T::DESC;
    const OWNED: bool = T::OWNED;
    #[inline]
    fn lower(self) -> Result<T::Repr, Fault> {
        Ok(self.into_repr())
    }
    unsafe fn free(abi: *mut T::Repr) {
        // SAFETY: the caller passes NULL or a value `lower` produced.
        if let Some(repr) = unsafe { abi.as_mut() } {
            // SAFETY: as above; free_repr leaves the empty state behind.
            unsafe { T::free_repr(repr) }
        }
    }
}

// SAFETY: `T`'s C form; an error is recorded, not returned. (`E: 'static`
// so that an `#[export]` error type is found in the registry by `TypeId`
// and its value kept: errors are owned, like every returned value.)
unsafe impl<T: IntoFfi, E: Display + 'static> IntoFfi for Result<T, E> {
    type Abi = T::Abi;
    const DESC: TypeDesc = TypeDesc::Result {
        ok: &T::DESC,
        error: short_type_name::<E>,
        error_type: error_type::<E>,
    };
    const OWNED: bool = T::OWNED;
    #[inline]
    fn lower(self) -> Result<T::Abi, Fault> {
        match self {
            Ok(value) => value.lower(),
            Err(error) => Err(Fault::error(error)),
        }
    }
    unsafe fn free(abi: *mut T::Abi) {
        // SAFETY: forwarded contract.
        unsafe { T::free(abi) }
    }
}

/// Lifts `(ptr, len)` of string views to `Vec<&str>` for a `&[&str]`
/// parameter, checking every item.
///
/// # Safety
/// Unless NULL or `len == 0`, `ptr` points to `len` [`FfiBuffer`]s whose
/// `ptr`/`len` describe readable bytes during the call (`cap` is ignored).
pub unsafe fn lift_str_list<'s>(
    _scope: &'s CallScope,
    ptr: *const FfiBuffer,
    len: usize,
    param: &'static str,
) -> Result<Vec<&'s str>, Fault> {
    if !check_raw(ptr, len, param)? {
        return Ok(Vec::new());
    }
    // SAFETY: checked non-NULL, aligned and sized; readable per the caller.
    let items = unsafe { core::slice::from_raw_parts(ptr, len) };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            // SAFETY: each item describes readable bytes per the caller.
            unsafe { crate::data::borrow_str(item) }
                .map_err(|why| Fault::invalid(param, format_args!("item {index}: {why}")))
        })
        .collect()
}

fn check_raw<T>(ptr: *const T, len: usize, param: &'static str) -> Result<bool, Fault> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(false)
        } else {
            Err(Fault::invalid(
                param,
                format_args!("NULL pointer with length {len}"),
            ))
        };
    }
    if len == 0 {
        return Ok(false);
    }
    if (ptr as usize) % align_of::<T>() != 0 {
        return Err(Fault::invalid(
            param,
            format_args!(
                "pointer {ptr:p} is not aligned to {} bytes",
                align_of::<T>()
            ),
        ));
    }
    match len.checked_mul(size_of::<T>()) {
        Some(bytes) if bytes <= isize::MAX as usize => Ok(true),
        _ => Err(Fault::invalid(
            param,
            format_args!("length {len} is too large"),
        )),
    }
}

/// Lifts one input of a batched call: `len` values (`step` 1) or one value
/// used for every element (`step` 0).
///
/// # Safety
/// Unless `len == 0`, `ptr` points to `len` (or, for `step` 0, one) values
/// that nothing mutates during the call.
pub unsafe fn lift_batch_in<'a, A>(
    ptr: *const A,
    step: usize,
    len: usize,
    param: &'static str,
) -> Result<&'a [A], Fault> {
    let count = match step {
        0 => len.min(1),
        1 => len,
        other => {
            return Err(Fault::invalid(
                param,
                format_args!("step {other}: a batch input steps by 0 (one value) or 1 (an array)"),
            ))
        }
    };
    if !check_raw(ptr, count, param)? {
        return Ok(&[]);
    }
    // SAFETY: checked non-NULL, aligned and sized; readable per the caller.
    Ok(unsafe { core::slice::from_raw_parts(ptr, count) })
}

/// The output array of a batched call: written element by element through
/// its [`uninit`](BatchOut::uninit) slice, never read (the caller's memory may be
/// uninitialised).
pub struct BatchOut<R> {
    ptr: *mut R,
    len: usize,
}

impl<R> BatchOut<R> {
    /// The elements as a slice of uninitialised values, for the loop to
    /// write (`slot.write(value)`) and never read.
    #[inline]
    pub fn uninit(&mut self) -> &mut [core::mem::MaybeUninit<R>] {
        // SAFETY: `ptr` is non-NULL and aligned for `len` elements
        // (`lift_batch_out` checked it, or it is dangling with `len` 0), the
        // caller of `lift_batch_out` promised them writable and used by
        // nothing else during the call (its regions are checked disjoint
        // from the inputs), and `MaybeUninit<R>` has `R`'s layout and
        // allows any bytes, so uninitialised memory is fine; the slice
        // borrows `self` mutably, so it is handed out once at a time.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.cast(), self.len) }
    }
}

/// Lifts the output array of a batched call.
///
/// # Safety
/// Unless `len == 0`, `ptr` points to `len` writable values (initialised
/// or not) nothing else uses during the call.
pub unsafe fn lift_batch_out<R>(
    ptr: *mut R,
    len: usize,
    param: &'static str,
) -> Result<BatchOut<R>, Fault> {
    if !check_raw(ptr.cast_const(), len, param)? {
        return Ok(BatchOut {
            ptr: core::ptr::NonNull::dangling().as_ptr(),
            len: 0,
        });
    }
    Ok(BatchOut { ptr, len })
}

/// Lifts `(ptr, len)` to `&[T]`: NULL with length 0 is empty, NULL with a
/// length, misaligned pointers, oversized lengths and invalid elements
/// (bytes other than 0/1 for `bool`) are errors.
///
/// # Safety
/// Unless NULL or `len == 0`, `ptr` points to `len` initialised elements
/// that nothing mutates during the call (`'s`, the call's scope).
pub unsafe fn lift_slice<'s, T: FfiElement>(
    _scope: &'s CallScope,
    ptr: *const T::Raw,
    len: usize,
    param: &'static str,
) -> Result<&'s [T], Fault> {
    if !check_raw(ptr, len, param)? {
        return Ok(&[]);
    }
    // SAFETY: non-NULL, aligned, in-bounds per check_raw and the caller.
    let raw = unsafe { core::slice::from_raw_parts(ptr, len) };
    if !T::valid(raw) {
        return Err(Fault::invalid(
            param,
            format_args!("holds values that are not valid `{}`", T::DESC),
        ));
    }
    // SAFETY: `Raw` has `T`'s layout and every element is a valid `T`.
    Ok(unsafe { core::slice::from_raw_parts(ptr.cast::<T>(), len) })
}

/// Lifts `(ptr, len)` to `&mut [T]`, with [`lift_slice`]'s checks.
///
/// # Safety
/// Unless NULL or `len == 0`, `ptr` points to `len` initialised elements
/// that nothing else reads or writes during the call.
// `scope` only bounds the lifetime; the exclusive access comes from the
// caller's contract, not from the scope.
#[allow(clippy::mut_from_ref)]
pub unsafe fn lift_slice_mut<'s, T: FfiElement>(
    _scope: &'s CallScope,
    ptr: *mut T::Raw,
    len: usize,
    param: &'static str,
) -> Result<&'s mut [T], Fault> {
    if !check_raw(ptr.cast_const(), len, param)? {
        return Ok(&mut []);
    }
    // SAFETY: as in lift_slice; shared only for the validity check.
    let raw = unsafe { core::slice::from_raw_parts(ptr.cast_const(), len) };
    if !T::valid(raw) {
        return Err(Fault::invalid(
            param,
            format_args!("holds values that are not valid `{}`", T::DESC),
        ));
    }
    // SAFETY: exclusive per the caller; layout and validity checked above.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr.cast::<T>(), len) })
}

/// Lifts `(ptr, len)` to `&str`, checking UTF-8.
///
/// # Safety
/// As [`lift_slice`] for bytes.
pub unsafe fn lift_str<'s>(
    scope: &'s CallScope,
    ptr: *const u8,
    len: usize,
    param: &'static str,
) -> Result<&'s str, Fault> {
    // SAFETY: forwarded contract.
    let bytes: &[u8] = unsafe { lift_slice(scope, ptr, len, param)? };
    core::str::from_utf8(bytes)
        .map_err(|e| Fault::invalid(param, format_args!("invalid UTF-8: {e}")))
}

/// Lifts a NUL-terminated `const char *` to `&CStr`; NULL is an error.
///
/// # Safety
/// Unless NULL, `ptr` points to a NUL-terminated string that nothing
/// mutates during the call.
pub unsafe fn lift_cstr<'s>(
    _scope: &'s CallScope,
    ptr: *const c_char,
    param: &'static str,
) -> Result<&'s CStr, Fault> {
    if ptr.is_null() {
        return Err(Fault::invalid(param, "NULL pointer"));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller.
    Ok(unsafe { CStr::from_ptr(ptr) })
}

/// The memory one borrowed argument covers, for the aliasing check.
#[derive(Debug, Clone, Copy)]
pub struct Region {
    start: usize,
    bytes: usize,
    mutable: bool,
    param: &'static str,
}

impl Region {
    /// `len` elements of `T` at `ptr`.
    pub fn new<T>(ptr: *const T, len: usize, mutable: bool, param: &'static str) -> Region {
        Region {
            start: ptr as usize,
            bytes: if ptr.is_null() {
                0
            } else {
                len.saturating_mul(size_of::<T>())
            },
            mutable,
            param,
        }
    }

    /// The memory a lifted (shared) argument borrows.
    pub fn of<T>(values: &[T], param: &'static str) -> Region {
        Region {
            start: values.as_ptr() as usize,
            bytes: core::mem::size_of_val(values),
            mutable: false,
            param,
        }
    }
}

/// Refuses the items of a `&[&str]` argument that overlap one of the
/// `mutables` regions (the bytes of every item are borrowed for the call).
pub fn check_items_disjoint(
    mutables: &[Region],
    items: &[&str],
    param: &'static str,
) -> Result<(), Fault> {
    for (index, item) in items.iter().enumerate() {
        let item = Region::of(item.as_bytes(), param);
        for region in mutables {
            if overlap(region, &item) {
                return Err(Fault::invalid(
                    region.param,
                    format_args!(
                        "overlaps item {index} of argument `{param}`; a mutable slice must not \
                         alias another argument"
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn overlap(a: &Region, b: &Region) -> bool {
    a.bytes != 0
        && b.bytes != 0
        && a.start < b.start.saturating_add(b.bytes)
        && b.start < a.start.saturating_add(a.bytes)
}

/// Refuses arguments where a `&mut [T]` overlaps another borrowed argument:
/// Rust forbids aliasing a mutable borrow, so overlapping buffers from the
/// caller would be undefined behaviour.
pub fn check_disjoint(regions: &[Region]) -> Result<(), Fault> {
    for (i, a) in regions.iter().enumerate() {
        for b in &regions[i + 1..] {
            if (a.mutable || b.mutable) && overlap(a, b) {
                return Err(Fault::invalid(
                    a.param,
                    format_args!(
                        "overlaps argument `{}`; a mutable slice must not alias another argument",
                        b.param
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_slices() {
        let scope = CallScope::new();
        // SAFETY: NULL pointers are checked before any read.
        unsafe {
            assert_eq!(
                lift_slice::<f64>(&scope, core::ptr::null(), 0, "x").map(<[f64]>::len),
                Ok(0)
            );
            assert!(matches!(
                lift_slice::<f64>(&scope, core::ptr::null(), 3, "x"),
                Err(Fault::InvalidArgument(m)) if m.contains("NULL pointer with length 3")
            ));
            assert!(lift_str(&scope, core::ptr::null(), 1, "s").is_err());
            assert!(lift_cstr(&scope, core::ptr::null(), "c").is_err());
        }
    }

    #[test]
    fn misaligned_and_huge() {
        let scope = CallScope::new();
        let data = [0u64; 4];
        let odd = (data.as_ptr() as *const u8).wrapping_add(1).cast::<u64>();
        // SAFETY: both calls fail their checks before reading.
        unsafe {
            assert!(lift_slice::<u64>(&scope, odd, 1, "x").is_err());
            assert!(lift_slice::<u64>(&scope, data.as_ptr(), usize::MAX / 4, "x").is_err());
        }
    }

    #[test]
    fn bools_and_utf8_are_checked() {
        let scope = CallScope::new();
        let bytes = [0u8, 1, 2];
        // SAFETY: `bytes` is a live array of 3 bytes.
        unsafe {
            assert_eq!(
                lift_slice::<bool>(&scope, bytes.as_ptr(), 2, "b"),
                Ok(&[false, true][..])
            );
            assert!(lift_slice::<bool>(&scope, bytes.as_ptr(), 3, "b").is_err());
            let bad = b"ok\xff";
            assert!(
                matches!(lift_str(&scope, bad.as_ptr(), 3, "s"), Err(Fault::InvalidArgument(m)) if m.contains("UTF-8"))
            );
            assert_eq!(lift_str(&scope, bad.as_ptr(), 2, "s"), Ok("ok"));
        }
        // SAFETY: a byte holds no pointer.
        assert!(unsafe { bool::lift(2, "b", &scope) }.is_err());
    }

    #[test]
    fn overlap_is_refused_only_with_a_mutable_side() {
        let data = [0f64; 8];
        let p = data.as_ptr();
        let whole = Region::new(p, 8, false, "a");
        let tail_mut = Region::new(p.wrapping_add(4), 4, true, "b");
        let head_mut = Region::new(p, 4, true, "c");
        assert!(check_disjoint(&[whole, Region::new(p, 8, false, "d")]).is_ok());
        assert!(check_disjoint(&[whole, tail_mut]).is_err());
        assert!(check_disjoint(&[head_mut, tail_mut]).is_ok());
        assert!(check_disjoint(&[Region::new(p, 0, true, "e"), whole]).is_ok());
    }

    #[test]
    fn results_and_options_lower() {
        assert_eq!(Some(3i32).lower().map(|o| (o.is_some, o.value)), Ok((1, 3)));
        assert_eq!(None::<i32>.lower().map(|o| o.is_some), Ok(0));
        let err: Result<u8, String> = Err("nope".into());
        assert_eq!(
            err.lower(),
            Err(Fault::Error {
                type_name: "Error",
                message: "nope".into(),
                value: None,
            })
        );
        let mut none = None::<String>.lower().expect("lowered");
        assert_eq!(none.is_some, 0);
        assert!(none.value.ptr.is_null());
        // SAFETY: a NULL buffer is a valid argument to free.
        unsafe { <Option<String> as IntoFfi>::free(&mut none) };
    }
}
