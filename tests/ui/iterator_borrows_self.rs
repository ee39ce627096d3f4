use ffi_export::export;

pub struct Bag {
    items: Vec<u32>,
}

#[export]
impl Bag {
    pub fn new() -> Bag {
        Bag { items: Vec::new() }
    }

    pub fn items(&self) -> impl Iterator<Item = u32> + '_ {
        self.items.iter().copied()
    }
}

fn main() {}
