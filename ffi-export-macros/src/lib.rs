//! The `#[export]` attribute of ffi-export. Use it through the `ffi-export`
//! crate (`ffi_export::export`), whose documentation has runnable examples;
//! this crate only holds the procedural macro.
//!
//! Pipeline: `parse` (syn → model), `validate` (every rejected signature,
//! all errors at once), `expand` (model → C shim, paired free,
//! self-description entry). For
//!
//! ```text
//! #[export]
//! pub fn repeat(text: &str, times: u32) -> String { .. }
//! ```
//!
//! it keeps `repeat` as written and adds, in C terms:
//!
//! ```text
//! FfiBuffer repeat(const uint8_t *text, size_t text_len, uint32_t times);
//! void repeat_free(FfiBuffer *value);
//! ```
//!
//! plus the entry describing both in the library's `ffi_export_describe()`
//! JSON. `python ffi_export.py header LIBRARY` prints these declarations for
//! a built library.

#![warn(missing_docs)]

mod errors;
mod expand;
mod model;
mod object;
mod parse;
mod record;
mod validate;

use proc_macro::TokenStream;

/// Exports a function through the C ABI and describes it to the Python
/// helper. See the `ffi-export` crate for the supported signatures.
///
/// On a `fn`: a C shim and, for owned results, `<name>_free`. On a struct
/// or enum: makes it crossable (a record, a plain-data `#[repr(C)]` struct,
/// an enum with or without data). On an inherent `impl` block: every `pub
/// fn` as `<Type>_<fn>`, plus `<Type>_free`.
///
/// `#[export(name = "symbol")]` exports under another C name;
/// `#[export(batch)]` also exports `<name>_batch`, the function looped over
/// arrays.
#[proc_macro_attribute]
pub fn export(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::export(args.into(), item.into()).into()
}
