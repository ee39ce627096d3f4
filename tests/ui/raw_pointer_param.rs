use ffi_export::export;

#[export]
pub fn checksum(data: *const u8, len: usize) -> u32 {
    let _ = data;
    len as u32
}

fn main() {}
