use ffi_export::export;

#[export]
pub fn first_word(text: &str) -> Option<&str> {
    text.split(' ').next()
}

fn main() {}
