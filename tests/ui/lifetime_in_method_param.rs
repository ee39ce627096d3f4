use ffi_export::export;

pub struct Notes(Vec<String>);

#[export]
impl Notes {
    pub fn new() -> Notes {
        Notes(Vec::new())
    }
    pub fn add(&mut self, text: &'static str) {
        self.0.push(text.to_owned());
    }
}

fn main() {}
