use ffi_export::export;

#[export]
pub enum Big {
    Small = 1,
    Huge = 10_000_000_000,
}

fn main() {}
