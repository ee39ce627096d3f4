use ffi_export::export;

pub struct Canvas(u32);

// One error, at the name: not one more per method.
#[export(name = "ffi_export_canvas")]
impl Canvas {
    pub fn new() -> Canvas {
        Canvas(0)
    }

    pub fn get(&self) -> u32 {
        self.0
    }
}

fn main() {}
