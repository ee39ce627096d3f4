//! The benchmark workloads, each written twice in one cdylib: `floor`
//! is what a careful person writes by hand (`extern "C"`, raw pointers, a
//! `*_free` per owned return, no error channel), and the rest is the same
//! work through `#[export]`. `benches/bench.py` times both, side by side.

use ffi_export::{export, Callback};

/// Hand-written `extern "C"` versions: the floor ffi-export is compared to.
pub mod floor {
    use core::ffi::c_char;
    use std::ffi::CString;

    #[no_mangle]
    pub extern "C" fn floor_noop() {}

    /// # Safety
    /// `a`, `b` and `out` point to `n` values each.
    #[no_mangle]
    pub unsafe extern "C" fn floor_add_arrays(
        a: *const i64,
        b: *const i64,
        out: *mut i64,
        n: usize,
    ) {
        // SAFETY: the caller passes valid buffers (nothing is checked: the floor).
        let (a, b, out) = unsafe {
            (
                core::slice::from_raw_parts(a, n),
                core::slice::from_raw_parts(b, n),
                core::slice::from_raw_parts_mut(out, n),
            )
        };
        for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
            *o = x.wrapping_add(*y);
        }
    }

    #[no_mangle]
    pub extern "C" fn floor_add(a: i64, b: i64) -> i64 {
        a.wrapping_add(b)
    }

    #[no_mangle]
    pub extern "C" fn floor_half(x: f64) -> f64 {
        x * 0.5
    }

    /// Fails: writes the message (freed with `floor_string_free`) and
    /// returns 0. The floor's error channel is an out-pointer.
    ///
    /// # Safety
    /// `message` points to a writable pointer.
    #[no_mangle]
    pub unsafe extern "C" fn floor_fail(x: i64, message: *mut *mut c_char) -> i64 {
        let text = super::BenchError(x).to_string();
        // SAFETY: the caller passes a writable pointer (nothing is checked: the floor).
        unsafe { *message = CString::new(text).unwrap_or_default().into_raw() };
        0
    }

    /// # Safety
    /// `ptr` points to `len` UTF-8 bytes.
    #[no_mangle]
    pub unsafe extern "C" fn floor_upper(ptr: *const u8, len: usize) -> *mut c_char {
        // SAFETY: the caller passes a valid buffer (nothing is checked: the floor).
        let bytes = unsafe { core::slice::from_raw_parts(ptr, len) };
        let text = String::from_utf8_lossy(bytes).to_uppercase();
        CString::new(text).unwrap_or_default().into_raw()
    }

    /// # Safety
    /// `ptr` points to `len` values.
    #[no_mangle]
    pub unsafe extern "C" fn floor_sum_i64(ptr: *const i64, len: usize) -> i64 {
        // SAFETY: the caller passes a valid buffer (nothing is checked: the floor).
        let values = unsafe { core::slice::from_raw_parts(ptr, len) }.to_vec();
        values.into_iter().fold(0, i64::wrapping_add)
    }

    /// # Safety
    /// `keys` points to `n` NUL-terminated UTF-8 strings, `values` to `n`
    /// values.
    #[no_mangle]
    pub unsafe extern "C" fn floor_total_count(
        keys: *const *const c_char,
        values: *const u32,
        n: usize,
    ) -> u32 {
        // SAFETY: the caller passes valid arrays (nothing is checked: the floor).
        let (keys, values) = unsafe {
            (
                core::slice::from_raw_parts(keys, n),
                core::slice::from_raw_parts(values, n),
            )
        };
        let counts: std::collections::HashMap<String, u32> = keys
            .iter()
            // SAFETY: as above.
            .map(|key| {
                unsafe { core::ffi::CStr::from_ptr(*key) }
                    .to_string_lossy()
                    .into_owned()
            })
            .zip(values.iter().copied())
            .collect();
        counts.values().fold(0, |a, b| a.wrapping_add(*b))
    }

    /// # Safety
    /// `ptr` came from `floor_upper`.
    #[no_mangle]
    pub unsafe extern "C" fn floor_string_free(ptr: *mut c_char) {
        if !ptr.is_null() {
            // SAFETY: made by CString::into_raw.
            drop(unsafe { CString::from_raw(ptr) });
        }
    }

    /// # Safety
    /// `ptr` points to `len` doubles.
    #[no_mangle]
    pub unsafe extern "C" fn floor_sum(ptr: *const f64, len: usize) -> f64 {
        // SAFETY: the caller passes a valid buffer.
        unsafe { core::slice::from_raw_parts(ptr, len) }
            .iter()
            .sum()
    }

    /// # Safety
    /// `ptr` points to `len` writable bytes.
    #[no_mangle]
    pub unsafe extern "C" fn floor_mask(ptr: *mut u8, len: usize, key: u32) {
        // SAFETY: the caller passes a valid buffer.
        super::mask_bytes(unsafe { core::slice::from_raw_parts_mut(ptr, len) }, key);
    }

    /// Returns `n` doubles; free with `floor_f64_free(ptr, n)`.
    #[no_mangle]
    pub extern "C" fn floor_range(n: usize) -> *mut f64 {
        let values: Box<[f64]> = (0..n).map(|i| i as f64).collect();
        Box::into_raw(values).cast::<f64>()
    }

    /// # Safety
    /// `ptr`/`n` came from `floor_range`.
    #[no_mangle]
    pub unsafe extern "C" fn floor_f64_free(ptr: *mut f64, n: usize) {
        if !ptr.is_null() {
            // SAFETY: made by Box::into_raw of a boxed slice of n doubles.
            drop(unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(ptr, n)) });
        }
    }

    /// Returns `0, 1, …, n - 1`; free with `floor_u64_free(ptr, n)`.
    #[no_mangle]
    pub extern "C" fn floor_u64_range(n: usize) -> *mut u64 {
        let values: Box<[u64]> = (0..n as u64).collect();
        Box::into_raw(values).cast::<u64>()
    }

    /// # Safety
    /// `ptr`/`n` came from `floor_u64_range`.
    #[no_mangle]
    pub unsafe extern "C" fn floor_u64_free(ptr: *mut u64, n: usize) {
        if !ptr.is_null() {
            // SAFETY: made by Box::into_raw of a boxed slice of n u64s.
            drop(unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(ptr, n)) });
        }
    }

    /// A user, C layout; `name` is freed with `floor_user_free`.
    #[repr(C)]
    pub struct CUser {
        pub id: u32,
        pub name: *mut c_char,
        pub score: f64,
    }

    #[no_mangle]
    pub extern "C" fn floor_make_user(id: u32) -> CUser {
        CUser {
            id,
            name: CString::new(format!("user{id}"))
                .unwrap_or_default()
                .into_raw(),
            score: f64::from(id) * 1.5,
        }
    }

    /// # Safety
    /// `user` came from `floor_make_user`.
    #[no_mangle]
    pub unsafe extern "C" fn floor_user_free(user: CUser) {
        // SAFETY: forwarded contract.
        unsafe { floor_string_free(user.name) };
    }

    /// # Safety
    /// `user` points to a valid `CUser` whose `name` is a NUL-terminated
    /// string.
    #[no_mangle]
    pub unsafe extern "C" fn floor_score_of(user: *const CUser) -> f64 {
        // SAFETY: forwarded contract (nothing checks it: the floor).
        let user = unsafe { &*user };
        // SAFETY: forwarded contract.
        let name = unsafe { core::ffi::CStr::from_ptr(user.name) };
        f64::from(user.id) + user.score + name.to_bytes().len() as f64
    }

    /// An object behind a raw pointer.
    pub struct RawCounter(u64);

    #[no_mangle]
    pub extern "C" fn floor_counter_new() -> *mut RawCounter {
        Box::into_raw(Box::new(RawCounter(0)))
    }

    /// # Safety
    /// `counter` came from `floor_counter_new`.
    #[no_mangle]
    pub unsafe extern "C" fn floor_counter_incr(counter: *mut RawCounter) -> u64 {
        // SAFETY: forwarded contract (nothing checks it: the floor).
        let counter = unsafe { &mut *counter };
        counter.0 += 1;
        counter.0
    }

    /// # Safety
    /// `counter` came from `floor_counter_new` and is freed once.
    #[no_mangle]
    pub unsafe extern "C" fn floor_counter_free(counter: *mut RawCounter) {
        // SAFETY: forwarded contract.
        drop(unsafe { Box::from_raw(counter) });
    }

    #[no_mangle]
    pub extern "C" fn floor_apply(f: extern "C" fn(f64) -> f64, x: f64) -> f64 {
        f(x)
    }

    /// `tick(i)` for i in 0..count through a C function pointer and its
    /// context (what a hand-written "Python object Rust calls" looks like).
    #[no_mangle]
    pub extern "C" fn floor_tick_many(
        tick: extern "C" fn(*mut core::ffi::c_void, u64) -> u64,
        context: *mut core::ffi::c_void,
        count: u64,
    ) -> u64 {
        (0..count).fold(0u64, |sum, i| sum.wrapping_add(tick(context, i)))
    }

    #[no_mangle]
    pub extern "C" fn floor_pi(terms: u64) -> f64 {
        super::leibniz_pi(terms)
    }

    /// # Safety
    /// `ptr` points to `len` writable i64.
    #[no_mangle]
    pub unsafe extern "C" fn floor_shuffle(ptr: *mut i64, len: usize, seed: u64) {
        // SAFETY: the caller passes a valid buffer.
        super::shuffle_in_place(unsafe { core::slice::from_raw_parts_mut(ptr, len) }, seed);
    }
}

fn mask_bytes(data: &mut [u8], key: u32) {
    let key = key.to_le_bytes();
    for (i, byte) in data.iter_mut().enumerate() {
        *byte ^= key[i & 3];
    }
}

fn leibniz_pi(terms: u64) -> f64 {
    let mut sum = 0.0;
    let mut sign = 1.0;
    for k in 0..terms {
        sum += sign / (2 * k + 1) as f64;
        sign = -sign;
    }
    4.0 * sum
}

fn shuffle_in_place(values: &mut [i64], seed: u64) {
    let mut state = seed | 1;
    for i in (1..values.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % (i as u64 + 1)) as usize;
        values.swap(i, j);
    }
}

/// Does nothing.
#[export]
pub fn noop() {}

/// `a + b`, wrapping; `add.map(a, b)` runs it over whole arrays.
#[export(batch)]
pub fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

/// `a + b`, wrapping, as an `async fn`: the async round trip (start on the
/// library's executor, completion to the asyncio loop, finish) around the
/// same work as `add`.
#[export]
pub async fn add_async(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

/// Half of `x`: a float in, a float out.
#[export]
pub fn half(x: f64) -> f64 {
    x * 0.5
}

/// The error of `fail`: a value it refuses.
#[derive(Debug)]
pub struct BenchError(pub i64);

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad value {}", self.0)
    }
}

/// Always fails: the cost of a raised `Err` (typed exception, message).
#[export]
pub fn fail(x: i64) -> Result<i64, BenchError> {
    Err(BenchError(x))
}

/// `text` upper-cased: a string round trip.
#[export]
pub fn upper(text: &str) -> String {
    text.to_uppercase()
}

/// The sum of `values`.
#[export]
pub fn sum(values: &[f64]) -> f64 {
    values.iter().sum()
}

/// The sum of an owned vector (a list of ints converted).
#[export]
pub fn sum_owned(values: Vec<i64>) -> i64 {
    values.into_iter().fold(0, i64::wrapping_add)
}

/// The sum of a map's values (a dict converted).
#[export]
pub fn total_count(counts: std::collections::HashMap<String, u32>) -> u32 {
    counts.values().fold(0, |a, b| a.wrapping_add(*b))
}

/// XORs `data` with the 4-byte websocket `key`, in place.
#[export]
pub fn mask(data: &mut [u8], key: u32) {
    mask_bytes(data, key);
}

/// `0.0, 1.0, …, n - 1`.
#[export]
pub fn range(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64).collect()
}

/// A user record.
#[export]
pub struct User {
    pub id: u32,
    pub name: String,
    pub score: f64,
}

/// A user, returned by value.
#[export]
pub fn make_user(id: u32) -> User {
    User {
        id,
        name: format!("user{id}"),
        score: f64::from(id) * 1.5,
    }
}

/// A number from every field of a user passed in.
#[export]
pub fn score_of(user: &User) -> f64 {
    f64::from(user.id) + user.score + user.name.len() as f64
}

/// A counter object.
#[derive(Default)]
pub struct Counter(u64);

/// A counter object.
#[export]
impl Counter {
    /// At zero.
    pub fn new() -> Counter {
        Counter(0)
    }

    /// Adds one.
    pub fn incr(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

/// `f(x)`: one callback call.
#[export]
pub fn apply_once(x: f64, f: Callback<fn(f64) -> f64>) -> f64 {
    f.call(x)
}

/// π from `terms` terms of the Leibniz series.
#[export]
pub fn pi(terms: u64) -> f64 {
    leibniz_pi(terms)
}

/// Shuffles `values` in place (Fisher–Yates, xorshift from `seed`).
#[export]
pub fn shuffle(values: &mut [i64], seed: u64) {
    shuffle_in_place(values, seed);
}

/// Something with a method Rust calls (implemented in Python).
#[export]
pub trait Ticker: Send + Sync {
    /// A number for `i`.
    fn tick(&self, i: u64) -> u64;
}

/// The sum of `ticker.tick(i)` for i in 0..count: `count` trait method
/// calls from Rust into Python.
#[export]
pub fn tick_many(ticker: Box<dyn Ticker>, count: u64) -> u64 {
    (0..count).fold(0u64, |sum, i| sum.wrapping_add(ticker.tick(i)))
}

/// `0, 1, …, n - 1`, read by the caller one item (or chunk) at a time.
#[export]
pub fn count_up(n: u64) -> impl Iterator<Item = u64> {
    0..n
}

/// `0, 1, …, n - 1` at once (the iterator row's `Vec` peer).
#[export]
pub fn count_vec(n: u64) -> Vec<u64> {
    (0..n).collect()
}

/// A key compared and hashed by value: `==` and `hash()` in Python call
/// Rust's `PartialEq` and `Hash` (the protocols row).
#[derive(PartialEq, Eq, Hash)]
pub struct Key {
    id: u64,
    name: String,
}

/// A key compared and hashed by value.
#[export(Eq, Hash)]
impl Key {
    /// The key `id`, `name`.
    pub fn new(id: u64, name: &str) -> Key {
        Key {
            id,
            name: name.to_owned(),
        }
    }
}

/// The protocols row's floor: a key behind a raw pointer, its `==` and
/// hash as plain C functions (nothing checked).
pub mod floor_key {
    use super::Key;
    use std::hash::{DefaultHasher, Hash, Hasher};

    /// # Safety
    /// `name` points to `len` bytes of UTF-8.
    #[no_mangle]
    pub unsafe extern "C" fn floor_key_new(id: u64, name: *const u8, len: usize) -> *mut Key {
        // SAFETY: forwarded contract (nothing checks it: the floor).
        let bytes = unsafe { std::slice::from_raw_parts(name, len) };
        let name = String::from_utf8_lossy(bytes).into_owned();
        Box::into_raw(Box::new(Key { id, name }))
    }

    /// # Safety
    /// `a` and `b` came from `floor_key_new`.
    #[no_mangle]
    pub unsafe extern "C" fn floor_key_eq(a: *const Key, b: *const Key) -> bool {
        // SAFETY: forwarded contract.
        unsafe { *a == *b }
    }

    /// # Safety
    /// `key` came from `floor_key_new`.
    #[no_mangle]
    pub unsafe extern "C" fn floor_key_hash(key: *const Key) -> u64 {
        let mut hasher = DefaultHasher::new();
        // SAFETY: forwarded contract.
        unsafe { &*key }.hash(&mut hasher);
        hasher.finish()
    }
}

/// Does nothing, keeping the GIL (`#[export(keep_gil)]`).
#[export(keep_gil)]
pub fn noop_kept() {}

/// The sum of `values`, keeping the GIL.
#[export(keep_gil)]
pub fn sum_kept(values: &[f64]) -> f64 {
    values.iter().sum()
}

/// `a + b`, wrapping, keeping the GIL.
#[export(keep_gil)]
pub fn add_kept(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

/// Half of `x`, keeping the GIL.
#[export(keep_gil)]
pub fn half_kept(x: f64) -> f64 {
    x * 0.5
}

/// `f(x)`: one callback call, keeping the GIL.
#[export(keep_gil)]
pub fn apply_once_kept(x: f64, f: Callback<fn(f64) -> f64>) -> f64 {
    f.call(x)
}
