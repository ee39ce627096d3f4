use ffi_export::export;

#[export(name = "1bad")]
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

fn main() {}
