//! `trait` items: the methods a caller's implementation provides.

use super::syntax::doc_lines;
use crate::model::{Trait, TraitMethod};
use proc_macro2::TokenStream;
use syn::{FnArg, ItemTrait, Pat, TraitItem};

/// The model of `#[export(args)] trait Name { .. }`.
pub fn exported_trait(args: TokenStream, item: ItemTrait) -> Trait {
    let methods = item
        .items
        .iter()
        .filter_map(|member| match member {
            TraitItem::Fn(f) => Some(method(f)),
            _ => None,
        })
        .collect();
    Trait {
        doc: doc_lines(&item.attrs),
        args,
        methods,
        item,
    }
}

fn method(f: &syn::TraitItemFn) -> TraitMethod {
    let by_ref = matches!(
        f.sig.receiver(),
        Some(receiver) if receiver.reference.is_some() && receiver.mutability.is_none()
            && matches!(*receiver.ty, syn::Type::Reference(_))
    );
    let params = f
        .sig
        .inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some(typed),
            FnArg::Receiver(_) => None,
        })
        .enumerate()
        .map(|(index, typed)| {
            let name = match &*typed.pat {
                Pat::Ident(ident) => ident.ident.to_string().trim_start_matches("r#").to_owned(),
                _ => format!("arg{index}"),
            };
            (name, (*typed.ty).clone())
        })
        .collect();
    TraitMethod {
        sig: f.sig.clone(),
        doc: doc_lines(&f.attrs),
        by_ref,
        params,
    }
}
