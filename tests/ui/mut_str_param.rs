use ffi_export::export;

#[export]
pub fn shout(text: &mut str) {
    text.make_ascii_uppercase();
}

fn main() {}
