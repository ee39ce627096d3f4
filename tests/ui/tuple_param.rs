use ffi_export::export;

#[export]
pub fn add(pair: (i32, i32)) -> i32 {
    pair.0 + pair.1
}

fn main() {}
