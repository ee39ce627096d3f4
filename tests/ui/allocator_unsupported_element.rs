use ffi_export::{export, Allocator};

#[export]
pub fn words(text: &str, alloc: Allocator) {
    let out = alloc.array::<String>(3);
    out[0] = text.to_owned();
}

fn main() {}
