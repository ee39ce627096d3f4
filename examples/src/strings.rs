//! Text in and out: owned strings freed by the helper, a caller's buffer
//! with its size checked, and lists of strings.

use ffi_export::export;

/// Repeats `text` `times` times. (The seed wrote into a caller-sized buffer
/// with no size check; here the result is an owned `String` the helper
/// frees.)
#[export]
pub fn repeat(text: &str, times: u32) -> String {
    text.repeat(times as usize)
}

/// Writes `text` repeated `times` times into the caller's buffer `out` and
/// returns how many bytes it wrote (no NUL terminator: the length says
/// where the text ends). (The seed wrote past the end of a too-small buffer;
/// here a buffer that cannot hold the result is refused before anything is
/// written.)
#[export]
pub fn repeat_into(text: &str, times: u32, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
    let needed = text.len() as u128 * u128::from(times);
    if needed > out.len() as u128 {
        return Err(BufferTooSmall {
            needed,
            capacity: out.len(),
        });
    }
    let mut written = 0;
    for _ in 0..times {
        out[written..written + text.len()].copy_from_slice(text.as_bytes());
        written += text.len();
    }
    Ok(written)
}

/// The error of [`repeat_into`].
#[derive(Debug)]
pub struct BufferTooSmall {
    needed: u128,
    capacity: usize,
}

impl std::fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the result needs {} bytes but the buffer holds {}",
            self.needed, self.capacity
        )
    }
}

/// Greets `name`. (The seed returned a C string the caller had to free with
/// `free_string`, and its `__del__` wrapper crashed; here the helper frees
/// it.)
#[export]
pub fn greet_string(name: &str) -> String {
    format!("Hello {name}\nHow's your day?\n")
}

/// Joins `words` with `separator`: a `list[str]` in. (The seed built a
/// NUL-terminated `char*[]` by hand and Go scanned it up to 2^30 entries
/// for the NULL; here the list's length crosses with it.)
#[export]
pub fn join(words: &[&str], separator: &str) -> String {
    words.join(separator)
}

/// `count` copies of `text`: a `list[str]` out. (The seed returned a
/// `char**` the caller freed with `free_string_array(ptr, count)`, trusting
/// the count; here the list is copied and freed for you.)
#[export]
pub fn multiply_string(text: &str, count: u32) -> Vec<String> {
    vec![text.to_owned(); count as usize]
}

/// The canonical name of `host`, from a small local table standing in for
/// DNS: the seed's `ReturnString`, which called `net.LookupCNAME`. (The
/// seed's error branch built a C string and dropped it, returning an empty
/// string it never freed; here an unknown host is a `NoSuchHost` error and
/// the result is freed by the helper.)
#[export]
pub fn return_string(host: &str) -> Result<String, NoSuchHost> {
    const CNAMES: [(&str, &str); 3] = [
        ("golang.org", "golang.org."),
        ("go.dev", "go.dev."),
        ("localhost", "localhost."),
    ];
    let wanted = host.strip_suffix('.').unwrap_or(host);
    CNAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(wanted))
        .map(|(_, cname)| (*cname).to_owned())
        .ok_or_else(|| NoSuchHost(host.to_owned()))
}

/// The error of [`return_string`].
#[derive(Debug)]
pub struct NoSuchHost(String);

impl std::fmt::Display for NoSuchHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "lookup {}: no such host", self.0)
    }
}
