use ffi_export::{export, Callback};

#[export]
pub fn keep_callback(f: Callback<'static, fn(f64) -> f64>) -> f64 {
    f.call(1.0)
}

fn main() {}
