use ffi_export::export;

#[export(Debug, Debug)]
#[derive(Debug)]
pub struct Row {
    pub cells: Vec<String>,
}

fn main() {}
