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
    pub fn level(&self, scale: u8) -> u8 {
        self.level * scale
    }
}

fn main() {}
