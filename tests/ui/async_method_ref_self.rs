use ffi_export::export;

pub struct Client {
    base: String,
}

#[export]
impl Client {
    pub fn new() -> Client {
        Client { base: String::new() }
    }

    pub async fn fetch(&self, path: String) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn reset(&mut self) {
        self.base.clear();
    }
}

fn main() {}
