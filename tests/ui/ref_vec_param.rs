use ffi_export::export;

#[export]
pub fn total(values: &Vec<f64>) -> f64 {
    values.iter().sum()
}

fn main() {}
