use ffi_export::export;

// `Display` is listed but not implemented: one error, at `Display`.
#[export(Display, Debug)]
#[derive(Debug)]
pub struct Reading {
    pub value: f64,
}

fn main() {}
