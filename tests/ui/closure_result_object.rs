use ffi_export::export;

pub struct Sprite(u32);

#[export]
impl Sprite {
    pub fn new() -> Sprite {
        Sprite(0)
    }
}

// A stored closure of the caller returning an object by value.
#[export]
pub fn keep(factory: Option<Box<dyn Fn(u32) -> Option<Sprite> + Send + Sync>>) -> bool {
    factory.is_some()
}

fn main() {}
