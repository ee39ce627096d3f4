//! Items #[export] rejects are reported once, where the mistake is: their
//! uses elsewhere add no errors.
use ffi_export::export;

#[export]
pub struct Label {
    pub id: u32,
    pub text: &'static str,
}

#[export]
pub fn label_id(label: Label) -> u32 {
    label.id
}

#[export]
pub fn make_label() -> Option<Label> {
    None
}

pub struct Counter(u64);

#[export]
impl Counter {
    pub fn new() -> Counter {
        Counter(0)
    }

    pub fn into_count(self) -> u64 {
        self.0
    }
}

#[export]
pub fn counter() -> Counter {
    Counter(1)
}

#[export]
pub enum Empty {}

#[export]
pub fn empty() -> Option<Empty> {
    None
}

fn main() {}
