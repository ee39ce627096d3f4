use ffi_export::{export, Callback};

#[export(keep_gil)]
pub fn apply(x: f64, f: Callback<fn(f64) -> f64>, g: &dyn Fn(i64) -> i64, scale: f64) -> f64 {
    f.call(x) * g(2) as f64 * scale
}

fn main() {}
