//! The `#[export]` attribute of ffi-export. Use it through the `ffi-export`
//! crate (`ffi_export::export`), whose documentation has runnable examples;
//! this crate only holds the procedural macro.
//!
//! Pipeline, for every kind of item (function, struct, enum, impl block):
//! `parse` (syn → `model`, every parameter and return type classified),
//! `validate` (every rejection, all errors at once), `expand` (model → C
//! shims, paired frees, trait impls, self-description entries, through the
//! helpers in `tokens`). Each stage only uses the ones after it. For
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
mod parse;
mod tokens;
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
/// On a struct, enum or impl block, the Rust traits listed become Python
/// protocols (`#[export(Display, Debug, Eq, Hash, Ord, Clone, Default, Add,
/// Index<usize>)]`: `str`, `repr`, `==`, `hash`, `sorted`, `copy.copy`,
/// `T()`, `+`, `obj[i]`), each through a shim `<Type>_<protocol>`; on a
/// method of an `#[export] impl`, `#[export(len)]` and `#[export(bool)]`
/// give Python's `len()` and `bool()`.
///
/// `#[export(name = "symbol")]` exports under another C name (on an impl
/// block: `#[export(name = "Prefix")]` names its symbols `Prefix_<fn>` and
/// `Prefix_free`); `#[export(batch)]` also exports `<name>_batch`, the
/// function looped over arrays; `#[export(keep_gil)]` keeps the GIL held
/// during Python calls of a function of plain values (primitives, strings,
/// slices of numbers, owned values of those), for tiny functions. C symbols are global to the library while
/// Rust names are per module: two exports of one symbol (`geometry::area`
/// and `sprites::area`) fail to compile at both, and `name = ".."` on one
/// of them resolves it.
///
/// ```
/// use ffi_export::export;
///
/// /// Adds, refusing overflow.
/// #[export(batch)]
/// pub fn checked_add(a: i32, b: i32) -> Result<i32, String> {
///     a.checked_add(b).ok_or_else(|| format!("{a} + {b} overflows"))
/// }
///
/// /// A point; `#[repr(C)]` plain data crosses as itself.
/// #[export]
/// #[repr(C)]
/// #[derive(Clone, Copy)]
/// pub struct Point {
///     pub x: f64,
///     pub y: f64,
/// }
///
/// /// A counter held by handle.
/// pub struct Counter(u64);
///
/// #[export]
/// impl Counter {
///     /// Starts at zero.
///     pub fn new() -> Counter {
///         Counter(0)
///     }
///     /// Adds one.
///     pub fn incr(&mut self) -> u64 {
///         self.0 += 1;
///         self.0
///     }
/// }
///
/// // The Rust items are unchanged...
/// assert_eq!(checked_add(2, 3), Ok(5));
/// assert_eq!(Counter::new().incr(), 1);
/// ```
///
/// Unsupported signatures are compile errors that say what to write:
///
/// ```compile_fail
/// use ffi_export::export;
///
/// #[export]
/// pub fn length(text: &String) -> usize { // error: take `&str` instead
///     text.len()
/// }
/// ```
#[proc_macro_attribute]
pub fn export(args: TokenStream, item: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(item);
    let item = match parse::item(args.into(), input.clone()) {
        Ok(item) => item,
        Err(error) => return expand::fallback(input, None, error).into(),
    };
    match validate::item(&item).finish() {
        Ok(()) => expand::item(&item),
        Err(error) => expand::fallback(input, Some(&item), error),
    }
    .into()
}
