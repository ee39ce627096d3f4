use ffi_export::export;

#[export]
pub trait Counter: Send + Sync {
    fn bump(&mut self) -> u32;
}

fn main() {}
