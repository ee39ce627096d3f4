use ffi_export::{export, Callback};

#[export]
pub fn each_word(text: &str, f: Callback<fn(String) -> i32>) -> i32 {
    text.split(' ').map(|w| f.call(w.to_owned())).sum()
}

fn main() {}
