//! Async functions: `await lib.fetch(url)` from asyncio, many in flight at
//! once, cancellable, with typed errors. (No seed program: the pretend web
//! below answers from threads after a latency, without a network.)

use ffi_export::export;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A page of the pretend web.
#[export]
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// What was fetched.
    pub url: String,
    /// The HTTP-like status.
    pub status: u16,
    /// The page's text.
    pub body: String,
}

/// Why a fetch failed: `lib.errors.FetchError.<Variant>` in Python.
#[export]
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The host is not on the pretend web.
    #[error("no such host: {host}")]
    UnknownHost {
        /// The host asked for.
        host: String,
    },
    /// The host has no such page.
    #[error("{0}: not found")]
    NotFound(String),
}

/// Work done on another thread, awaited: the bridge from blocking code to a
/// future (a runtime such as tokio offers `spawn_blocking` for this).
struct Reply<T> {
    slot: Arc<Mutex<(Option<T>, Option<Waker>)>>,
}

fn on_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Reply<T> {
    let slot = Arc::new(Mutex::new((None, None::<Waker>)));
    let answer = Arc::clone(&slot);
    std::thread::spawn(move || {
        let value = work();
        let mut answer = answer.lock().unwrap_or_else(|e| e.into_inner());
        answer.0 = Some(value);
        if let Some(waker) = answer.1.take() {
            waker.wake();
        }
    });
    Reply { slot }
}

impl<T> Future for Reply<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        match slot.0.take() {
            Some(value) => Poll::Ready(value),
            None => {
                slot.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Fetches `url` from the pretend web: `fast.example` answers after 50 ms,
/// `slow.example` after 2 s; `/missing` is not found.
#[export]
pub async fn fetch(url: String) -> Result<Page, FetchError> {
    let host = url.split('/').nth(2).unwrap_or_default().to_owned();
    let latency = match host.as_str() {
        "fast.example" => 50,
        "slow.example" => 2000,
        _ => return Err(FetchError::UnknownHost { host }),
    };
    let body = on_thread(move || {
        std::thread::sleep(Duration::from_millis(latency));
        format!("<h1>{host}</h1>")
    })
    .await;
    if url.ends_with("/missing") {
        return Err(FetchError::NotFound(url));
    }
    Ok(Page {
        url,
        status: 200,
        body,
    })
}
