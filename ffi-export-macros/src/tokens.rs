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
pub struct AtType {
    /// The span of the type's first token.
    pub first: Span,
    /// The span of the type's last token.
    pub last: Span,
    /// `<T as ::ffi_export::__private::Trait>`.
    qualified: TokenStream,
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
        AtType {
            first,
            last,
            qualified,
        }
    }

    /// `<T as Trait>::item`: an associated type, const or function.
    pub fn item(&self, item: &str) -> TokenStream {
        let qualified = &self.qualified;
        let item = Ident::new(item, self.last);
        quote_spanned!(self.last=> #qualified::#item)
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
