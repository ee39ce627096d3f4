use ffi_export::export;

#[export(Display)]
pub fn answer() -> u32 {
    42
}

fn main() {}
