use ffi_export::export;

pub struct Bag {
    items: Vec<u32>,
}

#[export]
impl Bag {
    pub fn new() -> Bag {
        Bag { items: Vec::new() }
    }

    // A fallible call returning an iterator is checked as an iterator:
    // one error, at the borrow.
    pub fn items(&self) -> Result<impl Iterator<Item = u32> + '_, String> {
        Ok(self.items.iter().copied())
    }
}

fn main() {}
