use ffi_export::export;

#[derive(Debug)]
pub struct Stack(Vec<u8>);

#[export]
impl Stack {
    pub fn new() -> Stack {
        Stack(Vec::new())
    }

    #[export(Debug)]
    pub fn show(&self) -> String {
        format!("{self:?}")
    }
}

fn main() {}
