use ffi_export::export;

#[export]
pub fn pad(text: &str, #[ffi(default = None)] width: u32) -> String {
    format!("{text:width$}", width = width as usize)
}

fn main() {}
