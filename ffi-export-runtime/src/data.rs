//! [`FfiData`]: values that cross by their C form ("repr") and compose —
//! record fields, `Vec` elements, `Option` payloads and return values.
//! Primitives, `String`, `Vec<T>`, `Option<T>` are implemented here;
//! `#[export]` implements it for structs and enums.

use crate::abi::{AbiValue, FfiBuffer, FfiOption};
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
    note = "put #[ffi_export::export] on your struct or enum to make it crossable"
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
}

/// A [`FfiData`] value that can also be copied *in* from a C form the
/// caller built: it can be a parameter, or inside one (a record field, a
/// `Vec` element, an `Option` payload). Every crossable type is, except
/// objects of an `#[export] impl`: they live behind a handle and only cross
/// as returned values, so a parameter or record field holding one is a
/// compile error rather than a failure at run time.
///
/// # Safety
/// As [`FfiData`]; `from_repr` checks everything it reads.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be copied across an #[export] boundary",
    label = "unsupported here",
    note = "supported: i8 … u64, isize, usize, f32, f64, bool, String, #[export] structs and enums, and Vec<T> / Option<T> of those",
    note = "objects of an #[export] impl cross only as returned handles (alone, or in Option, Vec or Result), not inside parameters or records",
    note = "put #[ffi_export::export] on your struct or enum to make it crossable"
)]
pub unsafe trait FfiLift: FfiData {
    /// Copies a value out of a caller-owned C form, or says why it is
    /// invalid.
    ///
    /// # Safety
    /// Pointers inside `repr` are NULL (with length 0) or valid for reads.
    unsafe fn from_repr(repr: &Self::Repr) -> Result<Self, String>;
}

/// Both directions of a [`FfiLift`] type under one name, for generated
/// code: a record's fields and by-pointer parameters go through this trait
/// only, so an unsupported type is reported once, at the field or
/// parameter (the failing bound is always `T: FfiLift`).
#[doc(hidden)]
pub trait FfiValue: Sized {
    /// [`FfiData::Repr`].
    type Repr: AbiValue;
    /// [`FfiData::DESC`].
    const DESC: TypeDesc;
    /// [`FfiData::OWNED`].
    const OWNED: bool;
    /// [`FfiData::into_repr`].
    fn into_repr(self) -> Self::Repr;
    /// [`FfiLift::from_repr`].
    ///
    /// # Safety
    /// As [`FfiLift::from_repr`].
    unsafe fn from_repr(repr: &Self::Repr) -> Result<Self, String>;
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

impl<T: FfiLift> FfiValue for T {
    type Repr = <T as FfiData>::Repr;
    const DESC: TypeDesc = <T as FfiData>::DESC;
    const OWNED: bool = <T as FfiData>::OWNED;
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
    unsafe fn from_repr(repr: &FfiBuffer) -> Result<Vec<T>, String> {
        if repr.ptr.is_null() {
            return if repr.len == 0 {
                Ok(Vec::new())
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
        let items = unsafe { core::slice::from_raw_parts(ptr, repr.len) };
        items
            .iter()
            .enumerate()
            // SAFETY: each element is readable per the caller.
            .map(|(i, item)| {
                unsafe { T::from_repr(item) }.map_err(|why| format!("item {i}: {why}"))
            })
            .collect()
    }
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
    unsafe fn from_repr(repr: &FfiOption<T::Repr>) -> Result<Option<T>, String> {
        match bool_from_byte(repr.is_some)? {
            false => Ok(None),
            // SAFETY: forwarded contract.
            true => unsafe { T::from_repr(&repr.value) }.map(Some),
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
