use ffi_export::export;

#[export]
pub fn scale<const N: usize>(value: usize) -> usize {
    value * N
}

fn main() {}
