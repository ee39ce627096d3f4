//! Objects: Rust values Python holds by handle and frees when it drops
//! them. The seed paired `getUserInfo` with a hand-written `delUserInfo`
//! called from `__del__`; here the drop is generated and checked.

use ffi_export::export;
use std::sync::atomic::{AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Looks a user up by name: the seed's `getUserInfo`. (The seed returned a
/// struct holding a C string and relied on a hand-written `__del__` calling
/// `delUserInfo`, which any Python copy of the struct would run again: a
/// double free; here Python holds a checked handle and Rust drops the value
/// exactly once.)
#[export]
pub fn get_user_info(name: &str) -> UserInfo {
    UserInfo::new(name)
}

/// Information about a user, freed when Python drops it.
pub struct UserInfo {
    name: String,
    info: String,
}

impl Drop for UserInfo {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
        println!("Freeing user info: {}", self.info);
    }
}

/// Information about a user, freed when Python drops it.
#[export]
impl UserInfo {
    /// Looks a user up by name.
    pub fn new(name: &str) -> UserInfo {
        LIVE.fetch_add(1, Ordering::SeqCst);
        UserInfo {
            name: name.to_owned(),
            info: format!(
                "User {name:?} has {} letters in their name",
                name.chars().count()
            ),
        }
    }

    /// The user's name.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// The description.
    pub fn info(&self) -> String {
        self.info.clone()
    }

    /// How many `UserInfo` values are alive.
    pub fn live() -> usize {
        LIVE.load(Ordering::SeqCst)
    }
}

/// A running total, shared safely between threads.
#[derive(Default)]
pub struct Tally {
    total: i64,
    count: u64,
}

/// A running total, shared safely between threads.
#[export]
impl Tally {
    /// An empty tally.
    pub fn new() -> Tally {
        Tally::default()
    }

    /// Adds a value; overflowing the total is an error.
    pub fn add(&mut self, value: i64) -> Result<i64, String> {
        self.total = self.total.checked_add(value).ok_or("total overflow")?;
        self.count += 1;
        Ok(self.total)
    }

    /// The mean so far, if any value was added.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.total as f64 / self.count as f64)
    }
}
