use ffi_export::export;

#[export]
pub fn names() -> impl Iterator<Item = &'static str> {
    ["a", "b"].into_iter()
}

fn main() {}
