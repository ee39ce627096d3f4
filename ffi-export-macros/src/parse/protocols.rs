//! The protocol shims of a type (`#[export(Display, Eq, Hash)]` on a
//! struct, enum or impl block; `#[export(len)]` on a method): each is an
//! export `<prefix>_<shim>` with a synthesized signature, classified like
//! any function's, whose body `expand` writes with the trait.

use super::function::protocol_fn;
use crate::model::{ProtocolArg, ProtocolFn, ProtocolKind};
use proc_macro2::Span;
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::Type;

/// How a type's operands cross: records and enums are copied in (operators
/// take them by value), objects are borrowed (operators take `&T`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Operands {
    /// A record or enum.
    Values,
    /// An object of an `#[export] impl`.
    Borrowed,
    /// A field-less enum: its integer, by value.
    Integer,
}

/// One shim per distinct protocol of `args` (`PartialEq` and `Eq` make one
/// `eq`, the stronger one's; a protocol listed twice is reported by
/// `validate` and made once). Method roles (`len`, `bool`) are left to
/// [`method_role`].
pub fn protocols(
    args: &[ProtocolArg],
    owner: &Type,
    c_prefix: &str,
    operands: Operands,
) -> Vec<ProtocolFn> {
    let mut shims: Vec<ProtocolFn> = Vec::new();
    for arg in args.iter().filter(|arg| !arg.protocol.is_method_role()) {
        let protocol = arg.protocol;
        let stronger = matches!(protocol, ProtocolKind::Eq | ProtocolKind::Ord);
        let span = arg.path.span();
        match shims
            .iter_mut()
            .find(|shim| shim.protocol.shim() == protocol.shim())
        {
            // `Eq` after `PartialEq`: one shim, which also checks `T: Eq`.
            Some(shim) if stronger && shim.protocol != protocol => {
                shim.protocol = protocol;
                shim.span = span;
            }
            Some(_) => {}
            None => {
                if let Some(export) = shim_fn(arg, owner, c_prefix, operands) {
                    shims.push(ProtocolFn {
                        protocol,
                        span,
                        export,
                        method: None,
                    });
                }
            }
        }
    }
    shims
}

/// The shim of a method marked `#[export(len)]` or `#[export(bool)]`.
pub fn method_role(
    protocol: ProtocolKind,
    span: Span,
    method: &syn::Ident,
    owner: &Type,
    c_prefix: &str,
) -> ProtocolFn {
    let ret = match protocol {
        ProtocolKind::Len => quote_spanned!(span=> usize),
        _ => quote_spanned!(span=> bool),
    };
    let sig = quote_spanned!(span=> fn __ffi_protocol(&self) -> #ret);
    ProtocolFn {
        protocol,
        span,
        export: protocol_fn(owner, c_prefix, protocol.shim(), sig, span, true),
        method: Some(method.clone()),
    }
}

/// The export of one protocol's shim; `None` for `Index` without its
/// index type (reported by `validate`).
fn shim_fn(
    arg: &ProtocolArg,
    owner: &Type,
    c_prefix: &str,
    operands: Operands,
) -> Option<crate::model::ExportFn> {
    let span = arg.path.span();
    let by_value = operands == Operands::Values;
    // Spanned at the trait: a missing impl is reported there, not at the type.
    let owner = &respan(owner, span);
    let sig = match arg.protocol {
        ProtocolKind::Display | ProtocolKind::Debug if operands == Operands::Integer => {
            quote_spanned!(span=> fn __ffi_protocol(value: #owner) -> ::std::string::String)
        }
        ProtocolKind::Display | ProtocolKind::Debug if !by_value => {
            quote_spanned!(span=> fn __ffi_protocol(&self) -> ::std::string::String)
        }
        ProtocolKind::Display | ProtocolKind::Debug => {
            quote_spanned!(span=> fn __ffi_protocol(value: &#owner) -> ::std::string::String)
        }
        ProtocolKind::PartialEq | ProtocolKind::Eq if !by_value => {
            quote_spanned!(span=> fn __ffi_protocol(&self, other: &#owner) -> bool)
        }
        ProtocolKind::PartialEq | ProtocolKind::Eq => {
            quote_spanned!(span=> fn __ffi_protocol(a: &#owner, b: &#owner) -> bool)
        }
        ProtocolKind::Hash if !by_value => quote_spanned!(span=> fn __ffi_protocol(&self) -> u64),
        ProtocolKind::Hash => quote_spanned!(span=> fn __ffi_protocol(value: &#owner) -> u64),
        ProtocolKind::PartialOrd | ProtocolKind::Ord if !by_value => {
            quote_spanned!(span=> fn __ffi_protocol(&self, other: &#owner) -> ::core::option::Option<i8>)
        }
        ProtocolKind::PartialOrd | ProtocolKind::Ord => {
            quote_spanned!(span=> fn __ffi_protocol(a: &#owner, b: &#owner) -> ::core::option::Option<i8>)
        }
        ProtocolKind::Clone => quote_spanned!(span=> fn __ffi_protocol(value: &#owner) -> #owner),
        ProtocolKind::Default => quote_spanned!(span=> fn __ffi_protocol() -> #owner),
        ProtocolKind::Add | ProtocolKind::Sub | ProtocolKind::Mul | ProtocolKind::Div => {
            let name = syn::Ident::new(arg.protocol.name(), span);
            match by_value {
                true => quote_spanned!(span=>
                    fn __ffi_protocol(a: #owner, b: #owner) -> <#owner as ::core::ops::#name>::Output),
                false => quote_spanned!(span=>
                    fn __ffi_protocol(a: &#owner, b: &#owner)
                        -> <&'static #owner as ::core::ops::#name<&'static #owner>>::Output),
            }
        }
        ProtocolKind::Neg => match by_value {
            true => quote_spanned!(span=>
                fn __ffi_protocol(a: #owner) -> <#owner as ::core::ops::Neg>::Output),
            false => quote_spanned!(span=>
                fn __ffi_protocol(a: &#owner) -> <&'static #owner as ::core::ops::Neg>::Output),
        },
        ProtocolKind::Index if !by_value => {
            let index = arg.arg.as_ref()?;
            quote_spanned!(span=>
                fn __ffi_protocol(&self, index: #index)
                    -> <#owner as ::core::ops::Index<#index>>::Output)
        }
        ProtocolKind::Index => {
            let index = arg.arg.as_ref()?;
            quote_spanned!(span=>
                fn __ffi_protocol(value: &#owner, index: #index)
                    -> <#owner as ::core::ops::Index<#index>>::Output)
        }
        ProtocolKind::Len | ProtocolKind::Bool => return None,
    };
    Some(protocol_fn(
        owner,
        c_prefix,
        arg.protocol.shim(),
        sig,
        span,
        operands == Operands::Borrowed,
    ))
}

/// `ty` with every token spanned at `span`.
fn respan(ty: &Type, span: Span) -> Type {
    fn walk(tokens: proc_macro2::TokenStream, span: Span) -> proc_macro2::TokenStream {
        tokens
            .into_iter()
            .map(|mut token| {
                if let proc_macro2::TokenTree::Group(group) = &token {
                    let mut new =
                        proc_macro2::Group::new(group.delimiter(), walk(group.stream(), span));
                    new.set_span(span);
                    return proc_macro2::TokenTree::Group(new);
                }
                token.set_span(span);
                token
            })
            .collect()
    }
    syn::parse2(walk(quote::ToTokens::to_token_stream(ty), span)).unwrap_or_else(|_| ty.clone())
}
