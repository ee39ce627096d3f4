//! Functions and methods: the attribute's arguments, the C name, every
//! parameter and the return type classified.

use super::defaults::{read_ffi_attrs, strip_ffi_attrs};
use super::syntax::{
    attribute_args, doc_lines, is_ident, is_named, is_native_value, is_primitive, is_type,
    mentions, names_primitive, replace_self, type_arguments, typed_params, unwrap_group,
};
use crate::model::{
    ExportFn, FnKind, Function, IterReturn, Param, ParamKind, Return, ReturnKind, UnsupportedParam,
    UnsupportedReturn,
};
use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType, Type};

/// The model of `#[export(args)] fn`.
pub fn function(args: TokenStream, mut item: ItemFn) -> Function {
    let args = attribute_args(args);
    let (c_name, c_name_span) = match &args.name {
        Some(name) => (name.value(), name.span()),
        None => (item.sig.ident.to_string(), item.sig.ident.span()),
    };
    let param_attrs = strip_param_attrs(&mut item.sig);
    let mut export = callable(
        &item.sig,
        &item.attrs,
        &param_attrs,
        c_name,
        c_name_span,
        None,
        &[],
    );
    export.batch = args.batch;
    export.keep_gil = args.keep_gil;
    Function { item, args, export }
}

/// Takes the `#[ffi(..)]` attributes off the parameters of `sig`: those of
/// each typed parameter, in order.
pub fn strip_param_attrs(sig: &mut syn::Signature) -> Vec<Vec<syn::Attribute>> {
    sig.inputs
        .iter_mut()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some(strip_ffi_attrs(&mut typed.attrs)),
            FnArg::Receiver(_) => None,
        })
        .collect()
}

/// The model of a `pub fn` in an `#[export] impl` of `owner`, named
/// `<prefix>_<method>` in C (the prefix is the type's name, or the impl's
/// `name = ".."`); `param_attrs` are the `#[ffi(..)]` attributes taken
/// off its parameters.
pub fn method(
    owner: &Type,
    c_prefix: &str,
    impl_generics: &syn::Generics,
    item: &syn::ImplItemFn,
    param_attrs: &[Vec<syn::Attribute>],
) -> ExportFn {
    let c_name = format!("{c_prefix}_{}", item.sig.ident);
    let mut sig = item.sig.clone();
    // `Self` means the owner everywhere in generated code (shims live
    // outside the impl block).
    for input in sig.inputs.iter_mut() {
        if let FnArg::Typed(typed) = input {
            *typed.ty = replace_self(&typed.ty, owner);
        }
    }
    if let ReturnType::Type(_, ty) = &mut sig.output {
        **ty = replace_self(ty, owner);
    }
    let span = item.sig.ident.span();
    let impl_lifetimes: Vec<_> = impl_generics
        .lifetimes()
        .map(|l| l.lifetime.clone())
        .collect();
    let mut export = callable(
        &sig,
        &item.attrs,
        param_attrs,
        c_name,
        span,
        Some(owner),
        &impl_lifetimes,
    );
    export.kind = match item.sig.receiver().map(|receiver| &receiver.kind) {
        Some(syn::ReceiverKind::Reference(_, _, mutability)) => FnKind::Method {
            mutable: mutability.is_some(),
        },
        Some(syn::ReceiverKind::Typed(_, ty)) if is_named(ty, "Arc") => FnKind::SharedMethod,
        // A receiver by value: `validate` rejects it.
        Some(_) => FnKind::Static,
        None if export.ret.has_self => FnKind::Constructor,
        None => FnKind::Static,
    };
    export
}

fn callable(
    sig: &syn::Signature,
    attrs: &[syn::Attribute],
    param_attrs: &[Vec<syn::Attribute>],
    c_name: String,
    c_name_span: proc_macro2::Span,
    owner: Option<&Type>,
    impl_lifetimes: &[syn::Lifetime],
) -> ExportFn {
    let declared_lifetimes = sig
        .generics
        .lifetimes()
        .map(|l| l.lifetime.clone())
        .chain(impl_lifetimes.iter().cloned())
        .collect();
    let params = typed_params(sig)
        .map(|(index, name, typed)| {
            let kind = param_kind(&typed.ty);
            Param {
                name,
                ty: (*typed.ty).clone(),
                native: matches!(kind, ParamKind::Named(_) | ParamKind::Option(_))
                    && is_native_value(&typed.ty),
                kind,
                span: typed.span(),
                ffi: read_ffi_attrs(
                    param_attrs.get(index).map_or(&[][..], Vec::as_slice),
                    &typed.ty,
                ),
            }
        })
        .collect();
    ExportFn {
        sig: sig.clone(),
        kind: FnKind::Function,
        owner: owner.cloned(),
        c_name,
        c_name_span,
        doc: doc_lines(attrs),
        declared_lifetimes,
        params,
        ret: return_type(&sig.output, owner),
        batch: None,
        role: Default::default(),
        keep_gil: None,
    }
}

/// How a parameter of type `ty` crosses.
fn param_kind(ty: &Type) -> ParamKind {
    match unwrap_group(ty) {
        Type::Reference(reference) => {
            let mutable = reference.mutability.is_some();
            let elem = unwrap_group(&reference.elem);
            match elem {
                _ if is_ident(elem, "str") => match mutable {
                    true => ParamKind::Unsupported(UnsupportedParam::MutStr),
                    false => ParamKind::Str,
                },
                _ if is_named(elem, "CStr") => match mutable {
                    true => ParamKind::Unsupported(UnsupportedParam::MutCStr),
                    false => ParamKind::CStr,
                },
                Type::Slice(slice) => match unwrap_group(&slice.elem) {
                    Type::Reference(item)
                        if !mutable
                            && item.mutability.is_none()
                            && is_ident(unwrap_group(&item.elem), "str") =>
                    {
                        ParamKind::StrList
                    }
                    elem @ Type::Path(_) => ParamKind::Slice {
                        elem: elem.clone(),
                        mutable,
                        numeric: is_primitive(elem) && !is_ident(elem, "bool"),
                    },
                    other => ParamKind::Unsupported(UnsupportedParam::SliceElement(other.clone())),
                },
                Type::TraitObject(object) => {
                    fn_ref(&object.bounds, mutable, false).unwrap_or_else(|| {
                        ParamKind::Unsupported(UnsupportedParam::Reference {
                            elem: elem.clone(),
                            mutable,
                            primitive: false,
                        })
                    })
                }
                _ if is_named(elem, "String") => {
                    ParamKind::Unsupported(UnsupportedParam::RefString { mutable })
                }
                _ if is_named(elem, "Vec") => {
                    ParamKind::Unsupported(UnsupportedParam::RefVec { mutable })
                }
                other @ Type::Path(_) if !names_primitive(other) => match mutable {
                    true => ParamKind::RefMut(other.clone()),
                    false => ParamKind::Ref(other.clone()),
                },
                other => ParamKind::Unsupported(UnsupportedParam::Reference {
                    elem: other.clone(),
                    mutable,
                    primitive: names_primitive(other),
                }),
            }
        }
        path @ Type::Path(_) => {
            if is_primitive(path) {
                ParamKind::Primitive(path.clone())
            } else if is_named(path, "Option") {
                ParamKind::Option(path.clone())
            } else if is_named(path, "Callback") {
                ParamKind::Callback(path.clone())
            } else if is_named(path, "Allocator") {
                ParamKind::Allocator(path.clone())
            } else {
                ParamKind::Named(path.clone())
            }
        }
        Type::ImplTrait(bounds) => fn_ref(&bounds.bounds, false, true)
            .unwrap_or(ParamKind::Unsupported(UnsupportedParam::ImplTrait)),
        Type::Ptr(_) => ParamKind::Unsupported(UnsupportedParam::Pointer),
        // Owned values (`String`, `Vec<T>`, maps, tuples, records) cross
        // by their `FfiParam` impl: copied in from their C form.
        tuple @ Type::Tuple(elems) if !elems.elems.is_empty() => ParamKind::Named(tuple.clone()),
        Type::Tuple(_) => ParamKind::Unsupported(UnsupportedParam::Unit),
        other => ParamKind::Unsupported(UnsupportedParam::Other(other.clone())),
    }
}

/// `&dyn Fn(A..) -> R` or (`by_value`) `impl Fn(A..) -> R` / `FnMut` /
/// `FnOnce` (other bounds may be lifetimes and `Send` / `Sync`), or the
/// unsupported kind of a `&dyn FnMut` / `&dyn FnOnce` or `&mut dyn Fn`;
/// `None` for other bounds.
fn fn_ref(
    bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>,
    mutable: bool,
    by_value: bool,
) -> Option<ParamKind> {
    let mut traits = bounds.iter().filter_map(|bound| match bound {
        syn::TypeParamBound::Trait(bound) => bound.path.segments.last(),
        _ => None,
    });
    let function = traits.find(|segment| {
        matches!(segment.arguments, syn::PathArguments::Parenthesized(_))
            && ["Fn", "FnMut", "FnOnce"]
                .iter()
                .any(|name| segment.ident == name)
    })?;
    let syn::PathArguments::Parenthesized(arguments) = &function.arguments else {
        return None;
    };
    if mutable || (function.ident != "Fn" && !by_value) {
        return Some(ParamKind::Unsupported(UnsupportedParam::FnRefKind));
    }
    let lifetime = bounds.iter().find_map(|bound| match bound {
        syn::TypeParamBound::Lifetime(lifetime) if lifetime.ident != "_" => Some(lifetime),
        _ => None,
    });
    if let Some(lifetime) = lifetime {
        return Some(ParamKind::Unsupported(UnsupportedParam::CallbackLifetime(
            lifetime.clone(),
        )));
    }
    let ret = match &arguments.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some((**ty).clone()),
    };
    Some(ParamKind::FnRef {
        args: arguments.inputs.iter().map(|arg| arg.ty.clone()).collect(),
        ret,
        by_value,
    })
}

/// The return type, for a function of `owner`'s impl block or a free one.
fn return_type(output: &ReturnType, owner: Option<&Type>) -> Return {
    let unit = Return {
        ty: None,
        kind: ReturnKind::Unit,
        has_self: false,
        borrows: Vec::new(),
    };
    let ty = match output {
        ReturnType::Default => return unit,
        ReturnType::Type(_, ty) => ty,
    };
    if let ReturnKind::Unit = return_kind(ty, None, true) {
        return unit;
    }
    let mut borrows = Vec::new();
    let kind = return_kind(ty, owner, true);
    if let ReturnKind::Iterator(iter) = &kind {
        match unwrap_group(&iter.item) {
            Type::Reference(_) => borrows.push(iter.item.clone()),
            item => nested_borrows(item, &mut borrows),
        }
    } else if let Type::Path(_) = unwrap_group(ty) {
        nested_borrows(ty, &mut borrows);
    }
    Return {
        kind,
        has_self: owner.is_some_and(|owner| mentions(ty, owner)),
        ty: Some((**ty).clone()),
        borrows,
    }
}

/// How `ty` crosses; `top`: the whole return type (anything inside an
/// `Option` or `Result` that is not classified crosses by its `IntoFfi`).
fn return_kind(ty: &Type, owner: Option<&Type>, top: bool) -> ReturnKind {
    let first_argument = |ty| type_arguments(ty).first().copied();
    match unwrap_group(ty) {
        Type::Tuple(tuple) if tuple.elems.is_empty() => ReturnKind::Unit,
        Type::Tuple(_) => ReturnKind::Named,
        ty if owner.is_some_and(|owner| is_type(ty, owner)) => ReturnKind::Object,
        ty @ Type::Path(_) if top && boxed_iterator(ty).is_some() => boxed_iterator(ty)
            .map_or(ReturnKind::Named, |iter| {
                ReturnKind::Iterator(Box::new(iter))
            }),
        ty @ Type::Path(_) if top && fallible_iterator(ty).is_some() => fallible_iterator(ty)
            .map_or(ReturnKind::Named, |iter| {
                ReturnKind::Iterator(Box::new(iter))
            }),
        ty @ Type::Path(_) => {
            if is_primitive(ty) {
                ReturnKind::Primitive
            } else if is_ident(ty, "String") {
                ReturnKind::String
            } else if let (true, Some(inner)) = (is_named(ty, "Option"), first_argument(ty)) {
                ReturnKind::Option(Box::new(return_kind(inner, owner, false)))
            } else if let (true, Some(inner)) = (is_named(ty, "Result"), first_argument(ty)) {
                ReturnKind::Result(Box::new(return_kind(inner, owner, false)))
            } else {
                ReturnKind::Named
            }
        }
        _ if !top => ReturnKind::Named,
        Type::Reference(_) => ReturnKind::Unsupported(UnsupportedReturn::Reference),
        Type::ImplTrait(bounds) => iterator(&bounds.bounds).map_or(
            ReturnKind::Unsupported(UnsupportedReturn::ImplTrait),
            |iter| ReturnKind::Iterator(Box::new(iter)),
        ),
        Type::Ptr(_) => ReturnKind::Unsupported(UnsupportedReturn::Pointer),
        Type::Never(_) => ReturnKind::Unsupported(UnsupportedReturn::Never),
        other => ReturnKind::Unsupported(UnsupportedReturn::Other(Box::new(other.clone()))),
    }
}

/// `impl Iterator<Item = T> + ..`'s item and lifetimes; `None` for other
/// bounds.
fn iterator(
    bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>,
) -> Option<IterReturn> {
    let mut item = None;
    let mut lifetimes = Vec::new();
    for bound in bounds {
        match bound {
            syn::TypeParamBound::Trait(bound) => {
                let last = bound.path.segments.last()?;
                if last.ident != "Iterator" {
                    continue;
                }
                let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                    return None;
                };
                item = args.args.iter().find_map(|arg| match arg {
                    syn::GenericArgument::AssocType(assoc) if assoc.ident == "Item" => {
                        Some(assoc.ty.clone())
                    }
                    _ => None,
                });
            }
            syn::TypeParamBound::Lifetime(lifetime) => lifetimes.push(lifetime.clone()),
            _ => {}
        }
    }
    let item = item?;
    let ok = is_named(&item, "Result")
        .then(|| type_arguments(&item).first().map(|ok| (*ok).clone()))
        .flatten();
    Some(IterReturn {
        item,
        ok,
        lifetimes,
        error: None,
        unsend: None,
    })
}

/// `Result<I, E>` where `I` is `impl Iterator<Item = T>` or a boxed one:
/// the iterator, with `E` as the call's own error.
fn fallible_iterator(ty: &Type) -> Option<IterReturn> {
    if !is_named(ty, "Result") {
        return None;
    }
    let [ok, error] = type_arguments(ty)[..] else {
        return None;
    };
    let mut iter = match unwrap_group(ok) {
        Type::ImplTrait(bounds) => iterator(&bounds.bounds)?,
        ok => boxed_iterator(ok)?,
    };
    iter.error = Some(error.clone());
    Some(iter)
}

/// `Box<dyn Iterator<Item = T> + ..>`: the iterator, noting a missing
/// `+ Send`.
fn boxed_iterator(ty: &Type) -> Option<IterReturn> {
    if !is_named(ty, "Box") {
        return None;
    }
    let inner = type_arguments(ty).first().copied()?;
    let Type::TraitObject(object) = unwrap_group(inner) else {
        return None;
    };
    let mut iter = iterator(&object.bounds)?;
    let send = object.bounds.iter().any(|bound| {
        matches!(bound, syn::TypeParamBound::Trait(bound)
            if bound.path.segments.last().is_some_and(|last| last.ident == "Send"))
    });
    if !send {
        iter.unsend = Some(inner.clone());
    }
    Some(iter)
}

/// References nested in `Option<&T>`, `Vec<&T>` or `Result<&T, E>` (an
/// error type may borrow: `Result<T, &'static str>` is fine).
fn nested_borrows(ty: &Type, found: &mut Vec<Type>) {
    let args = type_arguments(ty);
    let checked = if is_named(ty, "Result") {
        &args[..args.len().min(1)]
    } else {
        &args[..]
    };
    for arg in checked {
        match unwrap_group(arg) {
            Type::Reference(_) => found.push((*arg).clone()),
            _ => nested_borrows(arg, found),
        }
    }
}

/// The model of a protocol shim `<prefix>_<shim>` of `owner` from its
/// synthesized signature (`fn __ffi_protocol(..) -> R`, renamed
/// `__ffi_<shim>`), every operand an explicit parameter; `object`: the
/// owner is an object (its values cross as handles), not a record or enum.
pub fn protocol_fn(
    owner: &Type,
    c_prefix: &str,
    shim: &str,
    sig: TokenStream,
    span: proc_macro2::Span,
    object: bool,
) -> ExportFn {
    let mut sig: syn::Signature = match syn::parse2(sig) {
        Ok(sig) => sig,
        // The signatures are the macro's own: unreachable, but no panic.
        Err(_) => syn::parse_quote!(fn __ffi_protocol()),
    };
    sig.ident = syn::Ident::new(&format!("__ffi_{shim}"), span);
    let mut export = callable(
        &sig,
        &[],
        &[],
        format!("{c_prefix}_{shim}"),
        span,
        object.then_some(owner),
        &[],
    );
    export.kind = match sig.receiver() {
        Some(_) => FnKind::ProtocolMethod,
        None => FnKind::Protocol,
    };
    export.owner = Some(owner.clone());
    export
}
