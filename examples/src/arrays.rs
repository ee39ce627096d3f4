//! Slices: the caller's buffers, borrowed without copying.

use ffi_export::export;

/// Writes the square of each number of `nums` into `out`.
///
/// Both buffers must have the same length.
#[export]
pub fn squares(nums: &[f64], out: &mut [f64]) -> Result<(), LengthMismatch> {
    if nums.len() != out.len() {
        return Err(LengthMismatch {
            input: nums.len(),
            output: out.len(),
        });
    }
    for (o, x) in out.iter_mut().zip(nums) {
        *o = x * x;
    }
    Ok(())
}

/// Returns the first `n` Fibonacci numbers.
#[export]
pub fn fib_sequence(n: u32) -> Vec<i64> {
    let mut seq = Vec::with_capacity(n as usize);
    let (mut a, mut b) = (0i64, 1i64);
    for _ in 0..n {
        seq.push(a);
        (a, b) = (b, a.wrapping_add(b));
    }
    seq
}

/// The error of [`squares`] when the buffers differ in length.
#[derive(Debug)]
pub struct LengthMismatch {
    input: usize,
    output: usize,
}

impl std::fmt::Display for LengthMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "input has {} numbers but output has room for {}",
            self.input, self.output
        )
    }
}
