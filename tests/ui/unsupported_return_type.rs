use ffi_export::export;
use std::collections::HashMap;

#[export]
pub fn histogram(values: &[u8]) -> HashMap<u8, usize> {
    let mut counts = HashMap::new();
    for value in values {
        *counts.entry(*value).or_default() += 1;
    }
    counts
}

fn main() {}
