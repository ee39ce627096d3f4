//! model → tokens for an export returning an iterator: the call's value
//! is registered as a `RustIter` (its handle is what the shim returns),
//! and three exports read and drop it: `<name>_iter_next(iter, max)`,
//! `<name>_iter_next_free(chunk)` and `<name>_iter_free(iter)` (see the
//! runtime's `iter` module). They name the items only through
//! `IterItems`, spanned at the item type, so an item type that cannot
//! cross is one error there.

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
        let at = AtType::new(item, "IterItems");
        // `<Items<T> as IterItems>::f` (or `Results<T>`), from the item's
        // first token to its last.
        let open = quote_spanned!(at.first=> <::ffi_export::__private::);
        let which = match iter.ok {
            None => quote_spanned!(at.first=> Items),
            Some(_) => quote_spanned!(at.first=> Results),
        };
        let items_fn = |name: &str| {
            let name = syn::Ident::new(name, at.last);
            quote_spanned!(at.last=> #open #which<#item> as ::ffi_export::__private::IterItems>::#name)
        };
        let (chunk, next, free, release) = (
            items_fn("chunk"),
            items_fn("next"),
            items_fn("free"),
            items_fn("release"),
        );
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
            pub extern "C" fn #next_ident(__ffi_iter: u64, __ffi_max: usize) -> #rt::FfiBuffer {
                #rt::call(move || #next(__ffi_iter, __ffi_max))
            }

            #[doc(hidden)]
            #[doc = "# Safety"]
            #[doc = "`value` is NULL or points to a chunk the paired `_iter_next` returned."]
            // SAFETY: `<name>_iter_next_free` of a checked export name (validate::c_symbol).
            #[unsafe(export_name = #next_free_name)]
            #[allow(non_snake_case, clippy::type_complexity)]
            pub unsafe extern "C" fn #next_free_ident(value: *mut #rt::FfiBuffer) {
                // SAFETY: the caller passes NULL or a chunk `_iter_next`
                // returned, once (the function's contract).
                unsafe { #free(value) }
            }

            #[doc(hidden)]
            // SAFETY: `<name>_iter_free` of a checked export name (validate::c_symbol).
            #[unsafe(export_name = #free_name)]
            #[allow(non_snake_case, clippy::type_complexity)]
            pub extern "C" fn #free_ident(__ffi_iter: u64) {
                #rt::call(move || #release(__ffi_iter))
            }
        };
        // The fast path's `_iter_next` (plain items only: a `Result` item's
        // error is raised at its own position, which the ctypes reader does).
        let py_ident = hidden_ident("py_iter_next", c_name);
        let native = match iter.ok {
            None => quote! {
                #[#rt::linkme::distributed_slice(#rt::python::PY_ITER_NEXTS)]
                #[linkme(crate = #rt::linkme)]
                #[doc(hidden)]
                #[allow(non_upper_case_globals, clippy::type_complexity)]
                static #py_ident: #rt::python::IterNextDesc = #rt::python::IterNextDesc {
                    name: #next_name,
                    entry: || {
                        #[allow(unused_imports)]
                        use #rt::python::{NativeChunk as _, NoNativeChunk as _};
                        (&#rt::python::ChunkOf::<#item>::new()).entry()
                    },
                };
            },
            Some(_) => TokenStream::new(),
        };
        let items = quote! {
            #items
            #native
        };
        let iter_desc = quote! {
            #rt::TypeDesc::Iterator(&#rt::IterDesc {
                chunk: #chunk,
                next: #next_name,
                next_free: #next_free_name,
                free: #free_name,
            })
        };
        // `Result<impl Iterator, E>`: the call's `Result<u64, E>`, described
        // with the iterator as its `Ok`.
        let (ret_ty, desc) = match &iter.error {
            None => (syn::parse_quote!(u64), iter_desc),
            Some(error) => (
                syn::parse_quote!(::core::result::Result<u64, #error>),
                quote! {
                    <::core::result::Result<u64, #error> as #rt::IntoFfi>::DESC.with_ok(&#iter_desc)
                },
            ),
        };
        IterExport {
            ret_ty,
            items,
            desc,
        }
    }

    /// `call`'s iterator registered: its handle.
    pub fn register(iter: &IterReturn, ret: &syn::Type, call: TokenStream) -> TokenStream {
        let item = &iter.item;
        // Spanned at the return type: an iterator that is not `Send` or
        // `'static` is reported there.
        let at = AtType::new(ret, "IntoFfi");
        let root = quote_spanned!(at.first=> ::);
        let register =
            quote_spanned!(at.last=> #root ffi_export::__private::RustIter::<#item>::register);
        let value = at.wrap(&quote!(__ffi_iterator));
        match iter.error {
            None => quote! {{
                let __ffi_iterator = #call;
                #register(#value)
            }},
            // The call's `Err` is the export's; no iterator is made.
            Some(_) => quote! {
                match #call {
                    ::core::result::Result::Ok(__ffi_iterator) => {
                        ::core::result::Result::Ok(#register(#value))
                    }
                    ::core::result::Result::Err(error) => ::core::result::Result::Err(error),
                }
            },
        }
    }
}
