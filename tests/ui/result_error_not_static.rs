use ffi_export::export;
use std::fmt;

/// An error that borrows the text it failed on.
#[derive(Debug)]
pub struct BadText<'a>(&'a str);

impl fmt::Display for BadText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad text {:?}", self.0)
    }
}

#[export]
pub fn parse(text: &str) -> Result<i32, BadText<'_>> {
    text.parse().map_err(|_| BadText(text))
}

fn main() {}
