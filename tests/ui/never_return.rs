use ffi_export::export;

#[export]
pub fn fail() -> ! {
    panic!("always")
}

fn main() {}
