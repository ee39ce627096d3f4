use ffi_export::export;
use std::rc::Rc;

#[export]
pub fn numbers(n: u32) -> impl Iterator<Item = u32> {
    let shared = Rc::new(n);
    (0..n).map(move |i| i + *shared)
}

fn main() {}
