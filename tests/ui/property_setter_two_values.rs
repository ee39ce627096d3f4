use ffi_export::export;

pub struct Gauge {
    level: u8,
}

#[export]
impl Gauge {
    pub fn new() -> Gauge {
        Gauge { level: 0 }
    }

    #[export(getter)]
    pub fn level(&self) -> u8 {
        self.level
    }

    #[export(setter)]
    pub fn set_level(&mut self, level: u8, scale: u8) {
        self.level = level * scale;
    }
}

fn main() {}
