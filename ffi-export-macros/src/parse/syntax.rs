//! Questions about syn trees that the parsers of every item kind ask.

use crate::model::{Args, ProtocolArg, ProtocolKind, PRIMITIVES};
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, GenericArgument, Lit, LitStr, Meta, Pat, PathArguments, Type, TypePath};

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

/// The name of a binding pattern, without `r#`.
fn binding_name(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Ident(ident) => {
            let name = ident.ident.to_string();
            Some(name.strip_prefix("r#").map(str::to_owned).unwrap_or(name))
        }
        _ => None,
    }
}

/// The typed (non-`self`) parameters of `sig`, each with its position among
/// them and its name (`arg<position>` for a pattern that is not a name).
pub fn typed_params(sig: &syn::Signature) -> impl Iterator<Item = (usize, String, &syn::PatType)> {
    sig.inputs
        .iter()
        .filter_map(|input| match input {
            syn::FnArg::Typed(typed) => Some(typed),
            syn::FnArg::Receiver(_) => None,
        })
        .enumerate()
        .map(|(index, typed)| {
            let name = binding_name(&typed.pat).unwrap_or_else(|| format!("arg{index}"));
            (index, name, typed)
        })
}

/// `ty` without the parentheses or invisible groups around it.
pub fn unwrap_group(ty: &Type) -> &Type {
    match ty {
        Type::Paren(p) => unwrap_group(&p.elem),
        Type::Group(g) => unwrap_group(&g.elem),
        other => other,
    }
}

/// The last segment of a path type, with its arguments.
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(TypePath {
            qself: None, path, ..
        }) => path.segments.last(),
        _ => None,
    }
}

/// Whether the last segment of a path type is `name`.
pub fn is_named(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == name)
}

/// Whether the last segment of a path type is named like a primitive.
pub fn names_primitive(ty: &Type) -> bool {
    PRIMITIVES.iter().any(|name| is_named(ty, name))
}

/// Whether `ty` is a primitive written by its name alone (`u32`, not
/// `core::primitive::u32` or an alias, which cross as named types).
pub fn is_primitive(ty: &Type) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none()
        && p.path.segments.len() == 1
        && PRIMITIVES.iter().any(|name| p.path.is_ident(name)))
}

/// Whether the CPython fast path reads a parameter of type `ty` itself: a
/// value made only of primitives (written by name), `String`, `Vec`,
/// `Option`, `HashMap`, `BTreeMap` and tuples of one to six. (Recognised by
/// name only: generated code asks the type's `PyArg` impl, and falls back
/// to the ctypes wrapper when it has none.)
pub fn is_native_value(ty: &Type) -> bool {
    let arguments = type_arguments(ty);
    match unwrap_group(ty) {
        Type::Tuple(tuple) => {
            (1..=6).contains(&tuple.elems.len()) && tuple.elems.iter().all(is_native_value)
        }
        ty if is_primitive(ty) || is_ident(ty, "String") => true,
        ty if ["Vec", "Option"].iter().any(|name| is_named(ty, name)) => {
            arguments.len() == 1 && is_native_value(arguments[0])
        }
        ty if ["HashMap", "BTreeMap"]
            .iter()
            .any(|name| is_named(ty, name)) =>
        {
            arguments.len() == 2 && arguments.iter().all(|arg| is_native_value(arg))
        }
        _ => false,
    }
}

/// Whether `ty` is the single identifier `name`.
pub fn is_ident(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

/// The type arguments of a path type's last segment.
pub fn type_arguments(ty: &Type) -> Vec<&Type> {
    last_segment(ty).map_or_else(Vec::new, segment_type_arguments)
}

/// The type arguments of a path segment (`Index<usize>`: `usize`).
fn segment_type_arguments(segment: &syn::PathSegment) -> Vec<&Type> {
    match &segment.arguments {
        PathArguments::AngleBracketed(args) => args
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

/// `ty` with every `Self` replaced by `owner`.
pub fn replace_self(ty: &Type, owner: &Type) -> Type {
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

/// Whether `ty` is `owner` (compared as written).
pub fn is_type(ty: &Type, owner: &Type) -> bool {
    unwrap_group(ty).to_token_stream().to_string() == owner.to_token_stream().to_string()
}

/// Whether `ty` names `owner` (as a whole type or inside generic arguments).
pub fn mentions(ty: &Type, owner: &Type) -> bool {
    is_type(ty, owner)
        || type_arguments(unwrap_group(ty))
            .iter()
            .any(|arg| mentions(arg, owner))
}

/// `name = "symbol"`, `batch`, `keep_gil` and the protocols (`Display`,
/// `Eq`, `Index<usize>`, `len`, ..), the arguments `#[export(..)]` takes,
/// as written: `validate` checks which the item may have.
pub fn attribute_args(args: TokenStream) -> Args {
    let mut parsed = Args::default();
    let parser = |input: syn::parse::ParseStream| -> syn::Result<()> {
        while !input.is_empty() {
            // A type-style path, so `Index<usize>` reads as one argument.
            let path: syn::Path = input.parse()?;
            if path.is_ident("batch") {
                parsed.batch = Some(path.span());
            } else if path.is_ident("keep_gil") {
                parsed.keep_gil = Some(path.span());
            } else if path.is_ident("name") && input.peek(syn::Token![=]) {
                input.parse::<syn::Token![=]>()?;
                parsed.name = Some(input.parse::<LitStr>()?);
            } else if let Some(protocol) = ProtocolKind::of(&path) {
                let arg = path
                    .segments
                    .last()
                    .and_then(|segment| segment_type_arguments(segment).first().copied())
                    .cloned();
                parsed.protocols.push(ProtocolArg {
                    protocol,
                    path,
                    arg,
                });
            } else {
                // Skip what follows an unknown argument: `= value` or `(..)`.
                if input.peek(syn::Token![=]) {
                    input.parse::<syn::Token![=]>()?;
                    input.parse::<syn::Expr>()?;
                } else if input.peek(syn::token::Paren) {
                    let content;
                    syn::parenthesized!(content in input);
                    content.parse::<TokenStream>()?;
                }
                parsed.unknown.push(path);
            }
            if input.is_empty() {
                break;
            }
            input.parse::<syn::Token![,]>()?;
        }
        Ok(())
    };
    if let Err(error) = parser.parse2(args) {
        parsed.malformed = Some(error);
    }
    parsed
}
