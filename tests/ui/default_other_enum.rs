use ffi_export::export;

#[export]
#[derive(Clone, Copy)]
#[repr(u8)]
pub enum Mode {
    Fast = 1,
    Safe = 2,
}

#[export]
#[derive(Clone, Copy)]
#[repr(u8)]
pub enum Color {
    Red = 1,
}

#[export]
pub fn run(#[ffi(default = Color::Red)] mode: Mode) -> u8 {
    mode as u8
}

fn main() {}
