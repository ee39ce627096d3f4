use ffi_export::export;

#[export]
pub fn keep_bytes(bytes: &'static mut [u8]) -> usize {
    bytes.len()
}

fn main() {}
