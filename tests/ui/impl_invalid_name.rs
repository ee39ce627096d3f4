use ffi_export::export;

pub struct Canvas(u32);

#[export(name = "2d_canvas")]
impl Canvas {
    pub fn new() -> Canvas {
        Canvas(0)
    }

    pub fn get(&self) -> u32 {
        self.0
    }
}

fn main() {}
