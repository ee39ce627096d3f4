use ffi_export::export;

#[export]
pub trait Named: Send + Sync {
    fn name(&self) -> &str;
}

fn main() {}
