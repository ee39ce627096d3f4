use ffi_export::export;

#[export(len)]
pub struct Row {
    pub cells: Vec<String>,
}

fn main() {}
