//! `impl` blocks: the object type, its C prefix and its `pub fn`s.

use super::function::{method, strip_param_attrs};
use super::syntax::{attribute_args, doc_lines};
use crate::model::{MethodRole, Object};
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
    if let Some(c_prefix) = &c_prefix {
        for impl_item in &mut item.items {
            if let ImplItem::Fn(f) = impl_item {
                if matches!(f.vis, Visibility::Public(_)) {
                    let param_attrs = strip_param_attrs(&mut f.sig);
                    let role = take_role(&mut f.attrs);
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
        args,
        item,
    }
}

/// Takes `#[export(getter)]` / `#[export(setter)]` off a method (the impl
/// block's `#[export]` handles them; left on, they would expand again).
fn take_role(attrs: &mut Vec<syn::Attribute>) -> MethodRole {
    let mut role = MethodRole::default();
    attrs.retain(|attr| {
        if !attr.path().is_ident("export") {
            return true;
        }
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("getter") {
                role.getter = Some(meta.path.span());
            } else if meta.path.is_ident("setter") {
                role.setter = Some(meta.path.span());
            } else {
                role.unknown.push(meta.path.clone());
            }
            Ok(())
        });
        if let (Err(error), syn::Meta::List(_)) = (parsed, &attr.meta) {
            role.malformed = Some(error);
        } else if !matches!(attr.meta, syn::Meta::List(_)) {
            role.unknown.push(attr.path().clone());
        }
        false
    });
    role
}
