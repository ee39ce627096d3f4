use ffi_export::export;

#[export]
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct Packed {
    pub tag: u8,
    pub value: u64,
}

#[export]
#[repr(C)]
#[repr(align(32))]
#[derive(Clone, Copy)]
pub struct Wide {
    pub x: f64,
}

fn main() {}
