//! Rules for exported traits: what a caller can implement through one C
//! dispatcher. Methods take `&self` and concrete types; no generics,
//! associated types or constants, `async fn` or `Self` by value.

use crate::errors::Errors;
use crate::model::Trait;
use syn::{FnArg, TraitItem};

/// Every problem of an `#[export] trait`.
pub fn exported_trait(model: &Trait, errors: &mut Errors) {
    let item = &model.item;
    if !model.args.is_empty() {
        errors.error(&model.args, "#[export] on a trait takes no arguments");
    }
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.error(
            &item.generics,
            "generic traits cannot be exported: the caller implements one concrete trait; \
             export a non-generic trait (one per type argument)",
        );
    }
    for member in &item.items {
        match member {
            TraitItem::Type(ty) => errors.error(
                ty,
                "associated types cannot be exported: the caller cannot choose a Rust type; \
                 use a concrete type in the method signatures",
            ),
            TraitItem::Const(konst) => errors.error(
                konst,
                "associated constants cannot be exported: a caller's implementation has none; \
                 make it a method returning the value",
            ),
            TraitItem::Fn(_) | TraitItem::Macro(_) | TraitItem::Verbatim(_) => {}
            _ => {}
        }
    }
    let bound = |name: &str| {
        item.supertraits.iter().any(|b| {
            matches!(b, syn::TypeParamBound::Trait(t) if t.path.segments.last().is_some_and(|s| s.ident == name))
        })
    };
    for supertrait in &item.supertraits {
        if let syn::TypeParamBound::Trait(t) = supertrait {
            let known = t
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "Send" || s.ident == "Sync");
            if !known {
                errors.error(
                    t,
                    "an exported trait's only supertraits are `Send + Sync`: the caller's \
                     implementation cannot implement other Rust traits; make what you need a \
                     method of the trait",
                );
            }
        }
    }
    if !bound("Send") || !bound("Sync") {
        errors.error(
            &item.ident,
            "an exported trait must be `Send + Sync` (write `trait Name: Send + Sync`): Rust may \
             keep the caller's implementation and call it from any thread, and a Rust \
             implementation returned to the caller may be called from several threads",
        );
    }
    if model.methods.is_empty() {
        errors.error(&item.ident, "an exported trait needs at least one method");
    }
    for method in &model.methods {
        let sig = &method.sig;
        if let Some(asyncness) = &sig.asyncness {
            errors.error(
                asyncness,
                "`async fn` cannot be implemented by the caller; return the value",
            );
        }
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            errors.error(
                &sig.generics,
                "generic methods cannot be exported (they are not object-safe, and the caller \
                 implements one signature); use concrete types",
            );
        }
        match sig.inputs.first() {
            Some(FnArg::Receiver(receiver)) if !method.by_ref => errors.error(
                receiver,
                "methods of an exported trait take `&self`: the caller's object is shared, \
                 and Rust may call it from several threads; keep state behind a lock on \
                 the caller's side",
            ),
            Some(FnArg::Receiver(_)) => {}
            _ => errors.error(
                &sig.ident,
                "methods of an exported trait take `&self` (an associated function without \
                 `self` cannot be called on a `dyn` object)",
            ),
        }
        if let syn::ReturnType::Type(_, ty) = &sig.output {
            if matches!(**ty, syn::Type::Reference(_) | syn::Type::ImplTrait(_)) {
                errors.error(
                    ty,
                    "methods of an exported trait return owned values (they are copied across); \
                     return `String`, `Vec<T>` or the record itself",
                );
            }
        }
        for (_, ty) in &method.params {
            if let syn::Type::Reference(reference) = ty {
                errors.error(
                    reference,
                    "parameters of an exported trait's methods are owned values (they are \
                     copied to the caller); take `String`, `Vec<T>` or the record itself",
                );
            }
        }
    }
}
