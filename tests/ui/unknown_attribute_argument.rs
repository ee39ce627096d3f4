use ffi_export::export;

#[export(foo = 1)]
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

fn main() {}
