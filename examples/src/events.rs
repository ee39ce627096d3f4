//! An event bus whose listeners are Python objects: `#[export]` on a trait
//! lets Python implement it, Rust keeps the listeners (`Arc<dyn Listener>`)
//! and calls them from its own worker thread. A filter is a stored closure.

use ffi_export::export;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// One event on the bus.
#[export]
#[derive(Debug, Clone)]
pub struct Event {
    /// The topic, e.g. `"order"`.
    pub topic: String,
    /// Its sequence number on the bus.
    pub seq: u64,
    /// The payload.
    pub payload: String,
}

/// Why a listener refused an event.
#[export]
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The listener does not handle this topic.
    #[error("not interested in {topic}")]
    NotInterested {
        /// The topic refused.
        topic: String,
    },
}

/// Something that wants to hear about events (implemented in Python).
#[export]
pub trait Listener: Send + Sync {
    /// Called on the bus's worker thread for every event.
    fn on_event(&self, event: Event) -> Result<(), Refusal>;
    /// The listener's name, for the log.
    fn name(&self) -> String;
}

type Filter = Box<dyn Fn(Event) -> bool + Send + Sync>;

struct Shared {
    listeners: Vec<Arc<dyn Listener>>,
    filter: Option<Filter>,
    log: Vec<String>,
}

/// An event bus delivering on its own worker thread.
pub struct EventBus {
    shared: Arc<Mutex<Shared>>,
    sender: Option<mpsc::Sender<Event>>,
    worker: Option<JoinHandle<()>>,
    next: u64,
}

#[export]
impl EventBus {
    /// A bus with its worker thread started.
    pub fn new() -> EventBus {
        let shared = Arc::new(Mutex::new(Shared {
            listeners: Vec::new(),
            filter: None,
            log: Vec::new(),
        }));
        let (sender, receiver) = mpsc::channel::<Event>();
        let worker_shared = shared.clone();
        let worker = std::thread::spawn(move || {
            for event in receiver {
                let shared = worker_shared.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(filter) = &shared.filter {
                    if !filter(event.clone()) {
                        continue;
                    }
                }
                let outcomes: Vec<String> = shared
                    .listeners
                    .iter()
                    .map(|l| match l.on_event(event.clone()) {
                        Ok(()) => format!("{} took #{}", l.name(), event.seq),
                        Err(refusal) => format!("{} refused #{}: {refusal}", l.name(), event.seq),
                    })
                    .collect();
                drop(shared);
                let mut shared = worker_shared.lock().unwrap_or_else(|e| e.into_inner());
                shared.log.extend(outcomes);
            }
        });
        EventBus {
            shared,
            sender: Some(sender),
            worker: Some(worker),
            next: 0,
        }
    }

    /// Adds a listener; the bus keeps it until it is closed.
    pub fn subscribe(&mut self, listener: Box<dyn Listener>) {
        self.lock().listeners.push(Arc::from(listener));
    }

    /// Only events for which `filter` returns true are delivered.
    pub fn set_filter(&mut self, filter: Box<dyn Fn(Event) -> bool + Send + Sync>) {
        self.lock().filter = Some(filter);
    }

    /// Queues an event for the worker thread; its sequence number.
    pub fn publish(&mut self, topic: String, payload: String) -> u64 {
        self.next += 1;
        let event = Event {
            topic,
            seq: self.next,
            payload,
        };
        if let Some(sender) = &self.sender {
            let _ = sender.send(event);
        }
        self.next
    }

    /// Waits until every queued event was delivered; the delivery log.
    pub fn drain(&mut self) -> Vec<String> {
        self.sender = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        std::mem::take(&mut self.lock().log)
    }
}

impl EventBus {
    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus::new()
    }
}
