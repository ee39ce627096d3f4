//! syn → model: reads the attribute arguments, the doc comment, and
//! classifies every parameter and the return type, recording a spanned error
//! for each unsupported one.

use crate::errors::Errors;
use crate::model::{ExportFn, FnKind, Param, ParamKind, Return};
use crate::validate;
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{
    Expr, ExprLit, FnArg, GenericArgument, ItemFn, Lit, LitStr, Meta, Pat, PathArguments,
    ReturnType, Type, TypePath,
};

/// Builds the model of a free function, recording every problem in `errors`.
pub fn export_fn(args: TokenStream, item: &ItemFn, errors: &mut Errors) -> ExportFn {
    let args = attribute_args(args, errors);
    let (c_name, c_name_span) = match &args.name {
        Some(name) => (name.value(), name.span()),
        None => (item.sig.ident.to_string(), item.sig.ident.span()),
    };
    validate::signature(&item.sig, false, errors);
    let mut model = signature_model(
        &item.sig,
        &item.attrs,
        c_name,
        c_name_span,
        None,
        &item.sig.generics,
        errors,
    );
    validate::c_symbol(&model.c_name, c_name_span, errors);
    if let Some(span) = args.batch {
        let scalar_params = model.params.iter().all(|p| match &p.kind {
            ParamKind::Scalar(ty) => PRIMITIVES.iter().any(|name| is_named(ty, name)),
            _ => false,
        });
        let scalar_return = model.ret.ty.as_ref().is_some_and(|ty| {
            let ok = if is_named(ty, "Result") {
                type_arguments(ty).first().copied()
            } else {
                Some(ty)
            };
            ok.is_some_and(|ty| PRIMITIVES.iter().any(|name| is_named(ty, name)))
        });
        if scalar_params && scalar_return && !model.params.is_empty() {
            model.batch = true;
        } else {
            errors.push(syn::Error::new(
                span,
                "`batch` loops over arrays of the parameters: it needs at least one parameter, \
                 all primitives (integers, floats, bool), and a primitive result (or `Result` of one)",
            ));
        }
    }
    model
}

/// Builds the model of a `pub fn` in an `#[export] impl` of `owner`, named
/// `<Type>_<method>` in C.
pub fn export_method(
    owner: &Type,
    type_name: &str,
    impl_generics: &syn::Generics,
    item: &syn::ImplItemFn,
    errors: &mut Errors,
) -> ExportFn {
    validate::signature(&item.sig, true, errors);
    let c_name = format!("{type_name}_{}", item.sig.ident);
    validate::c_symbol(&c_name, item.sig.ident.span(), errors);
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
    // Lifetimes declared on the impl block are reported there, once.
    let mut generics = item.sig.generics.clone();
    generics.params.extend(impl_generics.params.iter().cloned());
    let mut model = signature_model(
        &sig,
        &item.attrs,
        c_name,
        span,
        Some(owner),
        &generics,
        errors,
    );
    model.kind = match item.sig.receiver() {
        Some(receiver) if receiver.reference.is_some() && receiver.colon_token.is_none() => {
            FnKind::Method {
                mutable: receiver.mutability.is_some(),
            }
        }
        Some(receiver) => {
            errors.error(
                receiver,
                "methods taking `self` by value cannot be exported: the object stays owned by \
                 its handle; take `&self` or `&mut self`",
            );
            FnKind::Static
        }
        None if model.ret.has_self => FnKind::Constructor,
        None => FnKind::Static,
    };
    model
}

fn signature_model(
    sig: &syn::Signature,
    attrs: &[syn::Attribute],
    c_name: String,
    c_name_span: proc_macro2::Span,
    owner: Option<&Type>,
    generics: &syn::Generics,
    errors: &mut Errors,
) -> ExportFn {
    let declared: Vec<&syn::Lifetime> = generics.lifetimes().map(|l| &l.lifetime).collect();
    let params = sig
        .inputs
        .iter()
        .filter(|input| matches!(input, FnArg::Typed(_)))
        .enumerate()
        .filter_map(|(index, input)| match input {
            FnArg::Typed(typed) => {
                validate::param_lifetimes(&typed.ty, &declared, errors);
                let kind = param_kind(&typed.ty, errors)?;
                Some(Param {
                    name: binding_name(&typed.pat).unwrap_or_else(|| format!("arg{index}")),
                    kind,
                    span: typed.span(),
                })
            }
            FnArg::Receiver(_) => None,
        })
        .collect();
    let mut ret = return_type(&sig.output, errors);
    if let (Some(owner), Some(ty)) = (owner, &ret.ty) {
        ret.has_self = mentions(ty, owner);
        // Objects cross as handles, freed by `<Type>_free`, not by a paired free.
        ret.may_own = !is_plain(ty, Some(&owner.to_token_stream().to_string()));
    }
    ExportFn {
        batch: false,
        doc: doc_lines(attrs),
        sig: sig.clone(),
        kind: FnKind::Function,
        owner: owner.cloned(),
        c_name,
        c_name_span,
        params,
        ret,
    }
}

/// `ty` with every `Self` replaced by `owner`.
fn replace_self(ty: &Type, owner: &Type) -> Type {
    fn walk(tokens: TokenStream, owner: &Type) -> TokenStream {
        tokens
            .into_iter()
            .flat_map(|token| match token {
                proc_macro2::TokenTree::Ident(ident) if ident == "Self" => owner.to_token_stream(),
                proc_macro2::TokenTree::Group(group) => {
                    let mut new =
                        proc_macro2::Group::new(group.delimiter(), walk(group.stream(), owner));
                    new.set_span(group.span());
                    proc_macro2::TokenTree::Group(new).into_token_stream()
                }
                other => other.into_token_stream(),
            })
            .collect()
    }
    syn::parse2(walk(ty.to_token_stream(), owner)).unwrap_or_else(|_| ty.clone())
}

/// Whether `ty` names `owner` (as a whole type or inside generic arguments).
fn mentions(ty: &Type, owner: &Type) -> bool {
    fn walk(ty: &Type, owner: &str) -> bool {
        let ty = unwrap_group(ty);
        ty.to_token_stream().to_string() == owner
            || type_arguments(ty).iter().any(|arg| walk(arg, owner))
    }
    walk(ty, &owner.to_token_stream().to_string())
}

/// The arguments of `#[export(..)]` on a function.
#[derive(Default)]
struct Args {
    /// `name = "symbol"`.
    name: Option<LitStr>,
    /// `batch`: also export a loop over arrays.
    batch: Option<proc_macro2::Span>,
}

/// `name = "symbol"` and `batch`, the arguments `#[export(..)]` takes.
fn attribute_args(args: TokenStream, errors: &mut Errors) -> Args {
    let mut parsed = Args::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("batch") {
            parsed.batch = Some(meta.path.span());
            Ok(())
        } else if meta.path.is_ident("name") {
            let lit: LitStr = meta.value()?.parse()?;
            let valid =
                lit.value().chars().enumerate().all(|(i, c)| {
                    c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
                });
            if !valid || lit.value().is_empty() {
                return Err(syn::Error::new(
                    lit.span(),
                    "the exported name must be a C identifier: ASCII letters, digits and `_`, not starting with a digit",
                ));
            }
            parsed.name = Some(lit);
            Ok(())
        } else {
            Err(meta.error(
                "unknown #[export] argument; the arguments are `name = \"c_symbol\"` and `batch`",
            ))
        }
    });
    if let Err(error) = parser.parse2(args) {
        errors.push(error);
    }
    parsed
}

fn binding_name(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Ident(ident) => {
            let name = ident.ident.to_string();
            Some(name.strip_prefix("r#").map(str::to_owned).unwrap_or(name))
        }
        _ => None,
    }
}

/// The doc comment of `attrs`, without the one space rustdoc adds after
/// `///`, one line per `#[doc]` attribute.
pub fn doc_lines(attrs: &[syn::Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| line.strip_prefix(' ').map(str::to_owned).unwrap_or(line))
        .collect();
    lines.join("\n")
}

/// The last segment of a path type, with its arguments.
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(TypePath { qself: None, path }) => path.segments.last(),
        _ => None,
    }
}

pub fn is_named(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == name)
}

/// The type arguments of a path type's last segment.
fn type_arguments(ty: &Type) -> Vec<&Type> {
    match last_segment(ty).map(|s| &s.arguments) {
        Some(PathArguments::AngleBracketed(args)) => args
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn unwrap_group(ty: &Type) -> &Type {
    match ty {
        Type::Paren(p) => unwrap_group(&p.elem),
        Type::Group(g) => unwrap_group(&g.elem),
        other => other,
    }
}

fn describe(ty: &impl ToTokens) -> String {
    ty.to_token_stream()
        .to_string()
        .replace(" < ", "<")
        .replace(" >", ">")
        .replace("& ", "&")
}

const BORROWED: &str = "borrowed parameters may be `&str`, `&CStr`, `&[&str]`, `&[T]` or `&mut [T]` of a primitive `T`, or `&R` of an #[export] struct `R`";
const PRIMITIVES: [&str; 13] = [
    "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "isize", "usize", "f32", "f64", "bool",
];
const ELEMENTS: &str =
    "elements may be i8, i16, i32, i64, u8, u16, u32, u64, isize, usize, f32, f64 or bool";

fn param_kind(ty: &Type, errors: &mut Errors) -> Option<ParamKind> {
    match unwrap_group(ty) {
        Type::Reference(reference) => {
            let mutable = reference.mutability.is_some();
            let elem = unwrap_group(&reference.elem);
            match elem {
                Type::Path(p) if p.qself.is_none() && p.path.is_ident("str") => {
                    if mutable {
                        errors.error(ty, "`&mut str` cannot be exported: take `&mut [u8]` to edit bytes in place, or return a `String`");
                        None
                    } else {
                        Some(ParamKind::Str)
                    }
                }
                _ if is_named(elem, "CStr") => {
                    if mutable {
                        errors.error(ty, "`&mut CStr` cannot be exported: take `&CStr`, or `&mut [u8]` to edit bytes in place");
                        None
                    } else {
                        Some(ParamKind::CStr)
                    }
                }
                Type::Slice(slice) => match unwrap_group(&slice.elem) {
                    Type::Reference(item)
                        if !mutable
                            && item.mutability.is_none()
                            && matches!(unwrap_group(&item.elem), Type::Path(p) if p.path.is_ident("str")) =>
                    {
                        Some(ParamKind::StrList)
                    }
                    elem @ Type::Path(_) => Some(ParamKind::Slice {
                        elem: elem.clone(),
                        mutable,
                    }),
                    other => {
                        errors.error(
                            other,
                            format!("`{}` cannot be a slice element of an #[export] function: {ELEMENTS}", describe(other)),
                        );
                        None
                    }
                },
                _ if is_named(elem, "String") => {
                    let hint = if mutable {
                        "`&mut String` cannot be exported: a C buffer cannot grow; take `&mut [u8]` or return a `String`"
                    } else {
                        "`&String` cannot be exported: take `&str` instead"
                    };
                    errors.error(ty, hint);
                    None
                }
                _ if is_named(elem, "Vec") => {
                    let hint = if mutable {
                        "`&mut Vec<T>` cannot be exported: a C buffer cannot grow; take `&mut [T]`, or return a `Vec<T>`"
                    } else {
                        "`&Vec<T>` cannot be exported: take a slice `&[T]` instead"
                    };
                    errors.error(ty, hint);
                    None
                }
                other @ Type::Path(_)
                    if !mutable && !PRIMITIVES.iter().any(|p| is_named(other, p)) =>
                {
                    Some(ParamKind::Ref(other.clone()))
                }
                other => {
                    let by_value = if !mutable && PRIMITIVES.iter().any(|p| is_named(other, p)) {
                        format!("take `{}` by value; ", describe(other))
                    } else if mutable && matches!(other, Type::Path(_)) {
                        "an #[export] struct is copied in, so changes would be lost: take it by \
                         value and return the changed copy; "
                            .to_owned()
                    } else {
                        String::new()
                    };
                    errors.error(
                        ty,
                        format!(
                            "a reference to `{}` cannot be exported: {by_value}{BORROWED}",
                            describe(other)
                        ),
                    );
                    None
                }
            }
        }
        path @ Type::Path(_) => {
            if is_named(path, "String") {
                errors.error(ty, "`String` parameters cannot be exported: take `&str` (the caller's text is borrowed, not copied)");
                None
            } else if is_named(path, "Vec") {
                errors.error(ty, "`Vec<T>` parameters cannot be exported: take `&[T]` or `&mut [T]` (the caller's buffer is borrowed, not copied)");
                None
            } else {
                Some(ParamKind::Scalar(path.clone()))
            }
        }
        Type::ImplTrait(_) => {
            errors.error(ty, "`impl Trait` parameters make the function generic and cannot be exported: take a concrete type");
            None
        }
        Type::Ptr(_) => {
            errors.error(
                ty,
                "raw pointer parameters cannot be exported: take `&str`, `&CStr`, `&[T]` or `&mut [T]`; \
                 the shim receives the C pointer and checks it (NULL, alignment, length) for you",
            );
            None
        }
        Type::Tuple(_) => {
            errors.error(
                ty,
                "tuple parameters cannot be exported: take each element as its own parameter",
            );
            None
        }
        other => {
            errors.error(
                ty,
                format!(
                    "`{}` cannot be a parameter of an #[export] function: take a primitive \
                     (integer, float or bool) by value, or borrow `&str`, `&CStr`, `&[T]` or `&mut [T]` \
                     of a primitive `T`",
                    describe(other)
                ),
            );
            None
        }
    }
}

fn return_type(output: &ReturnType, errors: &mut Errors) -> Return {
    let ty = match output {
        ReturnType::Default => {
            return Return {
                ty: None,
                may_own: false,
                has_self: false,
            }
        }
        ReturnType::Type(_, ty) => ty,
    };
    match unwrap_group(ty) {
        Type::Tuple(tuple) if tuple.elems.is_empty() => {
            return Return {
                ty: None,
                may_own: false,
                has_self: false,
            }
        }
        Type::Path(_) => check_no_borrow(ty, errors),
        Type::Reference(_) => errors.error(
            ty,
            "returned references cannot be exported: the caller cannot know how long they live; \
             return an owned `String` or `Vec<T>` (freed for you by the paired `_free`)",
        ),
        Type::ImplTrait(_) => errors.error(ty, "`impl Trait` cannot be returned from an #[export] function: return a concrete type"),
        Type::Ptr(_) => errors.error(ty, "raw pointers cannot be returned: return an owned `String` or `Vec<T>`"),
        Type::Never(_) => errors.error(ty, "`!` cannot be returned from an #[export] function: return `()` (a panic becomes an error)"),
        other => errors.error(
            ty,
            format!(
                "`{}` cannot be returned from an #[export] function: return (), a primitive, String, Vec<T>, Option<T> or Result<T, E>",
                describe(other)
            ),
        ),
    }
    Return {
        may_own: !is_plain(ty, None),
        ty: Some((**ty).clone()),
        has_self: false,
    }
}

/// Rejects references nested in `Option<&T>`, `Vec<&T>` or `Result<&T, E>`
/// (an error type may borrow: `Result<T, &'static str>` is fine).
fn check_no_borrow(ty: &Type, errors: &mut Errors) {
    let args = type_arguments(ty);
    let checked = if is_named(ty, "Result") {
        &args[..args.len().min(1)]
    } else {
        &args[..]
    };
    for arg in checked {
        match unwrap_group(arg) {
            Type::Reference(_) => errors.error(
                arg,
                "returned references cannot be exported: return an owned `String` or `Vec<T>`",
            ),
            _ => check_no_borrow(arg, errors),
        }
    }
}

/// Whether a return type is visibly free of owned memory: a primitive, or
/// `Option`/`Result` of one. Anything else (a `String`, `Vec`, record, or an
/// alias the macro cannot see through) gets a paired `_free` export; the
/// self-description then names it only when the type really owns memory.
fn is_plain(ty: &Type, object: Option<&str>) -> bool {
    let ty = unwrap_group(ty);
    if object.is_some_and(|object| ty.to_token_stream().to_string() == object) {
        return true;
    }
    if let Type::Tuple(tuple) = ty {
        return tuple.elems.is_empty();
    }
    if PRIMITIVES.iter().any(|p| is_named(ty, p)) {
        return matches!(ty, Type::Path(p) if p.path.segments.len() == 1);
    }
    if is_named(ty, "Option") || is_named(ty, "Result") {
        return type_arguments(ty)
            .first()
            .is_some_and(|inner| is_plain(inner, object));
    }
    false
}
