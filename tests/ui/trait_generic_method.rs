use ffi_export::export;

#[export]
pub trait Sink: Send + Sync {
    fn put<T: Into<u32>>(&self, value: T);
}

fn main() {}
