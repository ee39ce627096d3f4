use ffi_export::{export, Callback};
use std::cell::RefCell;

// The alias hides the lifetime from #[export]; the borrow checker still
// refuses to let the callback outlive the call.
type Kept = Callback<'static, fn(f64) -> f64>;

thread_local! {
    static KEPT: RefCell<Option<Kept>> = const { RefCell::new(None) };
}

#[export]
pub fn keep_callback(f: Kept) {
    KEPT.with(|kept| *kept.borrow_mut() = Some(f));
}

fn main() {}
