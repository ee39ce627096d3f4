use ffi_export::export;
use std::fmt;

pub struct Counter {
    count: u64,
}

#[export]
impl fmt::Display for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.count)
    }
}

fn main() {}
