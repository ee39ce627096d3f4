use ffi_export::export;

#[export]
#[repr(C)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

fn main() {}
