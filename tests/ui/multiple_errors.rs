use ffi_export::export;

#[export]
pub unsafe fn describe<T>(text: &String) -> usize {
    text.len()
}

fn main() {}
