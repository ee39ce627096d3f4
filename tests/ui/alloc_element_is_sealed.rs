// `Allocator::array::<T>` trusts `T::KIND` to name an element of T's size:
// only the runtime's primitives may implement it.
use ffi_export::__private::AllocElement;
use ffi_export::export;

#[export]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Big {
    pub a: f64,
    pub b: f64,
}

impl AllocElement for Big {
    const KIND: u32 = 5;
}

fn main() {}
