use ffi_export::export;

pub struct Gauge {
    level: u8,
}

#[export]
impl Gauge {
    pub fn new() -> Gauge {
        Gauge { level: 0 }
    }

    #[export(setter)]
    pub fn set_level(&mut self, level: u8) {
        self.level = level;
    }
}

fn main() {}
