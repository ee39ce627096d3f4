use ffi_export::export;

#[export]
pub struct Label {
    pub id: u32,
    pub text: &'static str,
}

fn main() {}
