use ffi_export::export;
use std::collections::HashMap;

#[export]
pub struct Inventory {
    pub name: String,
    pub counts: HashMap<String, u32>,
}

fn main() {}
