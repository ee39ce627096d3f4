use ffi_export::export;

pub struct Connection;

#[export]
impl Connection {
    pub async fn new(url: String) -> Connection {
        let _ = url;
        Connection
    }
}

fn main() {}
