use ffi_export::{export, Allocator};

type Outputs = Allocator<'static>;

#[export]
pub fn keep_output(alloc: Outputs) {
    let kept: &'static mut [f64] = alloc.array::<f64>(4);
    kept[0] = 1.0;
}

fn main() {}
