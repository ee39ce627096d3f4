use ffi_export::export;

#[export]
pub async fn describe<T>(text: &String) -> usize {
    text.len()
}

fn main() {}
