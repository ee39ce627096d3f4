//! Rules for `impl` blocks: an inherent impl of a named, non-generic type,
//! with at least one `pub fn`, each a valid export; `name = ".."` (the C
//! prefix of its symbols) as its only argument.

use super::function::method;
use super::protocols::Owner;
use super::symbol::{c_identifier, c_prefix};
use crate::errors::Errors;
use crate::model::{Args, Object};

/// Every problem of an `#[export] impl`.
pub fn object(object: &Object, errors: &mut Errors) {
    let item = &object.item;
    let name_ok = args(&object.args, errors);
    if let Some((path, _)) = &item.trait_ {
        errors.error(
            path,
            "trait impls cannot be exported: put #[export] on an inherent `impl Type { .. }` \
             whose `pub fn`s call the trait methods",
        );
    }
    let last_segment = object.last_segment();
    // For messages: how to wrap one instance of a generic type.
    let newtype_hint = |name: &syn::Ident| {
        format!(
            "wrap each concrete instance in a non-generic newtype (`pub struct {name}F64({name}<f64>);`) \
             and export that newtype's impl"
        )
    };
    let generic = !item.generics.params.is_empty() || item.generics.where_clause.is_some();
    if generic {
        let hint = last_segment.map_or_else(
            || "export an impl of a non-generic type".to_owned(),
            |segment| newtype_hint(&segment.ident),
        );
        errors.error(
            &item.generics,
            format!("generic impl blocks cannot be exported: C needs one concrete type; {hint}"),
        );
    }
    let Some(type_name) = &object.type_name else {
        // A generic impl was reported above; its `Type<T>` needs no second error.
        if !generic {
            let message = match last_segment {
                Some(segment) => format!(
                    "only impls of a named, non-generic type (`impl Counter`) can be exported: {}",
                    newtype_hint(&segment.ident)
                ),
                None => "only impls of a named, non-generic type (`impl Counter`) can be exported"
                    .to_owned(),
            };
            errors.error(object.owner(), message);
        }
        return;
    };
    // (A trait impl has no `pub fn` by nature: it was reported above.)
    if object.methods.is_empty() && item.trait_.is_none() {
        errors.error(
            &item.self_ty,
            "this #[export] impl has no `pub fn`: only its `pub` associated functions are \
             exported; mark the ones to export `pub` (private and `pub(crate)` ones stay Rust-only)",
        );
    }
    // A prefix refused once is not reported again at every method.
    let prefix = object.c_prefix.as_deref().unwrap_or(type_name);
    let symbols = name_ok && c_prefix(prefix, object.c_prefix_span, errors);
    for export in &object.methods {
        method(export, symbols, errors);
    }
    super::protocols::type_args(&object.args, Owner::Object, "an impl block", errors);
    super::protocols::method_marks(object, errors);
}

/// Records the problems of `#[export(..)]`'s arguments on an impl block
/// (it takes `name = "CPrefix"`); whether the name (if any) is usable.
fn args(args: &Args, errors: &mut Errors) -> bool {
    let name_ok = args
        .name
        .as_ref()
        .is_none_or(|name| c_identifier(name, errors));
    if let Some(span) = args.batch {
        errors.push(syn::Error::new(
            span,
            "`batch` applies to free functions of numbers, not to an impl block's methods; \
             on an impl block #[export] takes `name = \"CPrefix\"`",
        ));
    }
    if let Some(span) = args.keep_gil {
        errors.push(syn::Error::new(
            span,
            "`keep_gil` applies to free functions, not to an impl block's methods; \
             on an impl block #[export] takes `name = \"CPrefix\"`",
        ));
    }
    for path in &args.unknown {
        errors.error(
            path,
            format!(
                "unknown #[export] argument; on an impl block it takes `name = \"CPrefix\"`, \
                 the prefix of its C symbols (`CPrefix_new`, `CPrefix_free`), and the Rust \
                 traits that become Python protocols: {}",
                super::protocols::TYPE_TRAITS
            ),
        );
    }
    if let Some(error) = &args.malformed {
        errors.push(error.clone());
    }
    name_ok
}
