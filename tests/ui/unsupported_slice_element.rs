use ffi_export::export;

#[export]
pub fn count(names: &[String]) -> usize {
    names.len()
}

fn main() {}
