use ffi_export::export;

#[export]
pub fn pad(text: &str, #[ffi(defualt = 8)] width: u32) -> String {
    format!("{text:width$}", width = width as usize)
}

fn main() {}
