use ffi_export::export;

#[export]
pub trait Shape: Send + Sync + std::fmt::Debug {
    fn area(&self) -> f64;
}

fn main() {}
