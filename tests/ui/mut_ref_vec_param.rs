use ffi_export::export;

#[export]
pub fn push_zero(values: &mut Vec<f64>) {
    values.push(0.0);
}

fn main() {}
