//! No arguments, and primitives in and out.

use crate::errors::Overflow;
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

/// `n!` as an `i32`. (The seed's C `int` wrapped silently past 12!; here
/// overflow is an `Overflow` error, and a negative `n` cannot be passed.)
#[export]
pub fn factorial(n: u32) -> Result<i32, Overflow> {
    (1..=n).try_fold(1i32, |acc, k| {
        i32::try_from(k)
            .ok()
            .and_then(|k| acc.checked_mul(k))
            .ok_or_else(|| Overflow(format!("{n}! does not fit in an i32")))
    })
}

/// `val + 3`: the seed's `ReturnInt`. (Its Go `int` wrapped on overflow;
/// here overflow is an error.)
#[export]
pub fn return_int(val: i64) -> Result<i64, Overflow> {
    val.checked_add(3)
        .ok_or_else(|| Overflow(format!("{val} + 3 does not fit in an i64")))
}

/// Approximates π with the first `n` terms of the Leibniz series
/// 4/1 - 4/3 + 4/5 - ..., summed in that order.
#[export]
pub fn pi(n: u64) -> f64 {
    let (mut result, mut sign, mut denom) = (0.0f64, 1.0f64, 1.0f64);
    for _ in 0..n {
        result += sign * 4.0 / denom;
        sign = -sign;
        denom += 2.0;
    }
    result
}
