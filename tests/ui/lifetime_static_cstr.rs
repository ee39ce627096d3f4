use ffi_export::export;
use std::ffi::CStr;

#[export]
pub fn keep_cstr(text: &'static CStr) -> usize {
    text.to_bytes().len()
}

fn main() {}
