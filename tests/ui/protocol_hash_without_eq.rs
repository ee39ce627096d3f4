use ffi_export::export;

#[export(PartialEq, Hash)]
#[derive(PartialEq, Hash)]
pub struct Tag {
    pub name: String,
}

fn main() {}
