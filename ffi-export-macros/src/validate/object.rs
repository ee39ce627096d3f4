//! Rules for `impl` blocks: an inherent impl of a named, non-generic type,
//! with at least one `pub fn`, each a valid export; `name = ".."` (the C
//! prefix of its symbols) as its only argument.

use super::function::method;
use super::protocols::Owner;
use super::symbol::{c_identifier, c_prefix};
use crate::errors::Errors;
use crate::model::{Args, ExportFn, FnKind, Object};
use syn::ext::IdentExt;

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
    if symbols {
        // The C header declares the object's handle type as `<prefix>_handle`.
        let handle_type = format!("{prefix}_handle");
        for export in object.methods.iter().filter(|m| m.c_name == handle_type) {
            errors.error(
                &export.sig.ident,
                format!(
                    "`{handle_type}` is the C header's name of this object's handle type: \
                     rename this method (e.g. `get_handle`)"
                ),
            );
        }
    }
    super::protocols::type_args(&object.args, Owner::Object, "an impl block", errors);
    super::protocols::method_marks(object, errors);
    properties(&object.methods, errors);
}

/// Records the problems of `#[export(getter)]` / `#[export(setter)]` on
/// methods: a getter is `&self` (or `self: Arc<Self>`) with no parameters
/// and a result; a setter is a method `set_<name>` of one parameter whose
/// property has a getter; nothing else is an argument there.
fn properties(methods: &[ExportFn], errors: &mut Errors) {
    let getters: Vec<String> = methods
        .iter()
        .filter(|export| export.role.getter.is_some())
        .map(|export| export.sig.ident.unraw().to_string())
        .collect();
    for export in methods {
        let role = &export.role;
        let receiver = export.kind.has_receiver();
        let mutable = matches!(export.kind, FnKind::Method { mutable: true });
        if let (Some(getter), Some(_)) = (role.getter, role.setter) {
            errors.push(syn::Error::new(
                getter,
                "a method is a getter or a setter, not both: write `set_<name>` for the setter",
            ));
            continue;
        }
        if let Some(span) = role.getter {
            if !receiver || mutable || !export.params.is_empty() || export.ret.ty.is_none() {
                errors.push(syn::Error::new(
                    span,
                    "a getter is a `&self` method without parameters that returns the value \
                     (`pub fn volume(&self) -> u8`); Python reads it as `obj.volume`",
                ));
            }
        }
        if let Some(span) = role.setter {
            let name = export.sig.ident.unraw().to_string();
            let Some(property) = name.strip_prefix("set_").filter(|p| !p.is_empty()) else {
                errors.push(syn::Error::new(
                    export.sig.ident.span(),
                    format!(
                        "a setter is named `set_<property>` (`set_{name}` sets `obj.{name}`); \
                         rename it"
                    ),
                ));
                continue;
            };
            if !receiver || export.params.len() != 1 {
                errors.push(syn::Error::new(
                    span,
                    format!(
                        "a setter is a method of one parameter, the new value \
                         (`pub fn set_{property}(&mut self, value: T)`); Python calls it for \
                         `obj.{property} = value`"
                    ),
                ));
            }
            if !getters.iter().any(|getter| getter == property) {
                errors.push(syn::Error::new(
                    span,
                    format!(
                        "the setter of `{property}` needs a getter: mark \
                         `pub fn {property}(&self) -> T` with #[export(getter)] (a property \
                         Python cannot read is not one)"
                    ),
                ));
            }
        }
    }
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
