//! model → tokens for an export returning an iterator: the call's value
//! is registered as a `RustIter` (its handle is what the shim returns),
//! and three exports read and drop it: `<name>_iter_next(iter, max)`,
//! `<name>_iter_next_free(chunk)` and `<name>_iter_free(iter)` (see the
//! runtime's `iter` module).

use crate::model::IterReturn;
use crate::tokens::{hidden_ident, runtime, AtType};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// The parts of an iterator export.
pub struct IterExport {
    /// The shim's Rust result type (`u64`, the handle).
    pub ret_ty: syn::Type,
    /// The `next`, `next_free` and `free` exports.
    pub items: TokenStream,
    /// The export's `ret` description, `TypeDesc::Iterator`.
    pub desc: TokenStream,
}

impl IterExport {
    /// For `iter`, returned by the export `c_name`.
    pub fn new(iter: &IterReturn, c_name: &str) -> IterExport {
        let rt = runtime();
        let item = &iter.item;
        let at_item = AtType::new(item, "IntoFfi");
        let (chunk, next) = match &iter.ok {
            None => (
                quote!(::std::vec::Vec<#item>),
                quote!(#rt::RustIter::<#item>::next_chunk(__ffi_iter, __ffi_max)),
            ),
            Some(ok) => {
                // `Result<Vec<T>, E>`: `E` is the item's error type.
                let error = quote_spanned!(at_item.last=> <#item as #rt::IterResult>::Error);
                (
                    quote!(::core::result::Result<::std::vec::Vec<#ok>, #error>),
                    quote!(#rt::RustIter::<#item>::next_results(__ffi_iter, __ffi_max)),
                )
            }
        };
        let chunk_ty: syn::Type = syn::parse_quote!(#chunk);
        let chunk_at = AtType::new(&chunk_ty, "IntoFfi");
        let abi = chunk_at.item("Abi");
        let lower = chunk_at.item("lower");
        let free = chunk_at.item("free");
        let owned = chunk_at.konst("OWNED");
        let chunk_desc = chunk_at.konst("DESC");
        let ok = iter.ok.as_ref().unwrap_or(item);
        let item_desc = AtType::new(ok, "IntoFfi").konst("DESC");
        let next_name = format!("{c_name}_iter_next");
        let next_free_name = format!("{c_name}_iter_next_free");
        let free_name = format!("{c_name}_iter_free");
        let next_ident = hidden_ident("iter_next", c_name);
        let next_free_ident = hidden_ident("iter_next_free", c_name);
        let free_ident = hidden_ident("iter_free", c_name);
        let items = quote! {
            #[doc(hidden)]
            // SAFETY: `<name>_iter_next` of a checked export name (validate::c_symbol).
            #[unsafe(export_name = #next_name)]
            #[allow(non_snake_case, clippy::type_complexity)]
            pub extern "C" fn #next_ident(__ffi_iter: u64, __ffi_max: usize) -> #abi {
                #rt::call(move || #lower(#next?))
            }

            #[doc(hidden)]
            #[doc = "# Safety"]
            #[doc = "`value` is NULL or points to a value returned by the paired `_iter_next`."]
            // SAFETY: `<name>_iter_next_free` of a checked export name (validate::c_symbol).
            #[unsafe(export_name = #next_free_name)]
            #[allow(non_snake_case, clippy::type_complexity)]
            pub unsafe extern "C" fn #next_free_ident(value: *mut #abi) {
                // SAFETY: the caller passes NULL or a chunk `_iter_next`
                // returned, once (the function's contract).
                unsafe { #free(value) }
            }

            #[doc(hidden)]
            // SAFETY: `<name>_iter_free` of a checked export name (validate::c_symbol).
            #[unsafe(export_name = #free_name)]
            #[allow(non_snake_case, clippy::type_complexity)]
            pub extern "C" fn #free_ident(__ffi_iter: u64) {
                #rt::call(move || #rt::RustIter::<#item>::free(__ffi_iter))
            }
        };
        let desc = quote! {
            #rt::TypeDesc::Iterator(&#rt::IterDesc {
                item: #item_desc,
                chunk: #chunk_desc,
                next: #next_name,
                next_free: if #owned {
                    ::core::option::Option::Some(#next_free_name)
                } else {
                    ::core::option::Option::None
                },
                free: #free_name,
            })
        };
        IterExport {
            ret_ty: syn::parse_quote!(u64),
            items,
            desc,
        }
    }

    /// `call`'s iterator registered: its handle.
    pub fn register(iter: &IterReturn, ret: &syn::Type, call: TokenStream) -> TokenStream {
        let rt = runtime();
        let item = &iter.item;
        // Spanned at the return type: an iterator that is not `Send` or
        // `'static` is reported there.
        let at = AtType::new(ret, "IntoFfi");
        quote_spanned!(at.last=> #rt::RustIter::<#item>::register(#call))
    }
}
