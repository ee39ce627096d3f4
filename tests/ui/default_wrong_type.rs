use ffi_export::export;

#[export]
pub fn repeat(text: &str, #[ffi(default = "twice")] times: u32) -> String {
    text.repeat(times as usize)
}

fn main() {}
