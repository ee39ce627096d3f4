//! Text in and out. The seed wrote into a caller-sized buffer with no size
//! check; here the result is an owned `String` freed by the helper.

use ffi_export::export;

/// Repeats `text` `times` times.
#[export]
pub fn repeat(text: &str, times: u32) -> String {
    text.repeat(times as usize)
}
