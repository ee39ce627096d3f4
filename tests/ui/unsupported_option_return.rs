use ffi_export::export;

#[export]
pub fn maybe_maybe(value: i32) -> Option<Option<i32>> {
    Some(Some(value))
}

fn main() {}
