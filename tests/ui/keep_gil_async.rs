use ffi_export::export;

#[export(keep_gil)]
pub async fn double(x: i64) -> i64 {
    x * 2
}

fn main() {}
