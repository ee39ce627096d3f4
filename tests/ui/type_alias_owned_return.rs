use ffi_export::export;

type Text = String;

#[export]
pub fn greet() -> Text {
    String::from("hello")
}

fn main() {}
