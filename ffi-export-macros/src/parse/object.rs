//! `impl` blocks: the object type, its C prefix and its `pub fn`s.

use super::function::{method, strip_param_attrs};
use super::protocols::{method_role, protocols, Operands};
use super::syntax::{attribute_args, doc_lines};
use crate::model::{Args, MethodRole, Object};
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{ImplItem, ItemImpl, Type, Visibility};

/// The model of `#[export(args)] impl Type { .. }`. Methods are modelled
/// only for a named, non-generic type (anything else is rejected as a
/// whole).
pub fn object(args: TokenStream, mut item: ItemImpl) -> Object {
    let args = attribute_args(args);
    let type_name = match &*item.self_ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    }
    .filter(|segment| segment.arguments.is_empty())
    .map(|segment| segment.ident.to_string());
    let c_prefix = match &args.name {
        Some(name) => type_name.as_ref().map(|_| name.value()),
        None => type_name.clone(),
    };
    let c_prefix_span = match &args.name {
        Some(name) => name.span(),
        None => item
            .self_ty
            .to_token_stream()
            .into_iter()
            .last()
            .map_or_else(proc_macro2::Span::call_site, |token| token.span()),
    };
    let mut methods = Vec::new();
    let mut method_args = Vec::new();
    let mut shims = Vec::new();
    if let Some(c_prefix) = &c_prefix {
        shims = protocols(&args.protocols, &item.self_ty, c_prefix, Operands::Borrowed);
        for impl_item in &mut item.items {
            if let ImplItem::Fn(f) = impl_item {
                // `#[export(len)]` / `#[export(bool)]` / `getter` / `setter` on a
                // method: taken off
                // (an `#[export]` left there would export the method again).
                let mut marks = take_export_attrs(&mut f.attrs);
                let role = marks.as_mut().map(property_role).unwrap_or_default();
                let roles: Vec<_> = marks
                    .iter()
                    .flat_map(|marks| &marks.protocols)
                    .filter(|p| p.protocol.is_method_role())
                    .map(|p| (p.protocol, syn::spanned::Spanned::span(&p.path)))
                    .collect();
                if let Some(marks) = marks {
                    method_args.push((f.clone(), marks));
                }
                if matches!(f.vis, Visibility::Public(_)) {
                    for (protocol, span) in roles {
                        shims.push(method_role(
                            protocol,
                            span,
                            &f.sig.ident,
                            &item.self_ty,
                            c_prefix,
                        ));
                    }
                    let param_attrs = strip_param_attrs(&mut f.sig);
                    let mut export =
                        method(&item.self_ty, c_prefix, &item.generics, f, &param_attrs);
                    export.role = role;
                    methods.push(export);
                }
            }
        }
    }
    Object {
        doc: doc_lines(&item.attrs),
        type_name,
        c_prefix,
        c_prefix_span,
        methods,
        protocols: shims,
        method_args,
        args,
        item,
    }
}

/// Takes `getter` / `setter` (a property's methods) out of a method's
/// `#[export(..)]` arguments; what is left is checked as the method's marks.
fn property_role(args: &mut Args) -> MethodRole {
    let mut role = MethodRole::default();
    args.unknown.retain(|path| {
        if path.is_ident("getter") {
            role.getter = Some(path.span());
        } else if path.is_ident("setter") {
            role.setter = Some(path.span());
        } else {
            return true;
        }
        false
    });
    role
}

/// Takes the `#[export(..)]` attributes (any path ending in `export`) off
/// a method, their arguments merged (`None` when it has none).
fn take_export_attrs(attrs: &mut Vec<syn::Attribute>) -> Option<Args> {
    let mut merged = Args::default();
    let mut found = false;
    attrs.retain(|attr| {
        let is_export = attr
            .path()
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "export");
        if is_export {
            found = true;
            let tokens = match &attr.meta {
                syn::Meta::List(list) => list.tokens.clone(),
                _ => TokenStream::new(),
            };
            let args = attribute_args(tokens);
            merged.protocols.extend(args.protocols);
            merged.unknown.extend(args.unknown);
            merged.batch = merged.batch.or(args.batch);
            merged.name = merged.name.take().or(args.name);
            merged.malformed = merged.malformed.take().or(args.malformed);
            // An `#[export]` with no argument is kept as a mark too.
            merged
                .unknown
                .extend(matches!(attr.meta, syn::Meta::Path(_)).then(|| attr.path().clone()));
        }
        !is_export
    });
    found.then_some(merged)
}
