use ffi_export::export;
use std::sync::Mutex;

static KEPT: Mutex<Option<&'static str>> = Mutex::new(None);

#[export]
pub fn keep(s: &'static str) {
    *KEPT.lock().unwrap() = Some(s);
}

fn main() {}
