use ffi_export::export;

pub struct Counter(u64);

#[export]
impl Counter {
    pub fn new() -> Counter {
        Counter(0)
    }
}

// Borrowed (`&Counter`, `&mut Counter`) and shared (`Arc<Counter>`) objects
// cross; owned ones, in an `Option` or a record field, do not.
#[export]
pub fn maybe(counter: Option<Counter>) -> u64 {
    counter.map_or(0, |c| c.0)
}

#[export]
pub struct Holder {
    pub counter: Counter,
}

#[export]
pub fn held(holder: Holder) -> u64 {
    holder.counter.0
}

fn main() {}
