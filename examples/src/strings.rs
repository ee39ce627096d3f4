//! Text in and out. The seed wrote into a caller-sized buffer with no size
//! check; here the result is an owned `String` freed by the helper.

use ffi_export::export;

/// Repeats `text` `times` times.
#[export]
pub fn repeat(text: &str, times: u32) -> String {
    text.repeat(times as usize)
}

/// Greets `name`. (The seed returned a C string the caller had to free with
/// `free_string`; here the helper frees it.)
#[export]
pub fn greet_string(name: &str) -> String {
    format!("Hello, {name}!")
}

/// Joins `words` with `separator`: a `list[str]` in.
#[export]
pub fn join(words: &[&str], separator: &str) -> String {
    words.join(separator)
}

/// `n` copies of `text`, numbered: a `list[str]` out. (The seed returned a
/// `char**` and a count, freed with `free_string_array`.)
#[export]
pub fn multiply_string(text: &str, n: u32) -> Vec<String> {
    (1..=n).map(|i| format!("{i}: {text}")).collect()
}
