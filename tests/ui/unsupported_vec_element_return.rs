use ffi_export::export;

#[export]
pub fn names() -> Vec<String> {
    vec![String::from("a")]
}

fn main() {}
