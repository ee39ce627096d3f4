use ffi_export::export;

#[export]
pub const LIMIT: u32 = 10;

fn main() {}
