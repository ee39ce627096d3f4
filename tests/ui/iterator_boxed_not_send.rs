use ffi_export::export;

#[export]
pub fn numbers(n: u32) -> Box<dyn Iterator<Item = u32>> {
    Box::new(0..n)
}

fn main() {}
