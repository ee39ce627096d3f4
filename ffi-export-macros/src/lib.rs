//! The `#[export]` attribute of ffi-export. Pipeline: `parse` (syn → model),
//! `validate` (every rejected signature, all errors at once), `expand`
//! (model → C shim, paired free, self-description entry).

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
/// `#[export(name = "symbol")]` exports under another C name.
#[proc_macro_attribute]
pub fn export(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::export(args.into(), item.into()).into()
}
