//! Token helpers every expansion uses: the runtime's path, hidden names,
//! the call scope, and `AtType`, which spans generated code at a user's
//! type so rustc reports a missing impl there, once.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};

/// The runtime, as generated code names it.
pub fn runtime() -> TokenStream {
    quote!(::ffi_export::__private)
}

/// A generated identifier, hygienic by its prefix.
pub fn hidden_ident(prefix: &str, name: &str) -> Ident {
    Ident::new(&format!("__ffi_export_{prefix}_{name}"), Span::call_site())
}

/// A crate-wide marker of the exported C symbol `name`, so that two exports
/// of one symbol anywhere in the crate fail `cargo check` at both, saying
/// what to do.
///
/// Exported symbols are global but Rust modules are not: `geometry::area`
/// and `sprites::area` both export `area`, and rustc only finds out when it
/// emits the object file ("symbol `area` is already defined", at one
/// `#[export]`, and not at all under `cargo check`). A `#[macro_export]`
/// macro is defined at the crate root whatever module it is written in, so
/// one per symbol makes the second export a name clash (E0428) that rustc
/// reports while checking, spanned at both exports (`span`: the function's
/// name or its `name = ".."`). The macro's name is the message.
pub fn symbol_guard(name: &str, span: Span) -> TokenStream {
    let guard = Ident::new(
        &format!("C_symbol_{name}_is_exported_twice__give_one_export_a_name_argument"),
        span,
    );
    quote_spanned! {span=>
        #[doc(hidden)]
        #[macro_export]
        macro_rules! #guard {
            () => {};
        }
    }
}

/// The local holding a call's `CallScope`: its name is what rustc shows
/// when a function would keep an argument.
pub const SCOPE_BINDING: &str = "arguments_live_only_during_the_call";

/// The call's borrow scope, `__ffi_scope`: every borrowed argument is lifted
/// with its lifetime, so a function that would keep one past the call (a
/// `'static` hidden behind a type alias, say) is a borrow error naming it.
/// `name` is the function's name: rustc's message shows the scope there.
pub fn call_scope(name: Span) -> TokenStream {
    let binding = Ident::new(SCOPE_BINDING, name);
    quote! {
        let #binding = ::ffi_export::__private::CallScope::new();
        let __ffi_scope = &#binding;
    }
}

/// A parameter's or field's default for the description: `None`, or a
/// block holding the constants through which rustc checks the value
/// against the type, spanned at the value (`const _: u8 = 300;` is an
/// error there), then `Some("<JSON>")`.
pub fn default_value(ffi: &crate::model::FfiAttrs) -> TokenStream {
    let Some(Ok(value)) = ffi.default.as_ref().map(|default| &default.value) else {
        return option(None);
    };
    let json = &value.json;
    let checks = value.checks.iter().map(|(ty, expr)| {
        let span = syn::spanned::Spanned::span(expr);
        quote_spanned!(span=> const _: #ty = #expr;)
    });
    let some = option(Some(quote!(#json)));
    quote!({ #(#checks)* #some })
}

/// `Some(value)` or `None`, as generated code writes them.
pub fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

/// Generated code naming a user's type through one runtime trait, spanned
/// so that rustc reports a missing impl once, on the user's type.
///
/// rustc reports a failed bound at the expression or type it checks, which
/// spans from its first token to its last, and prints identical diagnostics
/// once. Code built here starts with the type's first token's span and ends
/// with its last's, so every use is reported exactly where the type is
/// written (rather than once more per use, at `#[export]`).
///
/// For the diagnostics to be identical, each use must also fail the same
/// way: through the trait's associated type (rustc then words the error
/// with the message of the trait that is missing underneath, e.g.
/// `FfiLift`'s "cannot be copied across an #[export] boundary"). A bare
/// associated const fails as "the trait bound is not satisfied" instead,
/// so [`AtType::konst`] names the associated type first.
pub struct AtType {
    /// The span of the type's first token.
    pub first: Span,
    /// The span of the type's last token.
    pub last: Span,
    /// `<T as ::ffi_export::__private::Trait>`.
    qualified: TokenStream,
    /// The trait's associated type (`Repr`, `Abi`, `Raw`).
    assoc_type: &'static str,
}

impl AtType {
    /// `ty` through the runtime trait `trait_name`.
    pub fn new(ty: &syn::Type, trait_name: &str) -> AtType {
        let mut tokens = ty.to_token_stream().into_iter();
        let first = tokens
            .next()
            .map_or_else(Span::call_site, |token| token.span());
        let last = tokens.last().map_or(first, |token| match token {
            proc_macro2::TokenTree::Group(group) => group.span_close(),
            other => other.span(),
        });
        let open = quote_spanned!(first=> <);
        let trait_ident = Ident::new(trait_name, last);
        let qualified = quote_spanned!(last=> #open #ty as ::ffi_export::__private::#trait_ident>);
        let assoc_type = match trait_name {
            "FfiValue" | "CallArg" => "Repr",
            "ForeignReturn" => "OkRepr",
            "FfiElement" | "FfiSliceElem" => "Raw",
            // FfiParam, IntoFfi.
            _ => "Abi",
        };
        AtType {
            first,
            last,
            qualified,
            assoc_type,
        }
    }

    /// `<T as Trait>::item`: an associated type, const or function.
    pub fn item(&self, item: &str) -> TokenStream {
        let qualified = &self.qualified;
        let item = Ident::new(item, self.last);
        quote_spanned!(self.last=> #qualified::#item)
    }

    /// `<T as Trait>::CONST` in a block that first names the trait's
    /// associated type (`let _: PhantomData<<T as Trait>::Repr>;`), so an
    /// unsupported type fails there, as everywhere else.
    pub fn konst(&self, item: &str) -> TokenStream {
        let assoc_type = self.item(self.assoc_type);
        let item = self.item(item);
        let body = quote_spanned! {self.last=>
            let _: ::core::marker::PhantomData<#assoc_type>;
            #item
        };
        let mut block = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, body);
        block.set_span(self.last);
        let open = quote_spanned!(self.first=> ::core::convert::identity);
        quote_spanned!(self.last=> #open(#block))
    }

    /// `<<T as Trait>::Assoc as ::ffi_export::__private::Other>::item`: an
    /// item of the type's C form.
    pub fn assoc_item(&self, other: &str, item: &str) -> TokenStream {
        let open = quote_spanned!(self.first=> <);
        let assoc_type = self.item(self.assoc_type);
        let other = Ident::new(other, self.last);
        let item = Ident::new(item, self.last);
        quote_spanned!(self.last=> #open #assoc_type as ::ffi_export::__private::#other>::#item)
    }

    /// `function(args)`, spanning the type (`function` starts at its first
    /// token; the parentheses are at its last).
    pub fn call(&self, function: &TokenStream, args: TokenStream) -> TokenStream {
        quote_spanned!(self.last=> #function(#args))
    }

    /// A field's `name` at the type's first token: a struct literal's
    /// `name: value` then spans the type. (Field names resolve by name; a
    /// span only *located* at the type would keep the expansion's context,
    /// and rustc would word the error differently: "in this attribute
    /// macro expansion".)
    pub fn field_at_first(&self, name: &Ident) -> Ident {
        let mut name = name.clone();
        name.set_span(self.first);
        name
    }

    /// A generated binding's `name` located at the type's first token (it
    /// resolves as before): a parameter's `name: Type` then spans the type.
    pub fn binding_at_first(&self, name: &Ident) -> Ident {
        let mut name = name.clone();
        name.set_span(name.span().located_at(self.first));
        name
    }

    /// `prefix binding.field` (`&repr.x`), spanning the type: the prefix
    /// and binding at its first token, `.field` at its last. rustc checks
    /// a field's type at the field expression.
    pub fn place(&self, prefix: TokenStream, binding: &str, field: &Ident) -> TokenStream {
        let prefix = prefix.into_iter().map(|mut token| {
            token.set_span(token.span().located_at(self.first));
            token
        });
        let binding = Ident::new(binding, Span::call_site().located_at(self.first));
        let mut field = field.clone();
        field.set_span(self.last);
        quote_spanned!(self.last=> #(#prefix)* #binding . #field)
    }

    /// `::ffi_export::__private::function::<T>`, a runtime function generic
    /// over the type.
    pub fn runtime_fn(&self, function: &str, ty: &syn::Type) -> TokenStream {
        let root = quote_spanned!(self.first=> ::);
        let function = Ident::new(function, self.last);
        quote_spanned!(self.last=> #root ffi_export::__private::#function::<#ty>)
    }

    /// `expr` as an expression spanning the type: rustc checks an argument
    /// against the parameter type at the argument's span.
    pub fn wrap(&self, expr: &impl ToTokens) -> TokenStream {
        let identity = quote_spanned!(self.first=> ::core::convert::identity);
        quote_spanned!(self.last=> #identity(#expr))
    }
}

/// The `TYPES` registration of an `#[export]` type: every such type is in
/// the library's description, whether or not an export mentions it.
/// `error`: an `Err` of the type keeps its value (records and enums; not
/// objects, which live behind handles).
pub fn type_entry(ty: &impl quote::ToTokens, name: &str, error: bool) -> proc_macro2::TokenStream {
    let rt = runtime();
    let entry = hidden_ident("type", name);
    let encoder = option(error.then(|| quote!(#rt::encode_error::<#ty>)));
    quote::quote! {
        #[#rt::linkme::distributed_slice(#rt::TYPES)]
        #[linkme(crate = #rt::linkme)]
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #entry: #rt::TypeEntry = #rt::TypeEntry {
            desc: <#ty as #rt::FfiData>::DESC,
            type_id: ::core::any::TypeId::of::<#ty>,
            error: #encoder,
        };
    }
}

/// The result types `R` of every `Fn(..) -> R` (`FnMut`, `FnOnce`) bound
/// written inside `ty`, at any depth: the results of the caller's
/// functions when `ty` is a parameter (`Box<dyn Fn(..) -> R + Send +
/// Sync>`, `&dyn Fn`, `impl Fn`, inside `Vec`, `Option`, maps...).
pub fn closure_results(ty: &syn::Type, found: &mut Vec<syn::Type>) {
    match ty {
        syn::Type::Path(path) => {
            if let Some(qself) = &path.qself {
                closure_results(&qself.ty, found);
            }
            for segment in &path.path.segments {
                generic_types(&segment.arguments, found);
            }
        }
        syn::Type::Reference(reference) => closure_results(&reference.elem, found),
        syn::Type::Paren(paren) => closure_results(&paren.elem, found),
        syn::Type::Group(group) => closure_results(&group.elem, found),
        syn::Type::Slice(slice) => closure_results(&slice.elem, found),
        syn::Type::Array(array) => closure_results(&array.elem, found),
        syn::Type::Tuple(tuple) => tuple.elems.iter().for_each(|t| closure_results(t, found)),
        syn::Type::TraitObject(object) => bound_results(object.bounds.iter(), found),
        syn::Type::ImplTrait(bounds) => bound_results(bounds.bounds.iter(), found),
        _ => {}
    }
}

fn generic_types(arguments: &syn::PathArguments, found: &mut Vec<syn::Type>) {
    if let syn::PathArguments::AngleBracketed(generic) = arguments {
        for argument in &generic.args {
            if let syn::GenericArgument::Type(ty) = argument {
                closure_results(ty, found);
            }
        }
    }
}

fn bound_results<'a>(
    bounds: impl Iterator<Item = &'a syn::TypeParamBound>,
    found: &mut Vec<syn::Type>,
) {
    for bound in bounds {
        let syn::TypeParamBound::Trait(bound) = bound else {
            continue;
        };
        for segment in &bound.path.segments {
            match &segment.arguments {
                syn::PathArguments::Parenthesized(signature)
                    if ["Fn", "FnMut", "FnOnce"].iter().any(|f| segment.ident == f) =>
                {
                    if let syn::ReturnType::Type(_, ret) = &signature.output {
                        found.push((**ret).clone());
                        closure_results(ret, found);
                    }
                }
                other => generic_types(other, found),
            }
        }
    }
}

/// A compile-time refusal of `ret`, the result of a function the caller
/// implements (a trait method, a closure), when it holds objects of an
/// `#[export] impl` by value (`ForeignReturn::OBJECTS`), spanned at `ret`.
pub fn refuse_object_results(ret: &syn::Type) -> TokenStream {
    let at = AtType::new(ret, "ForeignReturn");
    let objects = at.konst("OBJECTS");
    // The assertion spans the whole type: its path at the first token, its
    // parentheses at the last.
    let assert = quote_spanned!(at.first=> ::core::assert!);
    quote_spanned! {at.last=>
        #[allow(clippy::type_complexity)]
        const _: () = #assert(
            !#objects,
            "a result of a function the caller implements (a trait method, a closure) cannot hold an object of an #[export] impl by value: the caller's object would be moved out from under it; return `Arc<Object>` (a shared object, `Arc<Self>` constructors) instead"
        );
    }
}
