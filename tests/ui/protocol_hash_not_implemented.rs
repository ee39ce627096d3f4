use ffi_export::export;

#[derive(PartialEq, Eq)]
pub struct Key(u32);

// `Eq` is implemented, `Hash` is not: one error, at `Hash`.
#[export(Eq, Hash)]
impl Key {
    pub fn new(id: u32) -> Key {
        Key(id)
    }
}

fn main() {}
