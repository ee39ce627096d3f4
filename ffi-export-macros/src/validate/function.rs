//! Rules for functions and methods: the attribute's arguments, the
//! signature, each parameter and the return type.

use super::symbol::{c_identifier, c_symbol};
use super::text::{describe, list};
use crate::errors::Errors;
use crate::model::{
    Args, ExportFn, FnKind, Function, IterReturn, Param, ParamKind, ReturnKind, UnsupportedParam,
    UnsupportedReturn, PRIMITIVES,
};
use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{FnArg, GenericArgument, GenericParam, Lifetime, PathArguments, Signature, Token, Type};

/// Every problem of an `#[export] fn`.
pub fn function(function: &Function, errors: &mut Errors) {
    let export = &function.export;
    let name_ok = args(&function.args, errors);
    signature(&export.sig, false, errors);
    params_and_return(export, errors);
    if name_ok {
        c_symbol(&export.c_name, export.c_name_span, errors);
    }
    if let Some(span) = export.batch {
        batch(export, span, errors);
    }
    if let Some(span) = export.keep_gil {
        keep_gil(export, span, errors);
    }
    asynchronous(export, errors);
}

/// Every problem of a `pub fn` of an `#[export] impl`; `symbols`: check
/// its C name (not when the impl's prefix was already reported).
pub fn method(method: &ExportFn, symbols: bool, errors: &mut Errors) {
    signature(&method.sig, true, errors);
    if symbols {
        c_symbol(&method.c_name, method.c_name_span, errors);
    }
    params_and_return(method, errors);
    asynchronous(method, errors);
    if let Some(receiver) = method.sig.receiver() {
        if !method.kind.has_receiver() {
            errors.error(
                receiver,
                "methods taking `self` by value cannot be exported: the object stays owned by \
                 its handle; take `&self`, `&mut self` or (a shared object) `self: Arc<Self>`",
            );
        }
    }
}

/// What an `async fn` cannot be: its future outlives the call, so it
/// takes owned parameters only, and it cannot borrow an object (that would
/// hold the object's lock across every await).
fn asynchronous(export: &ExportFn, errors: &mut Errors) {
    let Some(token) = &export.sig.asyncness else {
        return;
    };
    match export.kind {
        FnKind::Method { mutable } => {
            let receiver = export.sig.receiver();
            let what = if mutable { "&mut self" } else { "&self" };
            let message = format!(
                "an `async fn` method cannot take `{what}`: the future would hold the \
                 object's lock across every await and block all other calls on it; \
                 take `self: Arc<Self>` and keep what the future needs in `Arc`s"
            );
            match receiver {
                Some(receiver) => errors.error(receiver, message),
                None => errors.error(token, message),
            }
        }
        FnKind::Constructor if export.sig.ident == "new" => errors.error(
            token,
            "`async fn new` cannot be exported: `new` is Python's `__init__`, which cannot \
             await; keep `new` blocking and give the async constructor another name \
             (`async fn connect(..) -> Self`)",
        ),
        FnKind::Constructor
        | FnKind::Function
        | FnKind::Static
        | FnKind::SharedMethod
        | FnKind::Protocol
        | FnKind::ProtocolMethod => {}
    }
    if let Some(span) = export.batch {
        errors.push(syn::Error::new(
            span,
            "`batch` cannot loop an `async fn`: remove `batch`, or export a blocking function",
        ));
    }
    for param in &export.params {
        let borrowed = match &param.kind {
            ParamKind::Primitive(_)
            | ParamKind::Option(_)
            | ParamKind::Named(_)
            | ParamKind::Unsupported(_) => continue,
            ParamKind::Str | ParamKind::CStr => "take `String` (the future owns it)",
            ParamKind::StrList => "take `Vec<String>` (the future owns it)",
            ParamKind::Slice { .. } => "take `Vec<T>` (the future owns it)",
            ParamKind::Ref(_) => {
                "take the value itself (a record: the future owns a copy) or, for an object, \
                 `Arc<T>` of a shared one"
            }
            ParamKind::RefMut(_) => {
                "take `Arc<T>` of a shared object (one that locks its own state)"
            }
            ParamKind::Callback(_) | ParamKind::Allocator(_) | ParamKind::FnRef { .. } => {
                "callbacks and allocators live for one call; return the value instead"
            }
        };
        errors.error(
            &param.ty,
            format!(
                "an `async fn` export cannot borrow `{}`: its future outlives the call; {borrowed}",
                param.name
            ),
        );
    }
}

/// Records the problems of `#[export(..)]`'s arguments; whether the name
/// (if any) is a C identifier.
fn args(args: &Args, errors: &mut Errors) -> bool {
    let name_ok = args
        .name
        .as_ref()
        .is_none_or(|name| c_identifier(name, errors));
    for protocol in &args.protocols {
        errors.error(
            &protocol.path,
            format!(
                "`{}` is a protocol of a type: list it on the struct, enum or impl block \
                 (#[export(Display)] struct ..); a function's arguments are \
                 `name = \"c_symbol\"` and `batch`",
                protocol.protocol.name()
            ),
        );
    }
    for path in &args.unknown {
        errors.error(
            path,
            "unknown #[export] argument; the arguments are `name = \"c_symbol\"`, `batch` and \
             `keep_gil`",
        );
    }
    if let Some(error) = &args.malformed {
        errors.push(error.clone());
    }
    name_ok
}

/// Signature-level rules: everything about a function, apart from its
/// types, that a C export cannot have.
fn signature(sig: &Signature, in_impl: bool, errors: &mut Errors) {
    if let syn::Safety::Unsafe(token) = &sig.safety {
        errors.error(
            token,
            "`unsafe fn` cannot be exported: the generated shim is the only unsafe boundary; \
             make the function safe and let its parameter types carry the checks",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.error(
            abi,
            "remove the `extern` ABI: #[export] generates the `extern \"C\"` shim itself \
             and keeps this function a plain Rust function",
        );
    }
    for param in &sig.generics.params {
        let message = match param {
            GenericParam::Type(t) => format!(
                "generic type parameter `{}`: a C export must be monomorphic; \
                 export one non-generic wrapper per concrete type",
                t.ident
            ),
            GenericParam::Lifetime(l) => format!(
                "lifetime parameter `{}`: remove it; borrowed parameters only live for \
                 the call and returned values must be owned",
                l.lifetime
            ),
            GenericParam::Const(c) => format!(
                "const generic parameter `{}`: a C export must be monomorphic; \
                 take the value as a parameter or export one wrapper per value",
                c.ident
            ),
        };
        errors.error(param, message);
    }
    if let Some(clause) = &sig.generics.where_clause {
        errors.error(
            clause,
            "`where` clauses cannot be exported: a C export must be monomorphic",
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.error(
            variadic,
            "variadic functions cannot be exported: take the values as a slice (`&[T]`)",
        );
    }
    for input in sig.inputs.iter().filter(|_| !in_impl) {
        if let FnArg::Receiver(receiver) = input {
            errors.error(
                receiver,
                "`self` receivers cannot be exported from a function: export a free function \
                 that takes the value as a parameter",
            );
        }
    }
}

fn params_and_return(export: &ExportFn, errors: &mut Errors) {
    for param in &export.params {
        param_lifetimes(&param.ty, &export.declared_lifetimes, errors);
        param_kind(param, errors);
    }
    super::defaults::params(export, errors);
    let Some(ty) = &export.ret.ty else {
        return;
    };
    let message = match &export.ret.kind {
        ReturnKind::Unsupported(UnsupportedReturn::Reference) => {
            "returned references cannot be exported: the caller cannot know how long they live; \
             return an owned `String` or `Vec<T>` (freed for you by the paired `_free`)"
                .to_owned()
        }
        ReturnKind::Unsupported(UnsupportedReturn::ImplTrait) => {
            "`impl Trait` cannot be returned from an #[export] function: return a concrete type \
             (or an iterator: `impl Iterator<Item = T>`)"
                .to_owned()
        }
        ReturnKind::Unsupported(UnsupportedReturn::Pointer) => {
            "raw pointers cannot be returned: return an owned `String` or `Vec<T>`".to_owned()
        }
        ReturnKind::Unsupported(UnsupportedReturn::Never) => {
            "`!` cannot be returned from an #[export] function: return `()` (a panic becomes an error)"
                .to_owned()
        }
        ReturnKind::Unsupported(UnsupportedReturn::Other(ungrouped)) => format!(
            "`{}` cannot be returned from an #[export] function: return (), a primitive, String, Vec<T>, Option<T> or Result<T, E>",
            describe(ungrouped)
        ),
        _ => {
            for borrow in &export.ret.borrows {
                errors.error(
                    borrow,
                    "returned references cannot be exported: return an owned `String` or `Vec<T>`",
                );
            }
            if export.ret.borrows.is_empty() {
                return_lifetimes(ty, &export.declared_lifetimes, errors);
            }
            if let ReturnKind::Iterator(iter) = &export.ret.kind {
                iterator(export, iter, errors);
            }
            return;
        }
    };
    errors.error(ty, message);
}

/// What a returned iterator cannot be: borrowing (Python may keep it after
/// the call, and close or change the object it came from meanwhile), a
/// boxed one that is not `Send` (the registry hands it to any thread), or
/// the result of an `async fn`.
fn iterator(export: &ExportFn, iter: &IterReturn, errors: &mut Errors) {
    for lifetime in &iter.lifetimes {
        if lifetime.ident == "static" {
            continue;
        }
        errors.error(
            lifetime,
            format!(
                "a returned iterator cannot borrow (`+ {lifetime}`): Python keeps it after the \
                 call, and may close or change the object it borrows meanwhile; return an \
                 iterator that owns its items (`self.items.clone().into_iter()`, \
                 `std::mem::take(&mut self.items).into_iter()`) or collect them into a `Vec<T>`"
            ),
        );
    }
    if let Some(object) = &iter.unsend {
        errors.error(
            object,
            "a returned iterator may be read from any thread: write \
             `Box<dyn Iterator<Item = T> + Send>`",
        );
    }
    if let Some(token) = &export.sig.asyncness {
        errors.error(
            token,
            "an `async fn` cannot return an iterator: return a `Vec<T>`, or export a blocking \
             function returning the iterator",
        );
    }
}

/// Records an error at every lifetime in a return type other than
/// `'static` (those declared on the function or impl block are reported
/// where they are declared): the caller owns what is returned, error
/// values included, so nothing in it may borrow from the call.
fn return_lifetimes(ty: &Type, declared: &[Lifetime], errors: &mut Errors) {
    let mut found = Vec::new();
    explicit_lifetimes(ty, &mut found);
    for lifetime in found {
        if lifetime.ident == "static" || declared.iter().any(|d| d.ident == lifetime.ident) {
            continue;
        }
        errors.error(
            lifetime,
            format!(
                "`{lifetime}` in a return type: the caller owns what is returned (an `Err`'s \
                 error value too), so it cannot borrow from the call; return owned data \
                 (`String` for `&str`, `Vec<T>` for `&[T]`)"
            ),
        );
    }
}

const BORROWED: &str = "borrowed parameters may be `&str`, `&CStr`, `&[&str]`, `&[T]` or `&mut [T]` of a primitive `T`, `&R` of an #[export] struct `R`, or `&T` / `&mut T` of an #[export] impl type `T` (an object)";

/// Records the problem of a parameter type the macro did not classify.
fn param_kind(param: &Param, errors: &mut Errors) {
    let ParamKind::Unsupported(reason) = &param.kind else {
        return;
    };
    let ty = &param.ty;
    let message = match reason {
        UnsupportedParam::MutStr => "`&mut str` cannot be exported: take `&mut [u8]` to edit bytes in place, or return a `String`".to_owned(),
        UnsupportedParam::MutCStr => "`&mut CStr` cannot be exported: take `&CStr`, or `&mut [u8]` to edit bytes in place".to_owned(),
        UnsupportedParam::SliceElement(elem) => {
            errors.error(
                elem,
                format!(
                    "`{}` cannot be a slice element of an #[export] function: elements may be {}",
                    describe(elem),
                    list(&PRIMITIVES),
                ),
            );
            return;
        }
        UnsupportedParam::RefString { mutable: true } => "`&mut String` cannot be exported: a C buffer cannot grow; take `&mut [u8]` or return a `String`".to_owned(),
        UnsupportedParam::RefString { mutable: false } => "`&String` cannot be exported: take `&str` instead".to_owned(),
        UnsupportedParam::RefVec { mutable: true } => "`&mut Vec<T>` cannot be exported: a C buffer cannot grow; take `&mut [T]`, or return a `Vec<T>`".to_owned(),
        UnsupportedParam::RefVec { mutable: false } => "`&Vec<T>` cannot be exported: take a slice `&[T]` instead".to_owned(),
        UnsupportedParam::Reference { elem, mutable, primitive } => {
            let by_value = if !mutable && *primitive {
                format!("take `{}` by value; ", describe(elem))
            } else if *mutable && matches!(elem, Type::Path(_)) {
                "an #[export] struct is copied in, so changes would be lost: take it by \
                 value and return the changed copy; "
                    .to_owned()
            } else {
                String::new()
            };
            format!(
                "a reference to `{}` cannot be exported: {by_value}{BORROWED}",
                describe(elem)
            )
        }
        UnsupportedParam::FnRefKind => "a callback of the caller is borrowed as `&dyn Fn(A, ..) -> R`, \
             not `&dyn FnMut`, `&dyn FnOnce` or through `&mut`: it may be called any number of times, \
             also re-entrantly; take `impl FnMut(A, ..) -> R` by value to call it as `FnMut`, or keep \
             state in a `Cell` or `RefCell` of your own".to_owned(),
        UnsupportedParam::CallbackLifetime(lifetime) => {
            errors.error(
                lifetime,
                format!(
                    "`{lifetime}` on a callback of the caller: it is borrowed for the call only; \
                     remove the lifetime, or take `Box<dyn Fn(A, ..) -> R + Send + Sync>` to keep it"
                ),
            );
            return;
        }
        UnsupportedParam::ImplTrait => "`impl Trait` parameters make the function generic and cannot be exported: take a concrete type \
             (a callback of the caller may be `impl Fn(A, ..) -> R` or `&dyn Fn(A, ..) -> R`)".to_owned(),
        UnsupportedParam::Pointer => "raw pointer parameters cannot be exported: take `&str`, `&CStr`, `&[T]` or `&mut [T]`; \
             the shim receives the C pointer and checks it (NULL, alignment, length) for you".to_owned(),
        UnsupportedParam::Unit => "`()` cannot be a parameter: remove it".to_owned(),
        UnsupportedParam::Other(ungrouped) => format!(
            "`{}` cannot be a parameter of an #[export] function: take a primitive \
             (integer, float or bool) by value, or borrow `&str`, `&CStr`, `&[T]` or `&mut [T]` \
             of a primitive `T`",
            describe(ungrouped)
        ),
    };
    errors.error(ty, message);
}

/// `batch` loops over arrays of primitives.
fn batch(export: &ExportFn, span: proc_macro2::Span, errors: &mut Errors) {
    let primitive_params = export
        .params
        .iter()
        .all(|param| matches!(param.kind, ParamKind::Primitive(_)));
    let primitive_return = match &export.ret.kind {
        ReturnKind::Primitive => true,
        ReturnKind::Result(ok) => matches!(**ok, ReturnKind::Primitive),
        _ => false,
    };
    if !(primitive_params && primitive_return && !export.params.is_empty()) {
        errors.push(syn::Error::new(
            span,
            "`batch` loops over arrays of the parameters: it needs at least one parameter, \
             all primitives (integers, floats, bool), and a primitive result (or `Result` of one)",
        ));
    }
}

/// `keep_gil` keeps the GIL held during a Python call: pointless for an
/// `async fn` (the call only starts the task), and a deadlock for anything
/// that can run Python code during the call (a callback or a Python trait
/// object called from a thread the function waits for could never take
/// the GIL). Parameters must be plain values: primitives, strings, slices
/// of numbers and owned values of those (the fast path's kinds).
fn keep_gil(export: &ExportFn, span: proc_macro2::Span, errors: &mut Errors) {
    if export.sig.asyncness.is_some() {
        errors.push(syn::Error::new(
            span,
            "`keep_gil` is pointless on an `async fn`: the call only starts the task, and the \
             future runs on the library's threads without the GIL; remove `keep_gil`",
        ));
    }
    for param in &export.params {
        let plain = match &param.kind {
            // A `Callback` runs on the calling thread only (it is neither
            // `Send` nor `Sync`), which holds the GIL.
            ParamKind::Primitive(_) | ParamKind::Str | ParamKind::Callback(_) => true,
            ParamKind::Slice { numeric, .. } => *numeric,
            ParamKind::Named(_) | ParamKind::Option(_) => param.native,
            _ => false,
        };
        if !plain {
            errors.error(
                &param.ty,
                format!(
                    "a `keep_gil` function takes plain values only, and `{}` is not one: \
                     `&dyn Fn` callbacks, trait objects, objects and records can run Python code \
                     on other threads during the call, which would wait forever for the GIL; \
                     take primitives, `&str`, slices of numbers, owned `String`/`Vec`/`Option`/\
                     map values of those or `Callback<fn(..)>` (called on this thread only), \
                     or remove `keep_gil`",
                    param.name
                ),
            );
        }
    }
}

/// Records an error at every explicit lifetime in a parameter type other
/// than `'_`: an argument is lent to Rust for the call only (the caller
/// frees or reuses its memory right after), so a signature that names a
/// longer lifetime (`&'static str`, `Callback<'static, ..>`) would let the
/// function keep it. Lifetimes declared on the function or impl block are
/// reported once, where they are declared.
fn param_lifetimes(ty: &Type, declared: &[Lifetime], errors: &mut Errors) {
    let mut found = Vec::new();
    explicit_lifetimes(ty, &mut found);
    for lifetime in found {
        if lifetime.ident == "_" || declared.iter().any(|d| d.ident == lifetime.ident) {
            continue;
        }
        errors.error(
            lifetime,
            format!(
                "`{lifetime}` on a parameter: arguments are lent to Rust only for the call \
                 (the caller frees or reuses them right after), so they cannot be kept; \
                 write `{}` and copy what must outlive the call{}",
                without_lifetimes(ty),
                keep_hint(ty),
            ),
        );
    }
}

/// Every explicit lifetime written in `ty`, in order.
fn explicit_lifetimes<'t>(ty: &'t Type, found: &mut Vec<&'t Lifetime>) {
    match ty {
        Type::Reference(reference) => {
            found.extend(reference.lifetime.as_ref());
            explicit_lifetimes(&reference.elem, found);
        }
        Type::Slice(slice) => explicit_lifetimes(&slice.elem, found),
        Type::Array(array) => explicit_lifetimes(&array.elem, found),
        Type::Paren(paren) => explicit_lifetimes(&paren.elem, found),
        Type::Group(group) => explicit_lifetimes(&group.elem, found),
        Type::Ptr(ptr) => explicit_lifetimes(&ptr.elem, found),
        Type::Tuple(tuple) => tuple
            .elems
            .iter()
            .for_each(|elem| explicit_lifetimes(elem, found)),
        Type::Path(path) => {
            for segment in &path.path.segments {
                if let PathArguments::AngleBracketed(args) = &segment.arguments {
                    for arg in &args.args {
                        match arg {
                            GenericArgument::Lifetime(lifetime) => found.push(lifetime),
                            GenericArgument::Type(inner) => explicit_lifetimes(inner, found),
                            _ => {}
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// `ty` as written, with every lifetime removed, for messages.
fn without_lifetimes(ty: &Type) -> String {
    let mut ty = ty.clone();
    strip_lifetimes(&mut ty);
    ty.to_token_stream()
        .to_string()
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace("& ", "&")
        .replace(" ,", ",")
}

fn strip_lifetimes(ty: &mut Type) {
    match ty {
        Type::Reference(reference) => {
            reference.lifetime = None;
            strip_lifetimes(&mut reference.elem);
        }
        Type::Slice(slice) => strip_lifetimes(&mut slice.elem),
        Type::Array(array) => strip_lifetimes(&mut array.elem),
        Type::Paren(paren) => strip_lifetimes(&mut paren.elem),
        Type::Group(group) => strip_lifetimes(&mut group.elem),
        Type::Ptr(ptr) => strip_lifetimes(&mut ptr.elem),
        Type::Tuple(tuple) => tuple.elems.iter_mut().for_each(strip_lifetimes),
        Type::Path(path) => {
            for segment in path.path.segments.iter_mut() {
                if let PathArguments::AngleBracketed(args) = &mut segment.arguments {
                    let kept: Punctuated<GenericArgument, Token![,]> = args
                        .args
                        .iter()
                        .filter(|arg| !matches!(arg, GenericArgument::Lifetime(_)))
                        .cloned()
                        .map(|mut arg| {
                            if let GenericArgument::Type(inner) = &mut arg {
                                strip_lifetimes(inner);
                            }
                            arg
                        })
                        .collect();
                    if kept.is_empty() {
                        segment.arguments = PathArguments::None;
                    } else {
                        args.args = kept;
                    }
                }
            }
        }
        _ => {}
    }
}

/// How to keep what a parameter of this type lends, for messages.
fn keep_hint(ty: &Type) -> &'static str {
    let text = ty.to_token_stream().to_string();
    if text.contains("Callback") {
        " (a callback can only be called during the call)"
    } else if text.contains("Allocator") {
        " (what the allocator hands out already belongs to the caller)"
    } else if text.contains("str") || text.contains("CStr") {
        " (`text.to_owned()`)"
    } else if matches!(ty, Type::Reference(r) if matches!(*r.elem, Type::Slice(_))) {
        " (`values.to_vec()`)"
    } else {
        ""
    }
}
