use ffi_export::export;
use std::time::Duration;

pub struct Counter(u64);

#[export]
impl Counter {
    pub fn new() -> Counter {
        Counter(0)
    }
}

#[export]
pub enum Event {
    Started { at: Duration },
    Counted(Counter),
    Stopped,
}

#[export]
pub fn next(event: &Event) -> Event {
    match event {
        Event::Started { .. } => Event::Stopped,
        _ => Event::Stopped,
    }
}

fn main() {}
