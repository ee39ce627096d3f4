use ffi_export::export;

#[export]
pub fn length(text: &String) -> usize {
    text.len()
}

fn main() {}
