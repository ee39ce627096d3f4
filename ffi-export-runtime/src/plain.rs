//! [`FfiPlain`]: what a `#[repr(C)]` `#[export]` struct may hold. Such a
//! struct crosses bit for bit, so each field must be its own C form with
//! every bit pattern valid: a number, or another such struct.

use crate::describe::TypeDesc;

/// A field type of a `#[repr(C)]` `#[export]` struct: the numbers, and
/// `#[repr(C)]` `#[export]` structs of them (the macro implements it for
/// those). Generated code names a field's type only through this trait, so
/// an unsupported one is a single error, at the field.
///
/// # Safety
/// `Self` is `Copy`, is laid out as C lays out the type `DESC` describes,
/// and every bit pattern of it is a valid value.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a field of a #[repr(C)] #[export] struct",
    label = "not plain data",
    note = "a #[repr(C)] #[export] struct crosses bit for bit, so its fields may be i8, i16, i32, i64, u8, u16, u32, u64, isize, usize, f32, f64 or other #[repr(C)] #[export] structs",
    note = "remove #[repr(C)] to make it a record that is converted field by field"
)]
pub unsafe trait FfiPlain: 'static {
    /// How it is described.
    const DESC: TypeDesc;
    /// The value whose bits are all zero (the empty value of its C form).
    fn zeroed() -> Self;
}

macro_rules! plain_numbers {
    ($($t:ident: $class:ident, $kind:literal, $codes:literal;)*) => {$(
        // SAFETY: a number is Copy and its own C type; any bits are valid.
        unsafe impl FfiPlain for $t {
            const DESC: TypeDesc = TypeDesc::Scalar(stringify!($t));
            #[inline]
            fn zeroed() -> $t {
                0 as $t
            }
        }
    )*};
}
for_each_primitive!(plain_numbers);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_plain_and_zero() {
        assert_eq!(<u8 as FfiPlain>::zeroed(), 0);
        assert_eq!(<f64 as FfiPlain>::zeroed().to_bits(), 0);
        assert!(matches!(<i64 as FfiPlain>::DESC, TypeDesc::Scalar("i64")));
    }
}
