use ffi_export::export;

pub struct Sprite(u32);

#[export]
impl Sprite {
    pub fn new() -> Sprite {
        Sprite(0)
    }
}

// A callback borrowed for the call, returning an object by value.
#[export]
pub fn build(make: &dyn Fn() -> Sprite) -> u32 {
    make().0
}

fn main() {}
