use ffi_export::export;

pub struct Canvas(u32);

#[export(keep_gil)]
impl Canvas {
    pub fn new() -> Canvas {
        Canvas(0)
    }
}

fn main() {}
