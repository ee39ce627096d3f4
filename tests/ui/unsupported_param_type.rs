use ffi_export::export;
use std::collections::HashMap;

#[export]
pub fn size(map: HashMap<String, i32>) -> usize {
    map.len()
}

fn main() {}
