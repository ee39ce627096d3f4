//! The one table of numeric primitives. Every per-primitive impl in the
//! runtime (C forms, parameters, elements, callback values, allocator kinds,
//! the CPython fast path's readers and builders) is generated from it, so a
//! number added or changed here is added or changed everywhere at once.
//!
//! `bool` is not in the table: it crosses as a byte that must be 0 or 1, so
//! each trait implements it by hand, next to the table's use.
//!
//! Each row: `type: class, allocator kind, buffer format codes`, where
//! `class` is `signed`, `unsigned` or `float`; the allocator kind is the
//! code `Allocator::array::<T>` passes to the caller; the codes are the
//! `struct`/buffer format characters whose items are this type (sizes are
//! checked separately).

/// Calls `$callback! { $(type: class, kind, codes;)* }` with every row.
macro_rules! for_each_primitive {
    ($callback:ident) => {
        $callback! {
            i8: signed, 1, b"b";
            i16: signed, 2, b"hilq";
            i32: signed, 3, b"hilq";
            i64: signed, 4, b"hilqn";
            isize: signed, 9, b"hilqn";
            u8: unsigned, 5, b"BcC";
            u16: unsigned, 6, b"HILQ";
            u32: unsigned, 7, b"HILQ";
            u64: unsigned, 8, b"HILQN";
            usize: unsigned, 10, b"HILQN";
            f32: float, 11, b"f";
            f64: float, 12, b"d";
        }
    };
}

/// The table's type names, in order (for tests and the description).
macro_rules! primitive_names {
    ($($t:ident: $class:ident, $kind:literal, $codes:literal;)*) => {
        /// The numeric primitives that cross as themselves, in table order.
        pub const NUMBERS: &[&str] = &[$(stringify!($t)),*];
    };
}
for_each_primitive!(primitive_names);
