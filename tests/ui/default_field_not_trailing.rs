use ffi_export::export;

#[export]
pub struct Server {
    pub host: String,
    #[ffi(default = 8080)]
    pub port: u16,
    pub note: Option<String>,
    pub name: String,
}

fn main() {}
