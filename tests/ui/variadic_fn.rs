use ffi_export::export;

#[export]
pub unsafe extern "C" fn sum(count: i32, args: ...) -> i32 {
    count
}

fn main() {}
