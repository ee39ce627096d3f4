use ffi_export::export;

pub mod geometry {
    use ffi_export::export;

    #[export]
    pub fn area(w: f64, h: f64) -> f64 {
        w * h
    }
}

pub mod sprites {
    use ffi_export::export;

    // Both export the C symbol `area`: one of them needs
    // #[export(name = "sprites_area")].
    #[export]
    pub fn area(w: u32, h: u32) -> u64 {
        u64::from(w) * u64::from(h)
    }
}

#[export]
pub fn unrelated() -> u32 {
    1
}

fn main() {}
