use ffi_export::export;

// Rust writes a `&mut [T]` in place: only numbers and plain records can be
// lent that way; text is taken by value and returned instead.
#[export]
pub fn shout_all(names: &mut [String]) {
    for name in names {
        *name = name.to_uppercase();
    }
}

fn main() {}
