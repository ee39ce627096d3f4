use ffi_export::export;

#[export]
pub fn level(#[ffi(default = 300)] level: u8) -> u8 {
    level
}

fn main() {}
