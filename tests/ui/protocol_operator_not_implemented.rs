use ffi_export::export;

// `Add` for `Self + Self` is not implemented: one error, at `Add`.
#[export(Add)]
pub struct Money {
    pub cents: i64,
}

fn main() {}
