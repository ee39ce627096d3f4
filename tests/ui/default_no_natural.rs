use ffi_export::export;

#[export]
pub fn span(#[ffi(default)] range: (u32, u32)) -> u32 {
    range.1 - range.0
}

fn main() {}
