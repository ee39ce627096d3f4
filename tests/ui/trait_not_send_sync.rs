use ffi_export::export;

#[export]
pub trait Clock {
    fn now(&self) -> u64;
}

fn main() {}
