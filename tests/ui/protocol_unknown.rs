use ffi_export::export;

#[export(Display, Iterator)]
pub struct Row {
    pub cells: Vec<String>,
}

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.cells.join(","))
    }
}

fn main() {}
