use ffi_export::export;

pub struct Table(Vec<String>);

impl std::ops::Index<usize> for Table {
    type Output = String;
    fn index(&self, i: usize) -> &String {
        &self.0[i]
    }
}

#[export(Index)]
impl Table {
    pub fn new() -> Table {
        Table(Vec::new())
    }
}

fn main() {}
