use ffi_export::export;

#[export]
pub struct Wrapper<T> {
    pub value: T,
}

fn main() {}
