//! No arguments, and primitives in and out.

use ffi_export::export;

/// Prints a greeting from native code.
#[export]
pub fn hello() {
    println!("Hello world!");
}

/// Adds two 64-bit integers, wrapping on overflow like the seed's Go `int64`.
#[export]
pub fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}
