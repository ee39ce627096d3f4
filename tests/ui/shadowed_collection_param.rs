// A type of the user's named like a standard collection: the macro reads
// the name only, so the one error is the type's missing conversion (the
// CPython fast path quietly falls back instead of adding a second one).
use ffi_export::export;

pub struct Vec<T>(T);

#[export]
pub fn takes(values: Vec<i64>) -> i64 {
    values.0
}

fn main() {}
