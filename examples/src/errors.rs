//! Errors and panics become Python exceptions.

use ffi_export::export;

/// Tells whether `n` is even; refuses negative numbers. (The seed returned
/// a `{result, error}` struct whose C string the caller freed by hand; here
/// the error is a `lib.errors.NegativeNumber` exception.)
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
        write!(f, "{} is negative, want at least 0", self.0)
    }
}

/// A result that does not fit its integer type: the examples report it
/// instead of wrapping around silently as the seeds' C and Go did.
#[derive(Debug)]
pub struct Overflow(pub(crate) String);

impl std::fmt::Display for Overflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
