use ffi_export::export;

#[export(Clone)]
#[derive(Clone)]
pub struct Row {
    pub cells: Vec<String>,
}

fn main() {}
