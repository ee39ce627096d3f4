use ffi_export::export;
use std::sync::Mutex;

static KEPT: Mutex<Option<Box<dyn Fn(u32) -> u32 + Send>>> = Mutex::new(None);

// `impl Fn` is passed by value but still borrows the call's callback: a
// function that needs `'static` (to keep it) does not compile.
#[export]
pub fn keep_impl(f: impl Fn(u32) -> u32 + Send + 'static) {
    *KEPT.lock().unwrap() = Some(Box::new(f));
}

fn main() {}
