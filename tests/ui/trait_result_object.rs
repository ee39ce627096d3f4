use ffi_export::export;

pub struct Sprite(u32);

#[export]
impl Sprite {
    pub fn new() -> Sprite {
        Sprite(0)
    }
}

// A Python implementation returning a `Sprite` by value would move it out
// of the Python object that still holds it: return `Arc<Sprite>` instead.
#[export]
pub trait Maker: Send + Sync {
    fn make(&self) -> Vec<Sprite>;
}

fn main() {}
