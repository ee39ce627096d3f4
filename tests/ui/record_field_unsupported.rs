use ffi_export::export;
use std::time::Duration;

#[export]
pub struct Inventory {
    pub name: String,
    pub timeout: Duration,
}

fn main() {}
