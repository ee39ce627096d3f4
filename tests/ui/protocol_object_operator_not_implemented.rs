use ffi_export::export;

// An object's operator borrows its operands (`&a + &b`): `Add` for the
// value alone is not enough, one error at `Add`.
pub struct Meter(f64);

impl std::ops::Add for Meter {
    type Output = Meter;
    fn add(self, other: Meter) -> Meter {
        Meter(self.0 + other.0)
    }
}

#[export(Add)]
impl Meter {
    pub fn new(value: f64) -> Meter {
        Meter(value)
    }
}

fn main() {}
