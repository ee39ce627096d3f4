//! What is emitted for an item `validate` rejected (the way thiserror's
//! fallback does it): the item itself, so rustc still checks its body, the
//! errors, and, for a type, stand-in impls of the runtime traits, so that
//! its uses elsewhere (`fn f(x: Rejected)`) add no errors of their own. The
//! crate does not compile, so the stand-ins never run.

use crate::errors::Errors;
use crate::model::Item;
use crate::tokens::runtime;
use proc_macro2::TokenStream;
use quote::{quote, ToTokens};

/// The item (as parsed: without the `#[ffi(..)]` attributes `#[export]`
/// reads, and for a function without what rustc would reject once more;
/// `input` when it is not an item) followed by `error` as `compile_error!`s, and stand-ins for a
/// rejected type.
pub fn fallback(input: TokenStream, item: Option<&Item>, error: syn::Error) -> TokenStream {
    let (item, stand_ins) = match item {
        Some(Item::Function(function)) => {
            let mut item = function.item.clone();
            // rustc would add its own error for a variadic Rust function.
            item.sig.variadic = None;
            (item.into_token_stream(), TokenStream::new())
        }
        Some(Item::Record(record)) => {
            let item = &record.item;
            let plain = record.is_plain_data() && item.generics.params.is_empty();
            (
                item.into_token_stream(),
                data(&item.ident, &item.generics, plain),
            )
        }
        Some(Item::Enum(model)) => (
            model.item.to_token_stream(),
            data(&model.item.ident, &model.item.generics, false),
        ),
        Some(Item::Object(object)) => {
            // An inherent impl of a named type: the type is this export's
            // (a trait impl may be of a type exported elsewhere).
            let owned = object.type_name.is_some()
                && object.item.trait_.is_none()
                && object.item.generics.params.is_empty();
            let stand_ins = match owned {
                true => object_data(object.owner()),
                false => TokenStream::new(),
            };
            (object.item.to_token_stream(), stand_ins)
        }
        Some(Item::Trait(model)) => (model.item.to_token_stream(), TokenStream::new()),
        Some(Item::Other(_)) | None => (input, TokenStream::new()),
    };
    let mut errors = Errors::default();
    errors.push(error);
    let errors = errors.into_compile_errors();
    quote!(#item #errors #stand_ins)
}

/// `FfiData`, `FfiLift` and `FfiParam` (and for plain data `FfiElement`
/// and `FfiPlain`) of a rejected struct or enum, crossing as nothing.
fn data(ident: &syn::Ident, generics: &syn::Generics, plain: bool) -> TokenStream {
    let rt = runtime();
    let (impl_generics, type_generics, where_clause) = generics.split_for_impl();
    let ty = quote!(#ident #type_generics);
    let plain = if plain {
        quote! {
            // SAFETY: never used (see above).
            unsafe impl #rt::FfiElement for #ty {
                type Raw = #ty;
                const DESC: #rt::TypeDesc = #rt::TypeDesc::Unit;
                fn valid(_: &[#ty]) -> bool {
                    ::core::unreachable!()
                }
            }
            // SAFETY: never used (see above).
            unsafe impl #rt::FfiPlain for #ty {
                const DESC: #rt::TypeDesc = #rt::TypeDesc::Unit;
                fn zeroed() -> Self {
                    ::core::unreachable!()
                }
            }
        }
    } else {
        TokenStream::new()
    };
    quote! {
        // SAFETY: a stand-in for a type #[export] rejected (the errors
        // above): the crate does not compile, so it never runs.
        unsafe impl #impl_generics #rt::FfiData for #ty #where_clause {
            type Repr = ();
            const DESC: #rt::TypeDesc = #rt::TypeDesc::Unit;
            const OWNED: bool = false;
            fn into_repr(self) {}
            unsafe fn free_repr(_: &mut ()) {}
        }
        // SAFETY: never used (see above).
        unsafe impl #impl_generics #rt::FfiLift for #ty #where_clause {
            unsafe fn from_repr(_: &()) -> ::core::result::Result<Self, ::std::string::String> {
                ::core::unreachable!()
            }
        }
        // SAFETY: never used (see above).
        unsafe impl #impl_generics #rt::FfiBorrow for #ty #where_clause {
            type Abi = ();
            const DESC: #rt::TypeDesc = #rt::TypeDesc::Unit;
            type Held = Self;
            unsafe fn hold(
                _: (),
                _: &'static str,
                _: &mut #rt::ObjectArgs,
            ) -> ::core::result::Result<Self, #rt::Fault> {
                ::core::unreachable!()
            }
            fn borrow<'a>(
                held: &'a Self,
                _: &'a #rt::Locked<'_>,
            ) -> ::core::result::Result<&'a Self, #rt::Fault> {
                ::core::result::Result::Ok(held)
            }
        }
        // SAFETY: never used (see above).
        unsafe impl #impl_generics #rt::FfiParam for #ty #where_clause {
            type Abi = ();
            const DESC: #rt::TypeDesc = #rt::TypeDesc::Unit;
            type Lifted<'s> = Self;
            unsafe fn lift(
                _: (),
                _: &'static str,
                _: &#rt::CallScope,
            ) -> ::core::result::Result<Self, #rt::Fault> {
                ::core::unreachable!()
            }
        }
        #plain
    }
}

/// `FfiData` of the object type of a rejected impl block (returned
/// objects cross through it).
fn object_data(owner: &syn::Type) -> TokenStream {
    let rt = runtime();
    quote! {
        // SAFETY: a stand-in for an object whose #[export] impl was rejected
        // (the errors above): the crate does not compile, so it never runs.
        unsafe impl #rt::FfiData for #owner {
            type Repr = u64;
            const DESC: #rt::TypeDesc = #rt::TypeDesc::Unit;
            const OWNED: bool = false;
            fn into_repr(self) -> u64 {
                ::core::unreachable!()
            }
            unsafe fn free_repr(_: &mut u64) {}
        }
    }
}
