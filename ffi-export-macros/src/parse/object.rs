//! `impl` blocks: the object type and its `pub fn`s.

use super::function::{method, strip_param_attrs};
use super::syntax::doc_lines;
use crate::model::Object;
use proc_macro2::TokenStream;
use syn::{ImplItem, ItemImpl, Type, Visibility};

/// The model of `#[export] impl Type { .. }`. Methods are modelled only
/// for a named, non-generic type (anything else is rejected as a whole).
pub fn object(args: TokenStream, mut item: ItemImpl) -> Object {
    let type_name = match &*item.self_ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    }
    .filter(|segment| segment.arguments.is_empty())
    .map(|segment| segment.ident.to_string());
    let mut methods = Vec::new();
    if let Some(type_name) = &type_name {
        for impl_item in &mut item.items {
            if let ImplItem::Fn(f) = impl_item {
                if matches!(f.vis, Visibility::Public(_)) {
                    let param_attrs = strip_param_attrs(&mut f.sig);
                    methods.push(method(
                        &item.self_ty,
                        type_name,
                        &item.generics,
                        f,
                        &param_attrs,
                    ));
                }
            }
        }
    }
    Object {
        doc: doc_lines(&item.attrs),
        type_name,
        methods,
        args,
        item,
    }
}
