//! # ffi-export
//!
//! Put `#[ffi_export::export]` on an ordinary Rust function, build the crate
//! as a `cdylib`, and call it from Python with `ffi_export.load(path)`: no
//! hand-written `extern "C"`, `argtypes`, string encoding, error structs or
//! `*_free` calls.
//!
//! ```
//! #[ffi_export::export]
//! /// Adds two numbers.
//! pub fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! // The Rust function is unchanged...
//! assert_eq!(add(2, 3), 5);
//!
//! // ...and a C function named `add` exists beside it, which is what
//! // Python (or C, or cffi) calls.
//! mod c {
//!     extern "C" {
//!         pub fn add(a: i64, b: i64) -> i64;
//!     }
//! }
//! // SAFETY: the C shim of `add` takes two int64_t.
//! assert_eq!(unsafe { c::add(40, 2) }, 42);
//! ```
//!
//! `Cargo.toml` needs `crate-type = ["cdylib"]` (plus `"rlib"` to also use
//! the crate from Rust); then `ffi-export python-helper DIR` writes the
//! Python helper, stdlib only (and its tools, for stubs and a C header):
//!
//! ```python
//! import ffi_export
//! lib = ffi_export.load("target/release/libmylib.so")
//! lib.add(2, 3)        # 5
//! ```
//!
//! # Records, errors, objects, callbacks
//!
//! Everything a signature mentions crosses by value with checks on the way
//! in; `Result` errors become Python exceptions, panics are caught, and
//! `#[export] impl` types live in Rust behind a checked handle:
//!
//! ```
//! use ffi_export::{export, Callback};
//!
//! /// One visit in a guest book: a record (a Python class with fields).
//! #[export]
//! #[derive(Debug, Clone, PartialEq)]
//! pub struct Visit {
//!     pub name: String,
//!     pub times: u32,
//! }
//!
//! /// The error of `sign`: `lib.errors.EmptyName` in Python.
//! #[derive(Debug)]
//! pub struct EmptyName;
//!
//! impl std::fmt::Display for EmptyName {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("the name is empty")
//!     }
//! }
//!
//! /// A guest book: `with lib.Guestbook() as book: book.sign("Ada")`.
//! pub struct Guestbook {
//!     visits: Vec<Visit>,
//! }
//!
//! #[export]
//! impl Guestbook {
//!     /// The constructor: `lib.Guestbook()`.
//!     pub fn new() -> Guestbook {
//!         Guestbook { visits: Vec::new() }
//!     }
//!
//!     /// A method: exported as `Guestbook_sign(uint64_t handle, ...)`.
//!     pub fn sign(&mut self, name: &str) -> Result<Visit, EmptyName> {
//!         if name.is_empty() {
//!             return Err(EmptyName);
//!         }
//!         let visit = Visit { name: name.to_owned(), times: 1 };
//!         self.visits.push(visit.clone());
//!         Ok(visit)
//!     }
//! }
//!
//! /// A Python function borrowed for the call: `lib.apply(array, lambda v: v * 2)`.
//! #[export]
//! pub fn apply(values: &mut [f64], f: Callback<fn(f64) -> f64>) {
//!     for value in values {
//!         *value = f.call(*value);
//!     }
//! }
//!
//! let mut book = Guestbook::new();
//! assert_eq!(book.sign("Ada").unwrap(), Visit { name: "Ada".into(), times: 1 });
//! assert_eq!(book.sign("").unwrap_err().to_string(), "the name is empty");
//! ```
//!
//! Unsupported signatures do not compile, with a message saying what to
//! write instead:
//!
//! ```compile_fail
//! #[ffi_export::export]
//! pub fn keep(text: &String) -> usize { // error: take `&str` instead of `&String`
//!     text.len()
//! }
//! ```
//!
//! See the README for the type mapping, `docs/GUIDE.md` for ownership,
//! errors, objects, threads and migrating a ctypes binding, and
//! [`ffi_export_runtime`]'s documentation for the C contract.

#![warn(missing_docs)]

pub use ffi_export_macros::export;
pub use ffi_export_runtime::{
    code, Allocator, Callback, FfiBuffer, FfiData, FfiElement, FfiError, FfiOption, FfiParam,
    IntoFfi, ABI_VERSION, PYTHON_HELPER, PYTHON_TOOLS,
};

/// `async fn` exports: [`task::set_spawner`] hands their futures to your
/// own runtime (tokio, ..) instead of the built-in threads; the C contract
/// of a task (start, `on_done`, `_finish`, `ffi_export_task_cancel`).
pub use ffi_export_runtime::task;

/// Used by the code `#[export]` generates; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use ffi_export_runtime::data::FfiValue;
    pub use ffi_export_runtime::*;
}
