use ffi_export::export;

#[export]
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Flagged {
    pub value: f64,
    pub flag: bool,
}

fn main() {}
