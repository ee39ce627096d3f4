use ffi_export::export;

pub struct Counter {
    count: u64,
}

#[export]
impl Counter {
    pub fn new() -> Counter {
        Counter { count: 0 }
    }

    pub fn into_count(self) -> u64 {
        self.count
    }
}

fn main() {}
