use ffi_export::export;

// A slice of a type that does not cross at all.
#[export]
pub fn total(spans: &[std::time::Duration]) -> u64 {
    spans.iter().map(|span| span.as_secs()).sum()
}

fn main() {}
