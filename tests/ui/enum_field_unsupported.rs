use ffi_export::export;
use std::time::Duration;

#[export]
pub enum Event {
    Started { at: Duration },
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
