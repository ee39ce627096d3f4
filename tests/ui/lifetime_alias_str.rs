use ffi_export::export;

type Text = &'static str;

#[export]
pub fn keep(s: Text) -> usize {
    s.len()
}

fn main() {}
