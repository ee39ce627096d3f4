use ffi_export::export;

pub struct Counter(u64);

#[export]
impl Counter {
    pub fn new() -> Counter {
        Counter(0)
    }
}

// A record owns its fields: it cannot hold a borrowed object (share it as
// `Arc<Counter>` instead).
#[export]
pub struct Holder {
    pub counter: &'static mut Counter,
}

fn main() {}
