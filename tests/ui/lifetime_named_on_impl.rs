use ffi_export::export;

pub struct Holder(u32);

#[export]
impl<'a> Holder {
    pub fn new() -> Holder {
        Holder(0)
    }
    pub fn keep(&self, text: &'a str) -> usize {
        text.len()
    }
}

fn main() {}
