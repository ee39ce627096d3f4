//! `trait` items: the methods a caller's implementation provides.

use super::object::object;
use super::syntax::{doc_lines, typed_params};
use crate::model::{Trait, TraitMethod};
use proc_macro2::TokenStream;
use quote::format_ident;
use syn::{ItemTrait, TraitItem};

/// The model of `#[export(args)] trait Name { .. }`.
pub fn exported_trait(args: TokenStream, item: ItemTrait) -> Trait {
    let methods = item
        .items
        .iter()
        .filter_map(|member| match member {
            TraitItem::Fn(f) => Some(method(f)),
            _ => None,
        })
        .collect::<Vec<_>>();
    let rust_object = object(TokenStream::new(), rust_object_impl(&item, &methods));
    Trait {
        doc: doc_lines(&item.attrs),
        args,
        methods,
        item,
        rust_object,
    }
}

/// `impl Dyn<Trait> { pub fn m(&self, a: A) -> R { Trait::m(&*self.0, a) } .. }`
/// for the `&self` methods (the others are rejected).
fn rust_object_impl(item: &ItemTrait, methods: &[TraitMethod]) -> syn::ItemImpl {
    let ident = &item.ident;
    let object = format_ident!("Dyn{}", ident);
    let fns = methods.iter().filter(|m| m.by_ref).map(|m| {
        let name = &m.sig.ident;
        let docs = m.doc.lines().map(|line| quote::quote!(#[doc = #line]));
        let params: Vec<_> = m
            .params
            .iter()
            .map(|(param, _)| format_ident!("{}", param))
            .collect();
        let types = m.params.iter().map(|(_, ty)| ty);
        let output = &m.sig.output;
        quote::quote! {
            #(#docs)*
            pub fn #name(&self, #(#params: #types),*) #output {
                #ident::#name(&*self.0, #(#params),*)
            }
        }
    });
    let doc = format!("A Rust implementation of `{ident}`.");
    syn::parse_quote! {
        #[doc = #doc]
        impl #object {
            #(#fns)*
        }
    }
}

fn method(f: &syn::TraitItemFn) -> TraitMethod {
    let by_ref = matches!(
        f.sig.receiver().map(|receiver| &receiver.kind),
        Some(syn::ReceiverKind::Reference(_, _, None))
    );
    let params = typed_params(&f.sig)
        .map(|(_, name, typed)| (name, (*typed.ty).clone()))
        .collect();
    TraitMethod {
        sig: f.sig.clone(),
        doc: doc_lines(&f.attrs),
        by_ref,
        params,
    }
}
