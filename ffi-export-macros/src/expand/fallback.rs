//! What is emitted for an item `validate` rejected: the item itself (so
//! rustc checks its body and no use of it is reported as missing) and the
//! errors, nothing generated from it.

use crate::errors::Errors;
use crate::model::Item;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// `input` (or the function, without what rustc would reject once more)
/// followed by `error` as `compile_error!`s.
pub fn fallback(input: TokenStream, item: Option<&Item>, error: syn::Error) -> TokenStream {
    let item = match item {
        Some(Item::Function(function)) => {
            let mut item = function.item.clone();
            // rustc would add its own error for a variadic Rust function.
            item.sig.variadic = None;
            item.into_token_stream()
        }
        _ => input,
    };
    let mut errors = Errors::default();
    errors.push(error);
    let errors = errors.into_compile_errors();
    quote!(#item #errors)
}
