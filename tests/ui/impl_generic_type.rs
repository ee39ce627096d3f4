use ffi_export::export;

pub struct Wrapper<T> {
    value: T,
}

#[export]
impl Wrapper<f64> {
    pub fn get(&self) -> f64 {
        self.value
    }
}

fn main() {}
