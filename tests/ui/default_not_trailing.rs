use ffi_export::export;

#[export]
pub fn pad(#[ffi(default = 8)] width: u32, text: &str) -> String {
    format!("{text:width$}", width = width as usize)
}

fn main() {}
