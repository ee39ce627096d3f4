use ffi_export::export;

#[export]
pub fn label(id: u32) -> impl std::fmt::Display {
    id
}

fn main() {}
