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
//! // ...and a C shim named `add` exists beside it.
//! ```
//!
//! See the README for the type mapping and the C contract, which
//! [`ffi_export_runtime`]'s documentation also states.

pub use ffi_export_macros::export;
pub use ffi_export_runtime::{
    code, Allocator, Callback, FfiBuffer, FfiData, FfiElement, FfiError, FfiOption, FfiParam,
    IntoFfi, ABI_VERSION, PYTHON_HELPER,
};

/// Used by the code `#[export]` generates; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use ffi_export_runtime::*;
}
