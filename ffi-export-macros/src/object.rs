//! `#[export] impl Type { .. }`: every `pub fn` becomes an export named
//! `<Type>_<fn>`; values of `Type` live in the runtime's handle registry and
//! `<Type>_free` drops one. Constructors are the associated functions that
//! return `Self` (or `Result`/`Option` of it).

use crate::errors::Errors;
use crate::expand::expand;
use crate::model::hidden_ident;
use crate::parse::{self, doc_lines};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{ImplItem, ItemImpl, Type, Visibility};

/// Expands an `#[export] impl` block.
pub fn export_impl(args: TokenStream, item: ItemImpl) -> Result<TokenStream, syn::Error> {
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.error(&args, "#[export] on an impl block takes no arguments");
    }
    if let Some((_, path, _)) = &item.trait_ {
        errors.error(
            path,
            "trait impls cannot be exported: put #[export] on an inherent `impl Type { .. }` \
             whose `pub fn`s call the trait methods",
        );
    }
    let owner: &Type = &item.self_ty;
    let last_segment = match owner {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    };
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
    let type_name = last_segment
        .filter(|segment| segment.arguments.is_empty())
        .map(|segment| segment.ident.to_string());
    let Some(type_name) = type_name else {
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
            errors.push(syn::Error::new_spanned(owner, message));
        }
        return errors.finish().map(|()| TokenStream::new());
    };
    let methods: Vec<_> = item
        .items
        .iter()
        .filter_map(|impl_item| match impl_item {
            ImplItem::Fn(method) if matches!(method.vis, Visibility::Public(_)) => Some(method),
            _ => None,
        })
        .collect();
    // (A trait impl has no `pub fn` by nature: it was reported above.)
    if methods.is_empty() && item.trait_.is_none() {
        errors.error(
            &item.self_ty,
            "this #[export] impl has no `pub fn`: only its `pub` associated functions are \
             exported; mark the ones to export `pub` (private and `pub(crate)` ones stay Rust-only)",
        );
    }
    crate::validate::c_symbol(
        &format!("{type_name}_free"),
        item.self_ty.span(),
        &mut errors,
    );
    let models: Vec<_> = methods
        .iter()
        .map(|method| parse::export_method(owner, &type_name, &item.generics, method, &mut errors))
        .collect();
    errors.finish()?;

    let rt = quote!(::ffi_export::__private);
    let shims = models.iter().map(expand);
    let desc_fn = format_ident!("__ffi_export_object_{}", type_name);
    let free_name = format!("{type_name}_free");
    let free_ident = hidden_ident("free", &type_name);
    let doc = doc_lines(&item.attrs);
    Ok(quote! {
        #item

        impl #rt::FfiObject for #owner {
            const DESC: #rt::TypeDesc = #rt::TypeDesc::Object(#desc_fn);
        }

        // SAFETY: an object's C form is its registry handle (a u64, 0 for
        // none); it is freed through `<Type>_free`, not here.
        unsafe impl #rt::FfiData for #owner {
            type Repr = u64;
            const DESC: #rt::TypeDesc = #rt::TypeDesc::Object(#desc_fn);
            const OWNED: bool = false;
            // Returned as handles only: no `FfiLift`, so a parameter or record
            // field holding an object is a compile error.
            fn into_repr(self) -> u64 {
                #rt::register(self)
            }
            unsafe fn free_repr(_: &mut u64) {}
        }

        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #desc_fn() -> &'static #rt::ObjectDesc {
            static DESC: #rt::ObjectDesc = #rt::ObjectDesc {
                name: #type_name,
                module: ::core::module_path!(),
                doc: #doc,
                free: #free_name,
            };
            &DESC
        }

        /// Drops the object behind `handle`; 0 and freed handles are no-ops.
        #[doc(hidden)]
        // SAFETY: `<Type>_free` was checked not to be a C library, CPython or
        // ffi-export symbol (validate::c_symbol).
        #[unsafe(export_name = #free_name)]
        #[allow(non_snake_case)]
        pub extern "C" fn #free_ident(handle: u64) {
            #rt::call(move || #rt::release::<#owner>(handle))
        }

        #(#shims)*
    })
}
