use ffi_export::{export, Callback};

#[export]
pub fn name_of(id: i32, f: Callback<fn(i32) -> String>) -> usize {
    f.call(id).len()
}

fn main() {}
