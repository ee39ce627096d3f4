use ffi_export::export;

#[export]
pub async fn fetch(id: u32) -> u32 {
    id
}

fn main() {}
