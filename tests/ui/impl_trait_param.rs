use ffi_export::export;

#[export]
pub fn widen(value: impl Into<i64>) -> i64 {
    value.into()
}

fn main() {}
