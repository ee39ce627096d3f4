use ffi_export::export;

pub mod geometry {
    use ffi_export::export;

    pub struct Canvas(u32);

    #[export]
    impl Canvas {
        pub fn new() -> Canvas {
            Canvas(0)
        }
    }
}

pub mod sprites {
    use ffi_export::export;

    pub struct Canvas(u32);

    // Both export `Canvas_new` and `Canvas_free`: one of them needs
    // #[export(name = "SpriteCanvas")].
    #[export]
    impl Canvas {
        pub fn new() -> Canvas {
            Canvas(1)
        }
    }
}

#[export]
pub fn unrelated() -> u32 {
    1
}

fn main() {}
