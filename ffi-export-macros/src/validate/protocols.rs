//! Rules for protocols (`#[export(Display, Eq, Hash)]` on a struct, enum
//! or impl block, `#[export(len)]` / `#[export(bool)]` on a method): known
//! names, each once, `Hash` with `Eq`, what each kind of type may list,
//! and the signature of a marked method. Whether the type implements the
//! trait is rustc's check, at the trait's name.

use super::text::last_segment_is;
use crate::errors::Errors;
use crate::model::{Args, Object, ProtocolArg, ProtocolKind};
use quote::ToTokens;
use std::collections::BTreeSet;

/// What the protocols are listed on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A struct (a record or plain data) or an enum with data.
    Value,
    /// A field-less enum (a Python `IntEnum`).
    FieldlessEnum,
    /// An `#[export] impl` block.
    Object,
}

/// The traits a struct, enum or impl block may list.
pub const TYPE_TRAITS: &str =
    "Display, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Clone (objects), \
                           Default, Add, Sub, Mul, Div, Neg, Index<I>";

/// Every problem of the protocols listed on a type (`what`: "a struct",
/// "an enum", "an impl block"); `name`/`batch`/unknown arguments of a
/// struct or enum too (an impl block's own are checked in `object`).
pub fn type_args(args: &Args, owner: Owner, what: &str, errors: &mut Errors) {
    if owner != Owner::Object {
        if let Some(name) = &args.name {
            errors.error(
                name,
                format!("#[export] on {what} takes no `name`: its C name is the type's"),
            );
        }
        if let Some(span) = args.batch {
            errors.push(syn::Error::new(
                span,
                format!("`batch` applies to free functions, not to {what}"),
            ));
        }
        for path in &args.unknown {
            errors.error(
                path,
                format!(
                    "unknown #[export] argument; on {what} it takes the Rust traits that become \
                     Python protocols: {TYPE_TRAITS}"
                ),
            );
        }
        if let Some(error) = &args.malformed {
            errors.push(error.clone());
        }
    }
    let mut seen = BTreeSet::new();
    for arg in &args.protocols {
        let protocol = arg.protocol;
        if !seen.insert(protocol.name()) {
            errors.error(&arg.path, format!("`{}` is listed twice", protocol.name()));
            continue;
        }
        generic_arguments(arg, errors);
        if protocol.is_method_role() {
            errors.error(
                &arg.path,
                format!(
                    "`{0}` marks a method, not {what}: write #[export({0})] on the `pub fn` that \
                     gives it (`pub fn {0}(&self) -> {1}`)",
                    protocol.name(),
                    role_type(protocol)
                ),
            );
        } else if protocol == ProtocolKind::Clone && owner != Owner::Object {
            errors.error(
                &arg.path,
                "`Clone` applies to objects (#[export(Clone)] impl ..): a record or enum is \
                 copied into Python, where `copy.copy` already works; remove `Clone`",
            );
        } else if owner == Owner::FieldlessEnum
            && !matches!(
                protocol,
                ProtocolKind::Display | ProtocolKind::Debug | ProtocolKind::Default
            )
        {
            errors.error(
                &arg.path,
                format!(
                    "a field-less enum is a Python `IntEnum`, which compares, hashes, sorts and \
                     combines by its value already: remove `{}` (it takes Display, Debug and \
                     Default)",
                    protocol.name()
                ),
            );
        }
    }
    let listed = |kind: ProtocolKind| args.protocols.iter().find(|arg| arg.protocol == kind);
    if let (Some(hash), None) = (listed(ProtocolKind::Hash), listed(ProtocolKind::Eq)) {
        errors.error(
            &hash.path,
            "`Hash` needs `Eq` in the list: Python requires values that are `==` to hash \
             alike, so hashing comes with Rust's equality; write #[export(Eq, Hash)]",
        );
    }
}

/// `Index<I>` needs its `I`; the other traits take `Self` operands and no
/// arguments.
fn generic_arguments(arg: &ProtocolArg, errors: &mut Errors) {
    let Some(segment) = arg.path.segments.last() else {
        return;
    };
    let has_arguments = !segment.arguments.is_empty();
    match arg.protocol {
        ProtocolKind::Index if arg.arg.is_none() => errors.error(
            &arg.path,
            "write the index type: `Index<usize>` (the `I` of the `Index<I>` impl Python's \
             `obj[i]` calls)",
        ),
        ProtocolKind::Index => {}
        _ if has_arguments => errors.error(
            &segment.arguments,
            format!(
                "`{0}` is exported for `Self` operands only: write `{0}` without arguments",
                arg.protocol.name()
            ),
        ),
        _ => {}
    }
}

/// The return type a method role requires.
fn role_type(protocol: ProtocolKind) -> &'static str {
    match protocol {
        ProtocolKind::Len => "usize",
        _ => "bool",
    }
}

/// Every problem of the `#[export(..)]` marks on an object's methods.
pub fn method_marks(object: &Object, errors: &mut Errors) {
    let mut roles = BTreeSet::new();
    for (method, args) in &object.method_args {
        let at = &method.sig.ident;
        let hint = "on a method #[export] takes `getter` (a `&self` method without parameters \
                    becomes a read-only property), `setter` (`set_<name>(&mut self, value: T)` \
                    makes property `<name>` writable), `len` (`pub fn len(&self) -> usize`, \
                    Python's `len()`) or `bool` (`pub fn is_empty(&self) -> bool`... Python's \
                    `bool()`)";
        for path in &args.unknown {
            errors.error(path, format!("unknown #[export] argument; {hint}"));
        }
        if let Some(name) = &args.name {
            errors.error(name, format!("`name` applies to the impl block; {hint}"));
        }
        if let Some(span) = args.batch {
            errors.push(syn::Error::new(
                span,
                format!("`batch` applies to free functions; {hint}"),
            ));
        }
        if let Some(error) = &args.malformed {
            errors.push(error.clone());
        }
        for arg in &args.protocols {
            let protocol = arg.protocol;
            if !protocol.is_method_role() {
                errors.error(
                    &arg.path,
                    format!(
                        "`{}` is a trait of the type: list it on the impl block \
                         (#[export({0})] impl ..), not on a method",
                        protocol.name()
                    ),
                );
                continue;
            }
            if !roles.insert(protocol.name()) {
                errors.error(
                    &arg.path,
                    format!("another method is already marked `{}`", protocol.name()),
                );
                continue;
            }
            if !matches!(method.vis, syn::Visibility::Public(_)) {
                errors.error(
                    at,
                    format!("a method marked `{}` must be `pub`", protocol.name()),
                );
                continue;
            }
            let expected = role_type(protocol);
            let by_ref = matches!(
                method.sig.receiver().map(|r| &r.kind),
                Some(syn::ReceiverKind::Reference(_, _, None))
            );
            let returns = match &method.sig.output {
                syn::ReturnType::Type(_, ty) => {
                    last_segment_is(ty, expected) && ty.to_token_stream().to_string() == expected
                }
                syn::ReturnType::Default => false,
            };
            if !by_ref || method.sig.inputs.len() != 1 || !returns {
                errors.error(
                    &method.sig,
                    format!(
                        "a method marked `{}` is `pub fn {}(&self) -> {expected}`: Python's \
                         `{}()` takes no argument and needs a `{expected}`",
                        protocol.name(),
                        at,
                        protocol.name()
                    ),
                );
            }
        }
    }
    // A method whose C symbol is a protocol shim's would be exported twice.
    for shim in &object.protocols {
        if let Some(method) = object
            .methods
            .iter()
            .find(|method| method.c_name == shim.export.c_name)
        {
            errors.error(
                &method.sig.ident,
                format!(
                    "`{}` is also the C symbol of the `{}` protocol shim: rename this method",
                    method.c_name,
                    shim.protocol.name()
                ),
            );
        }
    }
}
