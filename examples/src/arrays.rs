//! Slices: the caller's buffers, borrowed without copying, and vectors
//! returned to the caller.

use crate::errors::Overflow;
use crate::records::Rng;
use ffi_export::export;

/// Writes the square of each number of `nums` into `out`. (The seed trusted
/// one length `n` for both pointers; here each slice carries its own
/// length, and a mismatch is an error.)
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

/// Adds `a` to every number of `nums`, in place. (The seed cast any numpy
/// pointer to `int64*` after a hand-written dtype check, and wrapped on
/// overflow; here the buffer's element type is checked against `i64` on
/// every call, and an overflow changes nothing and is an error.)
#[export]
pub fn increase(nums: &mut [i64], a: i64) -> Result<(), Overflow> {
    if let Some(i) = nums.iter().position(|n| n.checked_add(a).is_none()) {
        return Err(Overflow(format!(
            "nums[{i}] = {}: adding {a} does not fit in an i64",
            nums[i]
        )));
    }
    for n in nums {
        *n += a;
    }
    Ok(())
}

/// The first `n` numbers of the seed's Fibonacci sequence (1, 1, 2, 3, ...).
/// (The seed returned an `int*` to free by hand with `free_int_array`, and
/// wrapped past the 46th number; here the vector is freed for you, and an
/// `i32` overflow is an error.)
#[export]
pub fn fib_sequence(n: u32) -> Result<Vec<i32>, Overflow> {
    // Only 46 numbers fit in an i32: never reserve more than that.
    let mut seq: Vec<i32> = Vec::with_capacity(n.min(46) as usize);
    for i in 0..n as usize {
        let next = match i {
            0 | 1 => 1,
            _ => seq[i - 1].checked_add(seq[i - 2]).ok_or_else(|| {
                Overflow(format!(
                    "fib_sequence({n}): Fib({i}) does not fit in an i32"
                ))
            })?,
        };
        seq.push(next);
    }
    Ok(seq)
}

/// Shuffles `nums` in place into a random permutation (Fisher-Yates), with
/// a generator seeded by `seed`, so the same seed gives the same order.
/// (The seed's Go version trusted a pointer and a count; here the slice
/// carries its length and its element type is checked.)
#[export]
pub fn shuffle(nums: &mut [f64], seed: u64) {
    let mut rng = Rng::new(seed);
    for i in (1..nums.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        nums.swap(i, j);
    }
}

/// Applies a websocket masking key (RFC 6455, section 5.3) to `data` in
/// place: byte `i` is XORed with byte `i % 4` of `key`, whose bytes are
/// taken in network order (`int.from_bytes(frame_key, "big")`). Masking
/// twice with the same key restores the data. (The seed passed a pointer
/// and an `int` length; here a read-only buffer is refused.)
#[export]
pub fn mask(data: &mut [u8], key: u32) {
    let key = key.to_be_bytes();
    for chunk in data.chunks_mut(4) {
        for (byte, k) in chunk.iter_mut().zip(key) {
            *byte ^= k;
        }
    }
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
