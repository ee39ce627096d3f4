use ffi_export::export;

pub struct Counter(u64);

#[export]
impl Counter {
    pub fn new() -> Counter {
        Counter(0)
    }
}

// A record with an object field moves the object when passed by value; a
// `&Holder` parameter would copy it in, moving the object out of its owner.
#[export]
pub struct Holder {
    pub counter: Counter,
}

#[export]
pub fn held(holder: &Holder) -> u64 {
    holder.counter.0
}

fn main() {}
