use ffi_export::export;

pub struct Wrapper<T> {
    value: T,
}

#[export]
impl<T: Copy + Send + 'static> Wrapper<T> {
    pub fn get(&self) -> T {
        self.value
    }
}

fn main() {}
