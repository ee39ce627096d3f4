use ffi_export::export;
use std::rc::Rc;

pub struct Scene(u64);

#[export]
impl Scene {
    pub fn new() -> Scene {
        Scene(0)
    }
}

// `Rc` is not `Send`: a shared object is an `Arc<T>`.
#[export]
pub fn rc_scene(scene: Rc<Scene>) -> u64 {
    scene.0
}

fn main() {}
