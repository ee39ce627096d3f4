use ffi_export::export;

#[export]
pub fn keep_all(items: &[&'static str]) -> usize {
    items.len()
}

fn main() {}
