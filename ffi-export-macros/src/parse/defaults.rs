//! `#[ffi(..)]` attributes on parameters and fields, and the default values
//! they give, classified against the type they are the default of.
//!
//! A default is a value for Python (the signature, `help()`, the stubs):
//! Rust always receives every argument. Values are what a signature can
//! show: literals, `None`, sequences (`[]`, `[1, 2]`), an empty map (`{}`),
//! tuples of those and unit enum variants (`Mode::Fast`); `#[ffi(default)]`
//! is the natural empty value of the type (0, `false`, `""`, `None`, `[]`,
//! `{}`).

use super::syntax::{is_named, is_primitive, type_arguments, unwrap_group};
use crate::model::{DefaultArg, DefaultValue, FfiAttrs, Problem, INTEGERS, WIDE_INTEGERS};
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{Attribute, Expr, Lit, Type};

const WHAT: &str = "a default value is a literal (`3`, `-1.5`, `true`, `\"text\"`), `None`, a \
                    sequence (`[]`, `[1, 2]`), an empty map (`{}`), a tuple of those, or a unit \
                    enum variant (`Mode::Fast`)";

/// Takes the `#[ffi(..)]` attributes off `attrs` (they are not attributes
/// rustc knows: the emitted item must not carry them).
pub fn strip_ffi_attrs(attrs: &mut Vec<Attribute>) -> Vec<Attribute> {
    let (ffi, other) = std::mem::take(attrs)
        .into_iter()
        .partition(|attr| attr.path().is_ident("ffi"));
    *attrs = other;
    ffi
}

/// Reads `#[ffi(..)]` attributes; the default is classified against `ty`.
pub fn read_ffi_attrs(attrs: &[Attribute], ty: &Type) -> FfiAttrs {
    let mut found = FfiAttrs::default();
    for attr in attrs {
        let result = attr.parse_nested_meta(|meta| {
            if !meta.path.is_ident("default") {
                found.problems.push(problem(
                    &meta.path,
                    "unknown #[ffi] argument; write `#[ffi(default)]` or `#[ffi(default = value)]`",
                ));
                // Skip what follows it: `= value` or `(..)`.
                if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<Expr>()?;
                } else if meta.input.peek(syn::token::Paren) {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    content.parse::<TokenStream>()?;
                }
                return Ok(());
            }
            let value = if meta.input.peek(syn::Token![=]) {
                let expr: Expr = meta.value()?.parse()?;
                value(ty, &expr)
            } else {
                natural(ty).ok_or_else(|| {
                    problem(
                        &meta.path,
                        "this type has no natural default: write the value, `#[ffi(default = ..)]`",
                    )
                })
            };
            if found.default.is_some() {
                found
                    .problems
                    .push(problem(&meta.path, "a second default: give one"));
            } else {
                found.default = Some(DefaultArg { value });
            }
            Ok(())
        });
        if let Err(error) = result {
            found.problems.push(Problem {
                tokens: span_tokens(error.span()),
                message: error.to_string(),
            });
        }
    }
    found
}

/// Tokens that span `span` (where a syntax error is).
fn span_tokens(span: proc_macro2::Span) -> TokenStream {
    quote::quote_spanned!(span=> _)
}

/// A problem at `tokens`.
fn problem(tokens: &impl ToTokens, message: impl Into<String>) -> Problem {
    Problem {
        tokens: tokens.to_token_stream(),
        message: message.into(),
    }
}

/// The natural empty value of `ty`, if it has one.
fn natural(ty: &Type) -> Option<DefaultValue> {
    let ty = unwrap_group(ty);
    let json = match ty {
        Type::Reference(reference) => match unwrap_group(&reference.elem) {
            Type::Slice(_) => "[]",
            elem if is_named(elem, "str") || is_named(elem, "CStr") => "\"\"",
            _ => return None,
        },
        ty if is_named(ty, "Option") => "null",
        ty if is_primitive(ty) && is_named(ty, "bool") => "false",
        ty if is_named(ty, "f32") || is_named(ty, "f64") => "0.0",
        ty if is_integer(ty) => "0",
        ty if is_named(ty, "String") => "\"\"",
        ty if is_sequence(ty) => "[]",
        ty if is_map(ty) => "{}",
        _ => return None,
    };
    Some(DefaultValue {
        json: json.to_owned(),
        checks: Vec::new(),
    })
}

/// `expr` as a default of `ty`.
fn value(ty: &Type, expr: &Expr) -> Result<DefaultValue, Problem> {
    let mut checks = Vec::new();
    let json = json(ty, expr, &mut checks)?;
    Ok(DefaultValue { json, checks })
}

fn json(ty: &Type, expr: &Expr, checks: &mut Vec<(Type, Expr)>) -> Result<String, Problem> {
    let ty = unwrap_group(ty);
    let expr = unwrap_expr(expr);
    let wrong = |what: &str| {
        let written = quote::ToTokens::to_token_stream(ty)
            .to_string()
            .replace(" < ", "<")
            .replace(" >", ">")
            .replace("& ", "&");
        problem(
            expr,
            format!("the default of a `{written}` must be {what}; {WHAT}"),
        )
    };
    if is_named(ty, "Option") {
        if is_none(expr) {
            return Ok("null".to_owned());
        }
        let inner = type_arguments(ty)
            .first()
            .copied()
            .ok_or_else(|| wrong("an option"))?;
        return json(inner, expr, checks);
    }
    if is_none(expr) {
        return Err(problem(
            expr,
            "`None` is the default of an `Option<T>` parameter only",
        ));
    }
    match ty {
        Type::Reference(reference) => match unwrap_group(&reference.elem) {
            Type::Slice(slice) => sequence(&slice.elem, expr, checks, || wrong("a slice")),
            elem if is_named(elem, "str") || is_named(elem, "CStr") => {
                text(expr).ok_or_else(|| wrong("text"))
            }
            _ => Err(problem(
                expr,
                "a borrowed parameter of this type cannot have a default",
            )),
        },
        Type::Tuple(tuple) => match expr {
            Expr::Tuple(values) if values.elems.len() == tuple.elems.len() => {
                let items = tuple
                    .elems
                    .iter()
                    .zip(&values.elems)
                    .map(|(ty, value)| json(ty, value, checks))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(format!("[{}]", items.join(",")))
            }
            _ => Err(wrong(&format!("a tuple of {}", tuple.elems.len()))),
        },
        ty if is_named(ty, "bool") => match expr {
            Expr::Lit(lit) if matches!(lit.lit, Lit::Bool(_)) => {
                checks.push((ty.clone(), expr.clone()));
                Ok(if matches!(&lit.lit, Lit::Bool(b) if b.value) { "true" } else { "false" }
                    .to_owned())
            }
            _ => Err(wrong("a bool")),
        },
        ty if is_named(ty, "f32") || is_named(ty, "f64") => {
            let value = number(expr).ok_or_else(|| wrong("a number"))?;
            checks.push((ty.clone(), expr.clone()));
            let float: f64 = value.parse().map_err(|_| wrong("a number"))?;
            Ok(format!("{float:?}"))
        }
        ty if is_integer(ty) => {
            let value = number(expr).ok_or_else(|| wrong("an integer"))?;
            if value.contains(['.', 'e', 'E']) {
                return Err(wrong("an integer"));
            }
            checks.push((ty.clone(), expr.clone()));
            Ok(value)
        }
        ty if is_named(ty, "String") => text(expr).ok_or_else(|| wrong("text")),
        ty if is_sequence(ty) => {
            let elem = type_arguments(ty).first().copied().ok_or_else(|| wrong("a sequence"))?;
            sequence(elem, expr, checks, || wrong("a sequence"))
        }
        ty if is_map(ty) => match expr {
            Expr::Block(block) if block.block.stmts.is_empty() => Ok("{}".to_owned()),
            _ => Err(problem(
                expr,
                "a map's default can be the empty map only: `{}`",
            )),
        },
        Type::Path(_) => match expr {
            // A unit variant of an enum: rustc checks it is one of `ty`.
            Expr::Path(path) if path.qself.is_none() && path.path.segments.len() >= 2 => {
                checks.push((ty.clone(), expr.clone()));
                let variant = path.path.segments.last().map(|s| s.ident.to_string());
                Ok(format!(
                    "{{\"variant\":{}}}",
                    json_string(&variant.unwrap_or_default())
                ))
            }
            _ => Err(problem(
                expr,
                format!("the default of an #[export] type is one of its unit variants (`Type::Variant`); {WHAT}"),
            )),
        },
        _ => Err(problem(expr, WHAT)),
    }
}

/// `[a, b, ..]` (or `vec![..]`) of `elem` values.
fn sequence(
    elem: &Type,
    expr: &Expr,
    checks: &mut Vec<(Type, Expr)>,
    wrong: impl Fn() -> Problem,
) -> Result<String, Problem> {
    let items: Vec<Expr> = match expr {
        Expr::Array(array) => array.elems.iter().cloned().collect(),
        Expr::Macro(mac) if mac.mac.path.is_ident("vec") => mac
            .mac
            .parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated)
            .map_err(|_| wrong())?
            .into_iter()
            .collect(),
        _ => return Err(wrong()),
    };
    let items = items
        .iter()
        .map(|item| json(elem, item, checks))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(format!("[{}]", items.join(",")))
}

/// A number literal, possibly negated: its digits (suffix removed).
fn number(expr: &Expr) -> Option<String> {
    match unwrap_expr(expr) {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Int(int) => Some(int.base10_digits().to_owned()),
            Lit::Float(float) => Some(float.base10_digits().to_owned()),
            _ => None,
        },
        Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Neg(_)) => {
            number(&unary.expr).map(|digits| format!("-{digits}"))
        }
        _ => None,
    }
}

/// A string literal as a JSON string.
fn text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(text) => Some(json_string(&text.value())),
            _ => None,
        },
        _ => None,
    }
}

fn is_none(expr: &Expr) -> bool {
    matches!(expr, Expr::Path(path) if path.path.is_ident("None"))
}

fn unwrap_expr(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(paren) => unwrap_expr(&paren.expr),
        Expr::Group(group) => unwrap_expr(&group.expr),
        other => other,
    }
}

fn is_integer(ty: &Type) -> bool {
    INTEGERS
        .iter()
        .chain(&WIDE_INTEGERS)
        .any(|name| matches!(ty, Type::Path(p) if p.qself.is_none() && p.path.is_ident(name)))
}

fn is_sequence(ty: &Type) -> bool {
    ["Vec", "HashSet", "BTreeSet"]
        .iter()
        .any(|name| is_named(ty, name))
}

fn is_map(ty: &Type) -> bool {
    is_named(ty, "HashMap") || is_named(ty, "BTreeMap")
}

/// `text` as a JSON string literal.
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
