use ffi_export::export;
use std::rc::Rc;

#[export]
pub async fn hold(n: u32) -> u32 {
    let shared = Rc::new(n);
    std::future::ready(()).await;
    *shared
}

fn main() {}
