//! One error for an unsupported field, however the record is used.
use ffi_export::export;
use std::time::Duration;

#[export]
pub struct Inventory {
    pub name: String,
    pub updated: Vec<Duration>,
}

#[export]
pub fn take(inventory: Inventory, other: &Inventory) -> usize {
    inventory.name.len() + other.name.len()
}

#[export]
pub fn make() -> Inventory {
    Inventory { name: String::new(), updated: Vec::new() }
}

#[export]
pub fn maybe() -> Option<Inventory> {
    None
}

fn main() {}
