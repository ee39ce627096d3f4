use ffi_export::export;

#[export]
pub fn identity<T: Copy>(value: i32) -> i32 {
    value
}

fn main() {}
