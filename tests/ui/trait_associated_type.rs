use ffi_export::export;

#[export]
pub trait Source: Send + Sync {
    type Item;
    fn next(&self) -> u32;
}

fn main() {}
