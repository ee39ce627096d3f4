//! Calling back into Python: a callback, and Python-owned outputs through
//! the caller's allocator (the seeds' `sqrts`, with nothing to free).

use ffi_export::{export, Allocator, Callback};

/// Square roots of 1..=n, in an array Python allocates and owns, after a
/// text header. (The seed's Go cast whatever its `CFUNCTYPE` allocator
/// returned into a slice, and Python kept the arrays alive in a global list
/// by hand; here each output is a zeroed slice of the requested type, owned
/// by Python and returned from the call.)
#[export]
pub fn sqrts(n: u32, alloc: Allocator) {
    alloc.text(&format!("Square roots up to {n}:"));
    for (i, out) in alloc.array::<f64>(n as usize).iter_mut().enumerate() {
        *out = ((i + 1) as f64).sqrt();
    }
}

/// Replaces each value by `f(value)`, in place.
#[export]
pub fn apply(values: &mut [f64], f: Callback<fn(f64) -> f64>) {
    for value in values {
        *value = f.call(*value);
    }
}
