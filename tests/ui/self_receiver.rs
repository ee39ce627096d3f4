use ffi_export::export;

pub struct Counter {
    count: u64,
}

impl Counter {
    #[export]
    pub fn get(&self) -> u64 {
        self.count
    }
}

fn main() {}
