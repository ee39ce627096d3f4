use ffi_export::export;

pub struct Session {
    id: u64,
}

#[export]
impl Session {
    pub fn new(id: u64) -> Session {
        Session { id }
    }

    /// Its C symbol would be `Session_handle`, the header's typedef of the
    /// object's handle.
    pub fn handle(&self) -> u64 {
        self.id
    }
}

fn main() {}
