use ffi_export::export;

#[export]
pub trait Shape {
    fn area(&self) -> f64;
}

fn main() {}
