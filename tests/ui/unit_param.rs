use ffi_export::export;

#[export]
pub fn nothing(value: ()) -> i32 {
    let () = value;
    0
}

fn main() {}
