//! The protocol shims of a type (`#[export(Display, Eq, ..)]`): a hidden
//! associated function per shim, whose body calls the runtime's generic
//! function of the trait (spanned at the trait's name in the attribute, so
//! a missing impl is one error there), and its export as a callable.

use super::function::callable;
use crate::model::{ProtocolFn, ProtocolKind};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

/// The shims of `owner`'s protocols: `impl Owner { fn __ffi_eq(..) }` and
/// each one's export (`<prefix>_eq`), described with the type as owner.
pub fn protocols(owner: &syn::Type, shims: &[ProtocolFn]) -> TokenStream {
    if shims.is_empty() {
        return TokenStream::new();
    }
    let fns = shims.iter().map(|shim| {
        let sig = &shim.export.sig;
        let body = body(owner, shim);
        quote! {
            #[doc(hidden)]
            #[allow(non_snake_case, clippy::type_complexity)]
            pub #sig {
                #body
            }
        }
    });
    let exports = shims.iter().map(|shim| callable(&shim.export));
    quote! {
        #[automatically_derived]
        impl #owner {
            #(#fns)*
        }
        #(#exports)*
    }
}

/// The body of a shim: its parameters (as `parse::protocols` names them)
/// handed to the trait's runtime function.
fn body(owner: &syn::Type, shim: &ProtocolFn) -> TokenStream {
    let span = shim.span;
    // The runtime's path at the protocol too: the call's whole span is
    // then there, where the signature's missing impl is also reported
    // (rustc shows the two identical errors once).
    let rt = quote_spanned!(span=> ::ffi_export::__private);
    // An object's own shims take `&self`; a field-less enum's `value`
    // comes by value (an integer).
    let value = match shim.export.params.first().map(|param| &param.kind) {
        _ if shim.export.kind.has_receiver() => quote_spanned!(span=> self),
        Some(crate::model::ParamKind::Named(_)) => quote_spanned!(span=> &value),
        _ => quote_spanned!(span=> value),
    };
    // An object's comparisons take `&self` and `other`.
    let (a, b) = match shim.export.kind.has_receiver() {
        true => (quote_spanned!(span=> self), quote_spanned!(span=> other)),
        false => (quote_spanned!(span=> a), quote_spanned!(span=> b)),
    };
    match shim.protocol {
        ProtocolKind::Display => quote_spanned!(span=> #rt::protocol::display(#value)),
        ProtocolKind::Debug => quote_spanned!(span=> #rt::protocol::debug(#value)),
        ProtocolKind::PartialEq => quote_spanned!(span=> #rt::protocol::eq(#a, #b)),
        ProtocolKind::Eq => quote_spanned! {span=>
            #rt::protocol::total_eq::<#owner>();
            #rt::protocol::eq(#a, #b)
        },
        ProtocolKind::Hash => quote_spanned!(span=> #rt::protocol::hash(#value)),
        ProtocolKind::PartialOrd => quote_spanned!(span=> #rt::protocol::partial_cmp(#a, #b)),
        ProtocolKind::Ord => quote_spanned!(span=> #rt::protocol::cmp(#a, #b)),
        ProtocolKind::Clone => quote_spanned!(span=> #rt::protocol::clone(#value)),
        ProtocolKind::Default => quote_spanned!(span=> #rt::protocol::default()),
        ProtocolKind::Add => quote_spanned!(span=> #rt::protocol::add(a, b)),
        ProtocolKind::Sub => quote_spanned!(span=> #rt::protocol::sub(a, b)),
        ProtocolKind::Mul => quote_spanned!(span=> #rt::protocol::mul(a, b)),
        ProtocolKind::Div => quote_spanned!(span=> #rt::protocol::div(a, b)),
        ProtocolKind::Neg => quote_spanned!(span=> #rt::protocol::neg(a)),
        ProtocolKind::Index => quote_spanned!(span=> #rt::protocol::index(#value, index)),
        ProtocolKind::Len | ProtocolKind::Bool => match &shim.method {
            Some(method) => quote!(<#owner>::#method(self)),
            None => TokenStream::new(),
        },
    }
}
