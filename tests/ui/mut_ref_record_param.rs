use ffi_export::export;

#[export]
#[derive(Clone)]
pub struct Counter {
    pub count: u64,
}

#[export]
pub fn bump(counter: &mut Counter) {
    counter.count += 1;
}

fn main() {}
