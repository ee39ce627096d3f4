use ffi_export::export;
use std::time::Duration;

#[export]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Stamp {
    pub x: f64,
    pub at: Duration,
}

#[export]
pub fn stamps(values: &[Stamp]) -> Stamp {
    values[0]
}

fn main() {}
