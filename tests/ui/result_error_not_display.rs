use ffi_export::export;

#[derive(Debug)]
pub struct ParseFailure;

#[export]
pub fn parse(text: &str) -> Result<i32, ParseFailure> {
    text.parse().map_err(|_| ParseFailure)
}

fn main() {}
