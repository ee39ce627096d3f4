use ffi_export::export;

#[export]
pub fn free(handle: u64) -> u64 {
    handle
}

#[export(name = "ffi_export_describe")]
pub fn describe() -> u32 {
    1
}

#[export]
pub fn sqrtf(x: f32) -> f32 {
    x.sqrt()
}

fn main() {}
