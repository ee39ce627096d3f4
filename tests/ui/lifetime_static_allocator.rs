use ffi_export::{export, Allocator};

#[export]
pub fn keep_output(alloc: Allocator<'static>) {
    alloc.array::<f64>(4)[0] = 1.0;
}

fn main() {}
