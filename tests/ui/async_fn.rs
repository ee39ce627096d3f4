use ffi_export::export;

#[export]
pub async fn fetch(url: &str, ids: &[u32]) -> usize {
    url.len() + ids.len()
}

fn main() {}
