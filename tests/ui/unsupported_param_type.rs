use ffi_export::export;
use std::time::Duration;

#[export]
pub fn sleep_for(duration: Duration) -> u64 {
    duration.as_secs()
}

fn main() {}
