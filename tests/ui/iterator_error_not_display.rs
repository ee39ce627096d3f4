use ffi_export::export;

pub struct NotDisplay;

#[export]
pub fn things(n: u32) -> impl Iterator<Item = Result<u32, NotDisplay>> {
    (0..n).map(Ok)
}
fn main() {}
