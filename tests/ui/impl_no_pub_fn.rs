use ffi_export::export;

pub struct Counter {
    count: u64,
}

#[export]
impl Counter {
    fn new() -> Counter {
        Counter { count: 0 }
    }

    pub(crate) fn get(&self) -> u64 {
        self.count
    }
}

fn main() {}
