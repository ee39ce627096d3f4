use ffi_export::export;
use std::cell::RefCell;

thread_local! {
    static KEPT: RefCell<Vec<&'static dyn Fn(&str) -> String>> = const { RefCell::new(Vec::new()) };
}

// A `&dyn Fn` callback is borrowed for the call: keeping it is refused by
// the borrow checker (take `Box<dyn Fn(..) + Send + Sync>` to keep one).
#[export]
pub fn keep(f: &dyn Fn(&str) -> String) {
    KEPT.with(|kept| kept.borrow_mut().push(f));
}

fn main() {}
