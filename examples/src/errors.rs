//! Errors and panics become Python exceptions.

use ffi_export::export;

/// Tells whether `n` is even; refuses negative numbers.
#[export]
pub fn even(n: i64) -> Result<bool, NegativeNumber> {
    if n < 0 {
        Err(NegativeNumber(n))
    } else {
        Ok(n % 2 == 0)
    }
}

/// Divides, panicking on a zero divisor like any Rust code may.
#[export]
pub fn divide(a: i32, b: i32) -> i32 {
    a / b
}

/// The error of [`even`].
#[derive(Debug)]
pub struct NegativeNumber(i64);

impl std::fmt::Display for NegativeNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is negative", self.0)
    }
}
