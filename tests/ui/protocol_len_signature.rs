use ffi_export::export;

pub struct Stack(Vec<u8>);

#[export]
impl Stack {
    pub fn new() -> Stack {
        Stack(Vec::new())
    }

    /// `len()` needs a `usize`.
    #[export(len)]
    pub fn size(&self) -> u32 {
        self.0.len() as u32
    }
}

fn main() {}
