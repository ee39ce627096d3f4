use ffi_export::export;
use std::time::Duration;

#[export]
pub fn timeout(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

fn main() {}
