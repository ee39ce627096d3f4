use ffi_export::export;
use std::time::Duration;

#[export]
pub fn wait_for(f: &dyn Fn(Duration) -> String) -> String {
    f(Duration::from_secs(1))
}

fn main() {}
