use ffi_export::export;

pub struct Gauge {
    level: u8,
}

#[export]
impl Gauge {
    pub fn new() -> Gauge {
        Gauge { level: 0 }
    }

    #[export(readonly)]
    pub fn level(&self) -> u8 {
        self.level
    }
}

fn main() {}
