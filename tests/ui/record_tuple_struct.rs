use ffi_export::export;

#[export]
pub struct Meters(pub f64);

fn main() {}
