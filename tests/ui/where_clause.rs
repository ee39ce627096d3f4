use ffi_export::export;

#[export]
pub fn double(value: i32) -> i32
where
    i32: Copy,
{
    value * 2
}

fn main() {}
