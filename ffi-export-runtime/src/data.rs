//! [`FfiData`]: values that cross by their C form ("repr") and compose —
//! record fields, `Vec` elements, `Option` payloads and return values.
//! Primitives, `String`, `Vec<T>`, `Option<T>` are implemented here;
//! `#[export]` implements it for structs and enums.

use crate::abi::{AbiValue, ErrorRepr, FfiBuffer, FfiOption};
use crate::describe::TypeDesc;
use crate::status::Fault;

/// A value with a `#[repr(C)]` form that C code can read, build and free.
///
/// * [`into_repr`](FfiData::into_repr) moves a value into its C form; the
///   caller then owns it and frees it with [`free_repr`](FfiData::free_repr).
/// * [`from_repr`](FfiData::from_repr) copies a value out of a C form the
///   caller built and keeps owning (parameters).
///
/// # Safety
/// `Repr` must be a `#[repr(C)]`-compatible type for which all-zero bytes
/// are a valid empty value, and `free_repr` must leave that empty value
/// behind, so freeing twice is harmless.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot cross an #[export] boundary",
    label = "unsupported type",
    note = "supported: i8 … u64, isize, usize, f32, f64, bool, String, #[export] structs and enums, and Vec<T> / Option<T> of those",
    note = "put #[ffi_export::export] on your struct or enum to make it crossable",
    note = "`Arc<T>` crosses when `T` is an object of an #[export] impl that is `Sync` (any thread uses its `&T`: keep its state in a `Mutex` or atomics, or return `Self`), or `dyn Trait` of an #[export] trait"
)]
pub unsafe trait FfiData: Sized {
    /// The C form.
    type Repr: AbiValue;
    /// How it is described.
    const DESC: TypeDesc;
    /// Whether the C form owns heap memory.
    const OWNED: bool;
    /// Moves the value into its C form.
    fn into_repr(self) -> Self::Repr;
    /// Frees a C form made by `into_repr` and resets it to empty.
    ///
    /// # Safety
    /// `repr` was produced by `into_repr` (or is empty).
    unsafe fn free_repr(repr: &mut Self::Repr);
    /// The index of the value's variant in declaration order, for enums
    /// (what an error value reports as `FfiError::variant`); `None` for
    /// everything else.
    #[inline]
    fn variant_index(&self) -> Option<u32> {
        None
    }
}

/// What an `Arc<T>` result, field or element points to: a shared
/// `#[export]` object (crossing as a registry handle), or an `#[export]`
/// trait or closure type (`dyn Trait`, `dyn Fn(..)`, crossing as an
/// `FfiForeign`). One trait, so that `Arc<T>` has one `FfiData` and one
/// `FfiLift` impl for all of them (`object.rs`, `dynamic.rs`, and the
/// macro's trait impls).
///
/// # Safety
/// `Repr` is the C form `DESC` announces; `arc_into_repr` hands the
/// receiver one reference it releases itself (a handle through the object
/// type's `<Type>_free`, an `FfiForeign` through its `release`): nothing is
/// freed through `free_repr`. `arc_from_repr` checks everything it reads
/// and leaves the caller's reference with the caller.
pub unsafe trait FfiArcData: FfiArcRepr {
    /// How `Arc<Self>` is described.
    const DESC: TypeDesc;
    /// Moves `value` into its C form; the receiver owns one reference.
    fn arc_into_repr(value: std::sync::Arc<Self>) -> Self::Repr;
    /// A new `Arc` of the value behind the caller's C form (the caller
    /// keeps its own reference), or why it is invalid.
    ///
    /// # Safety
    /// As [`FfiLift::from_repr`].
    unsafe fn arc_from_repr(repr: &Self::Repr) -> Result<std::sync::Arc<Self>, String>;
}

/// The C form of `Arc<Self>`: a trait of its own, implemented for every
/// object type (`Sync` or not) and `dyn` type, so that naming it in a
/// shim's signature never fails; whether `Arc<Self>` crosses at all is
/// [`FfiArcData`]'s bound, reported once, as `Arc<T>` itself.
pub trait FfiArcRepr {
    /// The C form.
    type Repr: AbiValue;
}

// An unsupported `Arc<T>` is reported as itself (the note on `FfiData`
// says what `T` must be), once: the shim's C signature and its body both
// need `Arc<T>: FfiData`, and rustc reports a failing bound of `T` (`Sync`)
// once per path.
#[diagnostic::do_not_recommend]
// SAFETY: `T`'s C form of `Arc<T>` (`FfiArcData`'s contract): the receiver
// releases what it got itself, so `free_repr` frees nothing.
unsafe impl<T: ?Sized + FfiArcData> FfiData for std::sync::Arc<T> {
    type Repr = T::Repr;
    const DESC: TypeDesc = T::DESC;
    const OWNED: bool = false;
    fn into_repr(self) -> T::Repr {
        T::arc_into_repr(self)
    }
    unsafe fn free_repr(_: &mut T::Repr) {}
}

#[diagnostic::do_not_recommend]
// SAFETY: forwarded to `FfiArcData::arc_from_repr`, which checks what it
// reads.
unsafe impl<T: ?Sized + FfiArcData> FfiLift for std::sync::Arc<T> {
    unsafe fn from_repr(repr: &T::Repr) -> Result<std::sync::Arc<T>, String> {
        // SAFETY: forwarded contract.
        unsafe { T::arc_from_repr(repr) }
    }
}

/// A [`FfiData`] value that can also be copied *in* from a C form the
/// caller built: it can be a parameter, or inside one (a record field, a
/// `Vec` element, an `Option` payload). Every crossable type is; an object
/// of an `#[export] impl` is *moved* in (taken out of the registry by its
/// handle, see [`FfiLift::MOVES`]).
///
/// # Safety
/// As [`FfiData`]; `from_repr` checks everything it reads.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be copied across an #[export] boundary",
    label = "unsupported here",
    note = "supported: i8 … u64, isize, usize, f32, f64, bool, String, #[export] structs and enums, and Vec<T> / Option<T> of those",
    note = "objects of an #[export] impl cross too: moved in by value, borrowed (`&T`, `&mut T` parameters) or shared (`Arc<T>`)",
    note = "put #[ffi_export::export] on your struct or enum to make it crossable"
)]
pub unsafe trait FfiLift: FfiData {
    /// Whether it holds objects of an `#[export] impl` by value itself or
    /// in `Vec`, `Option`, map values or tuples — not counting those inside
    /// nested records and enums, so that recursive types are no cycle: a
    /// constant for compile-time checks (a `&R` parameter of such a record
    /// is refused). [`moves`](FfiLift::moves) is the whole answer.
    const OBJECTS: bool = false;
    /// Whether lifting it moves objects of an `#[export] impl` out of the
    /// registry (an object by value, or a `Vec`, `Option`, map, tuple,
    /// record or enum holding one, at any depth). A call taking such a
    /// parameter first [`reserve`](FfiLift::reserve)s it, so that no
    /// argument is moved unless every argument is valid. A constant
    /// `false` but for objects, their containers, and records and enums
    /// (which look into their description once, see [`MovesOnce`]).
    #[inline]
    fn moves() -> bool {
        false
    }
    /// Copies a value out of a caller-owned C form, or says why it is
    /// invalid.
    ///
    /// # Safety
    /// Pointers inside `repr` are NULL (with length 0) or valid for reads.
    unsafe fn from_repr(repr: &Self::Repr) -> Result<Self, String>;
    /// Checks `repr` as [`from_repr`](FfiLift::from_repr) would and
    /// reserves, for `moves`' call, the objects lifting it would move; a
    /// later `from_repr` of the same C form during that call cannot fail.
    /// Called only when [`moves`](FfiLift::moves) holds: a value that moves
    /// nothing is checked by lifting it.
    ///
    /// # Safety
    /// As [`from_repr`](FfiLift::from_repr).
    unsafe fn reserve(repr: &Self::Repr, moves: &mut Moves) -> Result<(), String> {
        let _ = moves;
        // SAFETY: forwarded contract.
        unsafe { Self::from_repr(repr) }.map(drop)
    }
}

/// [`FfiLift::moves`] of a record or enum, computed once from its
/// description ([`moves_objects`](crate::describe::moves_objects)): a
/// `static` of each type's impl.
#[doc(hidden)]
pub struct MovesOnce(std::sync::OnceLock<bool>);

impl MovesOnce {
    /// Not computed yet.
    #[allow(clippy::new_without_default)] // a `static`'s initialiser
    pub const fn new() -> MovesOnce {
        MovesOnce(std::sync::OnceLock::new())
    }

    /// Whether a value described by `desc` moves objects.
    #[inline]
    pub fn get(&self, desc: &TypeDesc) -> bool {
        *self.0.get_or_init(|| crate::describe::moves_objects(desc))
    }
}

/// The objects one call moves into Rust (parameters taking an object of an
/// `#[export] impl` by value, or values holding some): reserved while the
/// arguments are checked, taken once all of them are valid, unreserved
/// when the call ends without taking them. Its methods are in `object.rs`,
/// next to the registry they change.
#[doc(hidden)]
#[derive(Default)]
pub struct Moves {
    /// This call's mark on the registry entries it reserved (0: none yet).
    pub(crate) token: u64,
    /// The handles reserved, to unreserve those not taken.
    pub(crate) reserved: Vec<u64>,
}

/// Both directions of a [`FfiLift`] type under one name, for generated
/// code: a record's fields and by-pointer parameters go through this trait
/// only, so an unsupported type is reported once, at the field or
/// parameter (the failing bound is always `T: FfiLift`).
///
/// # Safety
/// As [`FfiData`] and [`FfiLift`]: callers read and write `Repr` as `DESC`
/// describes. Only the blanket impl over `FfiLift` exists; the trait is
/// unsafe so that no other type can claim a C form it does not have.
#[doc(hidden)]
pub unsafe trait FfiValue: Sized {
    /// [`FfiData::Repr`].
    type Repr: AbiValue;
    /// [`FfiData::DESC`].
    const DESC: TypeDesc;
    /// [`FfiData::OWNED`].
    const OWNED: bool;
    /// [`FfiLift::OBJECTS`].
    const OBJECTS: bool;
    /// [`FfiLift::moves`].
    fn moves() -> bool;
    /// [`FfiData::into_repr`].
    fn into_repr(self) -> Self::Repr;
    /// [`FfiLift::from_repr`].
    ///
    /// # Safety
    /// As [`FfiLift::from_repr`].
    unsafe fn from_repr(repr: &Self::Repr) -> Result<Self, String>;
    /// [`FfiLift::reserve`].
    ///
    /// # Safety
    /// As [`FfiLift::from_repr`].
    unsafe fn reserve(repr: &Self::Repr, moves: &mut Moves) -> Result<(), String>;
    /// [`FfiData::free_repr`].
    ///
    /// # Safety
    /// As [`FfiData::free_repr`].
    unsafe fn free_repr(repr: &mut Self::Repr);
    /// [`lift_by_pointer`]: a copy of the caller's C form at `ptr`.
    ///
    /// # Safety
    /// `ptr` is NULL or valid for reads during the call.
    unsafe fn lift_by_pointer(ptr: *const Self::Repr, param: &'static str) -> Result<Self, Fault>;
}

// SAFETY: every item forwards to `T`'s `FfiData`/`FfiLift`, whose impls
// carry the same contract.
unsafe impl<T: FfiLift> FfiValue for T {
    type Repr = <T as FfiData>::Repr;
    const DESC: TypeDesc = <T as FfiData>::DESC;
    const OWNED: bool = <T as FfiData>::OWNED;
    const OBJECTS: bool = <T as FfiLift>::OBJECTS;
    #[inline]
    fn moves() -> bool {
        <T as FfiLift>::moves()
    }
    #[inline]
    fn into_repr(self) -> Self::Repr {
        <T as FfiData>::into_repr(self)
    }
    #[inline]
    unsafe fn from_repr(repr: &Self::Repr) -> Result<Self, String> {
        // SAFETY: forwarded contract.
        unsafe { <T as FfiLift>::from_repr(repr) }
    }
    #[inline]
    unsafe fn reserve(repr: &Self::Repr, moves: &mut Moves) -> Result<(), String> {
        // SAFETY: forwarded contract.
        unsafe { <T as FfiLift>::reserve(repr, moves) }
    }
    #[inline]
    unsafe fn free_repr(repr: &mut Self::Repr) {
        // SAFETY: forwarded contract.
        unsafe { <T as FfiData>::free_repr(repr) }
    }
    #[inline]
    unsafe fn lift_by_pointer(ptr: *const Self::Repr, param: &'static str) -> Result<Self, Fault> {
        // SAFETY: forwarded contract.
        unsafe { lift_by_pointer::<T>(ptr, param) }
    }
}

macro_rules! plain {
    ($($t:ident: $class:ident, $kind:literal, $codes:literal;)*) => {$(
        // SAFETY: a number is its own C form; zero is valid; nothing to free.
        unsafe impl FfiData for $t {
            type Repr = $t;
            const DESC: TypeDesc = TypeDesc::Scalar(stringify!($t));
            const OWNED: bool = false;
            #[inline]
            fn into_repr(self) -> $t { self }
            #[inline]
            unsafe fn free_repr(_: &mut $t) {}
        }
        // SAFETY: every bit pattern of a number is valid.
        unsafe impl FfiLift for $t {
            #[inline]
            unsafe fn from_repr(repr: &$t) -> Result<$t, String> { Ok(*repr) }
        }
    )*};
}
for_each_primitive!(plain);

/// Checks a C byte that stands for a `bool`.
pub fn bool_from_byte(byte: u8) -> Result<bool, String> {
    match byte {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(format!("{other} is not a bool (0 or 1)")),
    }
}

// SAFETY: a byte, 0 or 1 (a `u8`, not a `bool`, because C may store any
// byte there); other bytes are refused by from_repr.
unsafe impl FfiData for bool {
    type Repr = u8;
    const DESC: TypeDesc = TypeDesc::Scalar("bool");
    const OWNED: bool = false;
    #[inline]
    fn into_repr(self) -> u8 {
        u8::from(self)
    }
    #[inline]
    unsafe fn free_repr(_: &mut u8) {}
}

// SAFETY: the byte is checked.
unsafe impl FfiLift for bool {
    #[inline]
    unsafe fn from_repr(repr: &u8) -> Result<bool, String> {
        bool_from_byte(*repr)
    }
}

/// Borrows the bytes a caller-built [`FfiBuffer`] describes as `&str`
/// (`cap` is ignored).
///
/// # Safety
/// `buffer.ptr` is NULL (with length 0) or valid for `len` bytes for `'a`.
pub unsafe fn borrow_str<'a>(buffer: &FfiBuffer) -> Result<&'a str, String> {
    if buffer.ptr.is_null() {
        return if buffer.len == 0 {
            Ok("")
        } else {
            Err(format!("NULL pointer with length {}", buffer.len))
        };
    }
    if buffer.len > isize::MAX as usize {
        return Err(format!("length {} is too large", buffer.len));
    }
    // SAFETY: non-NULL and readable for len bytes per the caller.
    let bytes = unsafe { core::slice::from_raw_parts(buffer.ptr.cast::<u8>(), buffer.len) };
    core::str::from_utf8(bytes).map_err(|e| format!("invalid UTF-8: {e}"))
}

// SAFETY: an FfiBuffer of UTF-8 bytes (NUL-terminated when made here);
// zeroed is NULL; free resets to NULL.
unsafe impl FfiData for String {
    type Repr = FfiBuffer;
    const DESC: TypeDesc = TypeDesc::String;
    const OWNED: bool = true;
    #[inline]
    fn into_repr(self) -> FfiBuffer {
        FfiBuffer::from_string(self)
    }
    unsafe fn free_repr(repr: &mut FfiBuffer) {
        // SAFETY: made by from_string, i.e. a Vec<u8>.
        unsafe { FfiBuffer::free::<u8>(repr) }
    }
}

// SAFETY: the bytes are checked as UTF-8 and copied.
unsafe impl FfiLift for String {
    unsafe fn from_repr(repr: &FfiBuffer) -> Result<String, String> {
        // SAFETY: forwarded contract.
        unsafe { borrow_str(repr) }.map(str::to_owned)
    }
}

// SAFETY: an FfiBuffer of `T::Repr`; zeroed is NULL; free frees every
// element, then the buffer, and resets to NULL.
unsafe impl<T: FfiData> FfiData for Vec<T> {
    type Repr = FfiBuffer;
    const DESC: TypeDesc = TypeDesc::Vec(&T::DESC);
    const OWNED: bool = true;
    fn into_repr(self) -> FfiBuffer {
        // For primitives `into_repr` is the identity and this collect reuses
        // the allocation in place.
        FfiBuffer::from_vec(self.into_iter().map(T::into_repr).collect::<Vec<_>>())
    }
    unsafe fn free_repr(repr: &mut FfiBuffer) {
        if repr.ptr.is_null() {
            return;
        }
        if T::OWNED {
            // SAFETY: made by into_repr: `len` initialised `T::Repr`s.
            let items =
                unsafe { core::slice::from_raw_parts_mut(repr.ptr.cast::<T::Repr>(), repr.len) };
            for item in items {
                // SAFETY: each element was made by T::into_repr.
                unsafe { T::free_repr(item) };
            }
        }
        // SAFETY: made by from_vec::<T::Repr>.
        unsafe { FfiBuffer::free::<T::Repr>(repr) }
    }
}

// SAFETY: the buffer is checked (NULL, alignment, size) and every element
// is lifted through its own checks.
unsafe impl<T: FfiLift> FfiLift for Vec<T> {
    const OBJECTS: bool = T::OBJECTS;
    #[inline]
    fn moves() -> bool {
        T::moves()
    }
    unsafe fn from_repr(repr: &FfiBuffer) -> Result<Vec<T>, String> {
        // SAFETY: forwarded contract.
        let items = unsafe { buffer_items::<T>(repr) }?;
        items
            .iter()
            .enumerate()
            // SAFETY: each element is readable per the caller.
            .map(|(i, item)| {
                unsafe { T::from_repr(item) }.map_err(|why| format!("item {i}: {why}"))
            })
            .collect()
    }
    unsafe fn reserve(repr: &FfiBuffer, moves: &mut Moves) -> Result<(), String> {
        // SAFETY: forwarded contract.
        let items = unsafe { buffer_items::<T>(repr) }?;
        for (i, item) in items.iter().enumerate() {
            // SAFETY: each element is readable per the caller.
            unsafe { T::reserve(item, moves) }.map_err(|why| format!("item {i}: {why}"))?;
        }
        Ok(())
    }
}

/// The elements of a `Vec<T>`'s C form, checked: NULL (with length 0),
/// alignment, size.
///
/// # Safety
/// A non-NULL `repr.ptr` points to `repr.len` readable `T::Repr`s.
pub(crate) unsafe fn buffer_items<T: FfiData>(repr: &FfiBuffer) -> Result<&[T::Repr], String> {
    if repr.ptr.is_null() {
        return if repr.len == 0 {
            Ok(&[])
        } else {
            Err(format!("NULL pointer with length {}", repr.len))
        };
    }
    let ptr = repr.ptr.cast::<T::Repr>().cast_const();
    if (ptr as usize) % core::mem::align_of::<T::Repr>() != 0 {
        return Err(format!("pointer {ptr:p} is misaligned"));
    }
    if repr.len.saturating_mul(core::mem::size_of::<T::Repr>()) > isize::MAX as usize {
        return Err(format!("length {} is too large", repr.len));
    }
    // SAFETY: non-NULL, aligned, sized; readable per the caller.
    Ok(unsafe { core::slice::from_raw_parts(ptr, repr.len) })
}

// SAFETY: FfiOption<T::Repr> is repr(C); zeroed is `None`; free frees the
// payload and resets to `None`.
unsafe impl<T: FfiData> FfiData for Option<T> {
    type Repr = FfiOption<T::Repr>;
    const DESC: TypeDesc = TypeDesc::Option(&T::DESC);
    const OWNED: bool = T::OWNED;
    #[inline]
    fn into_repr(self) -> FfiOption<T::Repr> {
        match self {
            Some(value) => FfiOption {
                is_some: 1,
                value: value.into_repr(),
            },
            None => FfiOption::error_value(),
        }
    }
    unsafe fn free_repr(repr: &mut FfiOption<T::Repr>) {
        if repr.is_some != 0 {
            // SAFETY: a Some made by into_repr.
            unsafe { T::free_repr(&mut repr.value) };
            repr.is_some = 0;
        }
    }
}

// SAFETY: the tag byte is checked before the payload is lifted.
unsafe impl<T: FfiLift> FfiLift for Option<T> {
    const OBJECTS: bool = T::OBJECTS;
    #[inline]
    fn moves() -> bool {
        T::moves()
    }
    unsafe fn from_repr(repr: &FfiOption<T::Repr>) -> Result<Option<T>, String> {
        match bool_from_byte(repr.is_some)? {
            false => Ok(None),
            // SAFETY: forwarded contract.
            true => unsafe { T::from_repr(&repr.value) }.map(Some),
        }
    }
    unsafe fn reserve(repr: &FfiOption<T::Repr>, moves: &mut Moves) -> Result<(), String> {
        match bool_from_byte(repr.is_some)? {
            false => Ok(()),
            // SAFETY: forwarded contract.
            true => unsafe { T::reserve(&repr.value, moves) },
        }
    }
}

/// Lifts a record passed by pointer (`&T` or `T` parameters): a copy made
/// from the caller's C form.
///
/// # Safety
/// `ptr` is NULL or valid for reads during the call.
pub unsafe fn lift_by_pointer<T: FfiLift>(
    ptr: *const T::Repr,
    param: &'static str,
) -> Result<T, Fault> {
    // SAFETY: forwarded contract.
    match unsafe { ptr.as_ref() } {
        None => Err(Fault::invalid(param, "NULL pointer")),
        // SAFETY: forwarded contract.
        Some(repr) => unsafe { T::from_repr(repr) }.map_err(|why| Fault::invalid(param, why)),
    }
}

/// [`FfiLift::reserve`] of a parameter passed by pointer (what
/// [`lift_by_pointer`] lifts once every argument is checked).
///
/// # Safety
/// As [`lift_by_pointer`].
pub unsafe fn reserve_by_pointer<T: FfiLift>(
    ptr: *const T::Repr,
    param: &'static str,
    moves: &mut Moves,
) -> Result<(), Fault> {
    // SAFETY: forwarded contract.
    match unsafe { ptr.as_ref() } {
        None => Err(Fault::invalid(param, "NULL pointer")),
        // SAFETY: forwarded contract.
        Some(repr) => unsafe { T::reserve(repr, moves) }.map_err(|why| Fault::invalid(param, why)),
    }
}

/// A C form on the heap, at least one byte long so that every live error
/// value has an address of its own (the C channel tells values apart by
/// it), with `repr` first so a pointer to it is a pointer to the C form.
#[repr(C)]
struct Boxed<R> {
    repr: R,
    _nonzero: u8,
}

/// Frees a `Box<Boxed<T::Repr>>` made by [`error_repr`], deep.
///
/// # Safety
/// `ptr` came from `error_repr::<T>` (through `ErrorRepr`) and is freed
/// once.
unsafe fn free_boxed<T: FfiData>(ptr: *mut core::ffi::c_void) {
    // SAFETY: the caller's contract: `Box::into_raw` of a `Boxed<T::Repr>`
    // made in `error_repr::<T>`, not freed before.
    let mut boxed = unsafe { Box::from_raw(ptr.cast::<Boxed<T::Repr>>()) };
    // SAFETY: the C form was made by `into_repr` and is freed only here.
    unsafe { T::free_repr(&mut boxed.repr) };
}

/// Moves `value` into its C form on the heap: the owned value of an error.
pub fn error_repr<T: FfiData>(value: T) -> ErrorRepr {
    let variant = value
        .variant_index()
        .and_then(|index| i32::try_from(index).ok())
        .unwrap_or(-1);
    let boxed = Box::new(Boxed {
        repr: value.into_repr(),
        _nonzero: 0,
    });
    let ptr = Box::into_raw(boxed).cast::<core::ffi::c_void>();
    // SAFETY: `ptr` is a fresh, owned box of `Boxed<T::Repr>`, which
    // `free_boxed::<T>` releases (with what the C form owns) once.
    unsafe { ErrorRepr::from_raw(variant, ptr, free_boxed::<T>) }
}

/// The error encoder of an `#[export]` record or enum `T` (its
/// [`TypeEntry::error`](crate::describe::TypeEntry::error)): `error`, which
/// is a `T`, moved into its C form; `None` if it is not a `T`.
pub fn encode_error<T: FfiData + 'static>(error: Box<dyn core::any::Any>) -> Option<ErrorRepr> {
    error.downcast::<T>().ok().map(|value| error_repr(*value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_vec_of_strings_round_trips_and_frees() {
        let value = vec![Some("a".to_owned()), None, Some("ccc".to_owned())];
        let mut repr = FfiData::into_repr(value.clone());
        // SAFETY: made by into_repr just above.
        let back = unsafe { <Vec<Option<String>> as FfiLift>::from_repr(&repr) };
        assert_eq!(back, Ok(value));
        // SAFETY: made by into_repr; the second free is a no-op by contract.
        unsafe {
            <Vec<Option<String>> as FfiData>::free_repr(&mut repr);
            <Vec<Option<String>> as FfiData>::free_repr(&mut repr);
        }
        assert!(repr.ptr.is_null());
    }

    #[test]
    fn invalid_nested_items_are_reported_with_their_index() {
        let bad = [FfiBuffer {
            ptr: b"\xff".as_ptr() as *mut _,
            len: 1,
            cap: 0,
        }];
        let list = FfiBuffer {
            ptr: bad.as_ptr() as *mut _,
            len: 1,
            cap: 0,
        };
        // SAFETY: both buffers point at live arrays.
        let result = unsafe { <Vec<String> as FfiLift>::from_repr(&list) };
        assert!(matches!(result, Err(m) if m.starts_with("item 0: invalid UTF-8")));
        let two = FfiOption {
            is_some: 2,
            value: 0u8,
        };
        // SAFETY: a live value.
        assert!(unsafe { <Option<u8> as FfiLift>::from_repr(&two) }.is_err());
    }
}

/// Error values (`encode_error`, `error_repr`) through the error channel:
/// each value is freed exactly once, whichever way its error goes.
#[cfg(test)]
mod error_value_tests {
    use crate::abi::{code, FfiBuffer, FfiError};
    use crate::status::{
        call, ffi_export_error_free, ffi_export_error_take, take_since, Fault, FFI_EXPORT_FAULTS,
        KEPT,
    };
    use std::sync::atomic::Ordering;

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

    /// An error type registered like an `#[export]` one, whose C form
    /// reports every free of it (by its number: tests run in parallel).
    mod tracked {
        use crate::abi::{ErrorRepr, FfiError};
        use crate::data::{encode_error, error_repr, FfiData};
        use crate::describe::{FieldDesc, RecordDesc, TypeDesc, TypeEntry};
        use std::sync::Mutex;

        pub static FREED: Mutex<Vec<u32>> = Mutex::new(Vec::new());

        pub fn freed(number: u32) -> usize {
            FREED
                .lock()
                .expect("lock")
                .iter()
                .filter(|&&n| n == number)
                .count()
        }

        #[derive(Debug)]
        pub struct Tracked(pub u32);

        impl core::fmt::Display for Tracked {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                write!(f, "tracked #{}", self.0)
            }
        }

        fn desc() -> &'static RecordDesc {
            static DESC: RecordDesc = RecordDesc {
                name: "Tracked",
                module: "ffi_export_runtime::status::tests",
                doc: "",
                fields: &[FieldDesc {
                    name: "_0",
                    ty: TypeDesc::Scalar("u32"),
                    default: None,
                }],
                pod: false,
                size: 4,
                align: 4,
            };
            &DESC
        }

        // SAFETY: a `u32` is its own C form; the free records the number.
        unsafe impl FfiData for Tracked {
            type Repr = u32;
            const DESC: TypeDesc = TypeDesc::Record(desc);
            const OWNED: bool = true;
            fn into_repr(self) -> u32 {
                self.0
            }
            unsafe fn free_repr(repr: &mut u32) {
                FREED.lock().expect("lock").push(*repr);
            }
            fn variant_index(&self) -> Option<u32> {
                Some(self.0 % 3)
            }
        }

        #[linkme::distributed_slice(crate::describe::TYPES)]
        static ENTRY: TypeEntry = TypeEntry {
            desc: <Tracked as FfiData>::DESC,
            type_id: core::any::TypeId::of::<Tracked>,
            error: Some(encode_error::<Tracked>),
        };

        /// The number in a taken error's value.
        pub fn number(error: &FfiError) -> u32 {
            assert!(!error.value.is_null());
            // SAFETY: a taken `Tracked` error's value is its `u32` C form.
            unsafe { *error.value.cast::<u32>() }
        }

        pub fn repr(number: u32) -> ErrorRepr {
            error_repr(Tracked(number))
        }
    }

    use tracked::{freed, Tracked};

    #[test]
    fn a_registered_error_keeps_its_value_until_the_c_free() {
        let _: u8 = call(|| Err(Fault::error(Tracked(101))));
        let (found, mut error) = take_ffi();
        assert!(found);
        assert_eq!((error.code, error.variant), (code::ERROR, 101 % 3));
        assert_eq!(text(&error.message), "tracked #101");
        assert_eq!(text(&error.type_name), "Tracked");
        assert_eq!(tracked::number(&error), 101);
        assert_eq!(freed(101), 0);
        // A copy of the struct, freed after the original: a no-op.
        let mut copy = FfiError {
            value: error.value,
            ..FfiError::OK
        };
        // SAFETY: taken above; freeing again (and a copy) is harmless.
        unsafe {
            ffi_export_error_free(&mut error);
            ffi_export_error_free(&mut error);
            ffi_export_error_free(&mut copy);
        }
        assert!(error.value.is_null() && error.variant == -1);
        assert_eq!(freed(101), 1);
    }

    #[test]
    fn a_forged_error_value_is_ignored() {
        let mut number = 7u32;
        let mut forged = FfiError {
            value: (&mut number as *mut u32).cast(),
            ..FfiError::OK
        };
        // SAFETY: `forged` is a valid FfiError; its value was never handed
        // out, so it is not freed.
        unsafe { ffi_export_error_free(&mut forged) };
        assert!(forged.value.is_null());
        assert_eq!(number, 7);
    }

    #[test]
    fn untaken_error_values_are_freed_once_when_dropped() {
        // Dropped from the record: the oldest beyond KEPT.
        let before = FFI_EXPORT_FAULTS.load(Ordering::SeqCst);
        for i in 0..KEPT as u32 + 2 {
            let _: u8 = call(|| Err(Fault::error(Tracked(200 + i))));
        }
        assert_eq!((freed(200), freed(201), freed(202)), (1, 1, 0));
        // Taken in Rust (the fast path) and dropped.
        assert!(matches!(take_since(before), Some(Fault::Panic(_))));
        let fault = take_since(before).expect("kept");
        assert_eq!(fault.value().map(|v| v.repr.variant), Some(202 % 3));
        drop(fault);
        assert_eq!(freed(202), 1);
        while take_since(before).is_some() {}
        assert!((200..200 + KEPT as u32 + 2).all(|n| freed(n) == 1));
        // Never taken, on a thread that exits.
        std::thread::spawn(|| {
            let _: u8 = call(|| Err(Fault::error(Tracked(300))));
        })
        .join()
        .expect("thread");
        assert_eq!(freed(300), 1);
        // An unused `ErrorRepr`.
        drop(tracked::repr(301));
        assert_eq!(freed(301), 1);
    }
}
