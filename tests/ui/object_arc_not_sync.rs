use ffi_export::export;
use std::cell::Cell;
use std::sync::Arc;

pub struct Cursor(Cell<u64>);

// `Cell` is `Send` but not `Sync`: such an object can be owned (behind the
// registry's lock) but not shared as `Arc<T>`, whose `&T` any thread uses.
#[export]
impl Cursor {
    pub fn new() -> Arc<Cursor> {
        Arc::new(Cursor(Cell::new(0)))
    }
}

fn main() {}
