//! `#[export] struct`: a struct with named fields becomes a record (a
//! `#[repr(C)]` mirror of C forms, copied in and out, deep-freed); a
//! `#[repr(C)]` struct of numbers crosses as itself. Each gets `FfiData`,
//! `FfiLift`, `FfiParam` and its self-description.

use crate::model::Record;
use crate::tokens::{runtime, AtType};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

/// `#[export] struct`.
pub fn record(record: &Record) -> TokenStream {
    let item = &record.item;
    let fields = &record.fields;
    let pod = record.is_plain_data();
    let rt = runtime();
    let ident = &item.ident;
    let name = ident.to_string();
    let doc = &record.doc;
    let desc_fn = format_ident!("__ffi_export_record_{}", ident);
    let field_idents: Vec<_> = fields.iter().map(|f| &f.ident).collect();
    let field_names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    // Every field through `FfiLift` (a record is copied in as well as out):
    // an unsupported field type, or an object, is one error at the field.
    let as_data: Vec<AtType> = fields
        .iter()
        .map(|f| AtType::new(&f.ty, "FfiValue"))
        .collect();
    let field_descs = as_data.iter().map(|at| at.item("DESC"));

    let desc = quote! {
        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #desc_fn() -> &'static #rt::RecordDesc {
            static DESC: #rt::RecordDesc = #rt::RecordDesc {
                name: #name,
                module: ::core::module_path!(),
                doc: #doc,
                fields: &[#(#rt::FieldDesc { name: #field_names, ty: #field_descs }),*],
                pod: #pod,
                size: ::core::mem::size_of::<#ident>(),
                align: ::core::mem::align_of::<#ident>(),
            };
            &DESC
        }
    };
    let param = by_pointer_param(ident);
    let error_values = as_data
        .iter()
        .map(|at| {
            let repr = at.item("Repr");
            quote!(<#repr as #rt::AbiValue>::error_value())
        })
        .collect::<Vec<_>>();

    let body = if pod {
        let checks = fields.iter().map(|f| {
            let ty = &f.ty;
            quote_spanned! {ty.span()=>
                const _: fn() = || {
                    // A #[repr(C)] record crosses as itself: every field must be
                    // a number or another #[repr(C)] record (`bool` is not: C
                    // may store any byte in it).
                    fn plain_data<T: #rt::FfiElement<Raw = T>>() {}
                    plain_data::<#ty>();
                };
            }
        });
        quote! {
            #(#checks)*
            const _: fn() = || {
                // A #[repr(C)] record is copied bit for bit: derive Clone and Copy.
                fn copy<T: ::core::marker::Copy>() {}
                copy::<#ident>();
            };
            // SAFETY: a #[repr(C)] struct of plain numbers (checked above) is
            // its own C form; every bit pattern is valid; nothing to free.
            unsafe impl #rt::FfiData for #ident {
                type Repr = #ident;
                const DESC: #rt::TypeDesc = #rt::TypeDesc::Record(#desc_fn);
                const OWNED: bool = false;
                #[inline]
                fn into_repr(self) -> Self { self }
                #[inline]
                unsafe fn free_repr(_: &mut Self) {}
            }
            // SAFETY: as above; any bits of its number fields are valid.
            unsafe impl #rt::FfiLift for #ident {
                #[inline]
                unsafe fn from_repr(repr: &Self) -> ::core::result::Result<Self, ::std::string::String> {
                    // SAFETY: `Self: Copy` is checked above, so a bitwise copy
                    // is a copy.
                    ::core::result::Result::Ok(unsafe { ::core::ptr::read(repr) })
                }
            }
            // SAFETY: as above; slices of it are borrowed in place.
            unsafe impl #rt::FfiElement for #ident {
                type Raw = #ident;
                const DESC: #rt::TypeDesc = #rt::TypeDesc::Record(#desc_fn);
                #[inline]
                fn valid(_: &[#ident]) -> bool { true }
            }
            // SAFETY: every field's empty value: plain numbers own nothing.
            unsafe impl #rt::AbiValue for #ident {
                fn error_value() -> Self {
                    #ident { #(#field_idents: #error_values),* }
                }
            }
        }
    } else {
        let repr = format_ident!("__FfiRepr_{}", ident);
        let reprs = as_data.iter().map(|at| at.item("Repr"));
        let into = as_data.iter().map(|at| at.item("into_repr"));
        let from = as_data.iter().map(|at| at.item("from_repr"));
        let free = as_data.iter().map(|at| at.item("free_repr"));
        let owned = as_data.iter().map(|at| at.item("OWNED"));
        quote! {
            #[doc(hidden)]
            #[repr(C)]
            #[allow(non_camel_case_types)]
            pub struct #repr {
                #(pub #field_idents: #reprs),*
            }
            // SAFETY: every field's own empty value, which owns nothing.
            unsafe impl #rt::AbiValue for #repr {
                fn error_value() -> Self {
                    #repr { #(#field_idents: #error_values),* }
                }
            }
            // SAFETY: the mirror is #[repr(C)] of the fields' C forms; each
            // field converts, checks and frees through its own FfiData.
            unsafe impl #rt::FfiData for #ident {
                type Repr = #repr;
                const DESC: #rt::TypeDesc = #rt::TypeDesc::Record(#desc_fn);
                const OWNED: bool = false #(|| #owned)*;
                fn into_repr(self) -> #repr {
                    #repr { #(#field_idents: #into(self.#field_idents)),* }
                }
                unsafe fn free_repr(repr: &mut #repr) {
                    // SAFETY: `repr` was made by `into_repr` (the caller's
                    // contract), so each field by its field's `into_repr`.
                    #(unsafe { #free(&mut repr.#field_idents) };)*
                }
            }
            // SAFETY: each field is lifted through its own checks.
            unsafe impl #rt::FfiLift for #ident {
                unsafe fn from_repr(repr: &#repr) -> ::core::result::Result<Self, ::std::string::String> {
                    // SAFETY: pointers inside `repr` are NULL or readable (the
                    // caller's contract), so are those inside each field.
                    ::core::result::Result::Ok(#ident {
                        #(#field_idents: unsafe { #from(&repr.#field_idents) }
                            .map_err(|why| ::std::format!("field `{}`: {}", #field_names, why))?,)*
                    })
                }
            }
        }
    };
    quote! {
        #item
        #body
        #param
        #desc
    }
}

/// `FfiParam` for a type that crosses by pointer to its C form (records and
/// enums with data, as `T` or `&T` parameters): copied in, NULL refused.
pub fn by_pointer_param(ident: &syn::Ident) -> TokenStream {
    let rt = runtime();
    quote! {
        // SAFETY: NULL-checked pointer to the C form, copied through
        // FfiLift::from_repr's checks.
        unsafe impl #rt::FfiParam for #ident {
            type Abi = *const <#ident as #rt::FfiData>::Repr;
            const DESC: #rt::TypeDesc = <#ident as #rt::FfiData>::DESC;
            type Lifted<'s> = Self;
            unsafe fn lift(abi: Self::Abi, param: &'static str, _: &#rt::CallScope) -> ::core::result::Result<Self, #rt::Fault> {
                // SAFETY: the C contract makes the pointer NULL or valid for the call.
                unsafe { #rt::lift_by_pointer::<#ident>(abi, param) }
            }
        }
    }
}
