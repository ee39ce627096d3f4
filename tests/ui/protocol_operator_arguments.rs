use ffi_export::export;

#[export(Mul<f64>)]
#[derive(Clone, Copy)]
pub struct Amount {
    pub value: f64,
}

fn main() {}
