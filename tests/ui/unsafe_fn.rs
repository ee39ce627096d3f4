use ffi_export::export;

#[export]
pub unsafe fn read_byte(offset: usize) -> u8 {
    offset as u8
}

fn main() {}
