use ffi_export::export;

#[export]
pub fn count(f: &mut dyn FnMut(u32)) {
    f(1);
}

fn main() {}
