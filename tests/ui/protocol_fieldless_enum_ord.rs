use ffi_export::export;

#[export(Ord)]
#[derive(PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Low,
    High,
}

fn main() {}
