//! `impl` blocks: the object type and its `pub fn`s.

use super::function::method;
use super::syntax::doc_lines;
use crate::model::Object;
use proc_macro2::TokenStream;
use syn::{ImplItem, ItemImpl, Type, Visibility};

/// The model of `#[export] impl Type { .. }`. Methods are modelled only
/// for a named, non-generic type (anything else is rejected as a whole).
pub fn object(args: TokenStream, item: ItemImpl) -> Object {
    let type_name = match &*item.self_ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    }
    .filter(|segment| segment.arguments.is_empty())
    .map(|segment| segment.ident.to_string());
    let methods = match &type_name {
        Some(type_name) => item
            .items
            .iter()
            .filter_map(|impl_item| match impl_item {
                ImplItem::Fn(f) if matches!(f.vis, Visibility::Public(_)) => {
                    Some(method(&item.self_ty, type_name, &item.generics, f))
                }
                _ => None,
            })
            .collect(),
        None => Vec::new(),
    };
    Object {
        doc: doc_lines(&item.attrs),
        type_name,
        methods,
        args,
        item,
    }
}
