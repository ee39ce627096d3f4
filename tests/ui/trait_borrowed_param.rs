use ffi_export::export;

#[export]
pub trait Logger: Send + Sync {
    fn log(&self, line: &str);
}

fn main() {}
