use ffi_export::export;

#[export]
pub fn byte_count<'a>(text: &'a str) -> usize {
    text.len()
}

fn main() {}
