use ffi_export::export;

pub struct Opaque;

#[export]
pub fn things(n: usize) -> impl Iterator<Item = Opaque> {
    (0..n).map(|_| Opaque)
}

fn main() {}
