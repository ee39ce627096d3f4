//! `#[export]` on data types: a struct with named fields becomes a record
//! (a `#[repr(C)]` mirror of C forms, copied in and out, deep-freed), a
//! `#[repr(C)]` struct of numbers crosses as itself, and a field-less enum
//! crosses as its checked discriminant. Each gets `FfiData`, `FfiParam` and
//! its self-description.

use crate::errors::Errors;
use crate::expand::AtType;
use crate::parse::doc_lines;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Fields, ItemEnum, ItemStruct};

fn reject_args(args: TokenStream, what: &str, errors: &mut Errors) {
    if !args.is_empty() {
        errors.error(args, format!("#[export] on {what} takes no arguments"));
    }
}

fn reject_generics(generics: &syn::Generics, errors: &mut Errors) {
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        errors.error(
            generics,
            "generic types cannot be exported: C needs one concrete layout; export a non-generic type",
        );
    }
}

/// `#[export] struct`.
pub fn export_struct(args: TokenStream, item: ItemStruct) -> Result<TokenStream, syn::Error> {
    let mut errors = Errors::default();
    reject_args(args, "a struct", &mut errors);
    reject_generics(&item.generics, &mut errors);
    let fields = match &item.fields {
        Fields::Named(named) => named.named.iter().collect::<Vec<_>>(),
        other => {
            errors.error(
                other,
                "records cross by field name: give the struct named fields (`struct S { x: f64 }`)",
            );
            Vec::new()
        }
    };
    for field in &fields {
        crate::validate::field_type(&field.ty, &mut errors);
    }
    let pod = crate::validate::plain_data_repr(&item.attrs, &mut errors);
    if pod {
        for field in &fields {
            let owned = ["bool", "String", "Vec", "Option"]
                .iter()
                .find(|name| crate::parse::is_named(&field.ty, name));
            if let Some(name) = owned {
                errors.error(
                    &field.ty,
                    format!(
                        "a #[repr(C)] #[export] struct crosses bit for bit, so its fields must be \
                         numbers or other #[repr(C)] structs, not `{name}`; remove #[repr(C)] to \
                         make it a record that is converted field by field"
                    ),
                );
            }
        }
    }
    errors.finish()?;

    let rt = quote!(::ffi_export::__private);
    let ident = &item.ident;
    let name = ident.to_string();
    let doc = doc_lines(&item.attrs);
    let desc_fn = format_ident!("__ffi_export_record_{}", ident);
    let field_idents: Vec<_> = fields.iter().filter_map(|f| f.ident.as_ref()).collect();
    let field_names: Vec<String> = field_idents
        .iter()
        .map(|i| i.to_string().trim_start_matches("r#").to_owned())
        .collect();
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
    Ok(quote! {
        #item
        #body
        #param
        #desc
    })
}

/// The integer type of `#[repr(..)]` on an enum, `i32` by default.
fn enum_repr(attrs: &[syn::Attribute]) -> syn::Ident {
    const INTS: [&str; 10] = [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "isize", "usize",
    ];
    for attr in attrs.iter().filter(|a| a.path().is_ident("repr")) {
        if let Ok(reprs) = attr.parse_args_with(
            syn::punctuated::Punctuated::<syn::Ident, syn::Token![,]>::parse_terminated,
        ) {
            if let Some(int) = reprs.iter().find(|r| INTS.iter().any(|i| *r == i)) {
                return int.clone();
            }
        }
    }
    format_ident!("i32")
}

/// `#[export] enum` (field-less).
pub fn export_enum(args: TokenStream, item: ItemEnum) -> Result<TokenStream, syn::Error> {
    let mut errors = Errors::default();
    reject_args(args, "an enum", &mut errors);
    reject_generics(&item.generics, &mut errors);
    for field in item
        .variants
        .iter()
        .flat_map(|variant| variant.fields.iter())
    {
        crate::validate::field_type(&field.ty, &mut errors);
    }
    if item
        .variants
        .iter()
        .any(|variant| !matches!(variant.fields, Fields::Unit))
    {
        errors.finish()?;
        return Ok(export_data_enum(&item));
    }
    if item.variants.is_empty() {
        errors.error(
            &item.ident,
            "an enum without variants has no values to pass",
        );
    }
    errors.finish()?;

    let rt = quote!(::ffi_export::__private);
    let ident = &item.ident;
    let name = ident.to_string();
    let doc = doc_lines(&item.attrs);
    let repr = enum_repr(&item.attrs);
    let repr_name = repr.to_string();
    let desc_fn = format_ident!("__ffi_export_enum_{}", ident);
    let variants: Vec<_> = item.variants.iter().map(|v| &v.ident).collect();
    let variant_names: Vec<String> = variants.iter().map(|v| v.to_string()).collect();
    let expected = variant_names.join(", ");
    let fit_message = format!("a discriminant of `{name}` does not fit its C type `{repr_name}`: add `#[repr(i64)]` (or another integer type)");
    Ok(quote! {
        #item

        #(const _: () = ::core::assert!(
            (#ident::#variants as i128) == ((#ident::#variants as #repr) as i128),
            #fit_message
        );)*

        // SAFETY: the discriminant integer is the C form; from_repr accepts
        // only the declared discriminants.
        unsafe impl #rt::FfiData for #ident {
            type Repr = #repr;
            const DESC: #rt::TypeDesc = #rt::TypeDesc::Enum(#desc_fn);
            const OWNED: bool = false;
            #[inline]
            fn into_repr(self) -> #repr {
                self as #repr
            }
            #[inline]
            unsafe fn free_repr(_: &mut #repr) {}
        }

        // SAFETY: only a declared discriminant becomes a value.
        unsafe impl #rt::FfiLift for #ident {
            unsafe fn from_repr(repr: &#repr) -> ::core::result::Result<Self, ::std::string::String> {
                #(if *repr == #ident::#variants as #repr {
                    return ::core::result::Result::Ok(#ident::#variants);
                })*
                ::core::result::Result::Err(::std::format!(
                    "{} is not a `{}` (variants: {})", repr, #name, #expected
                ))
            }
        }

        // SAFETY: the discriminant integer, checked by from_repr.
        unsafe impl #rt::FfiParam for #ident {
            type Abi = #repr;
            const DESC: #rt::TypeDesc = <#ident as #rt::FfiData>::DESC;
            type Lifted<'s> = Self;
            unsafe fn lift(abi: #repr, param: &'static str, _: &#rt::CallScope) -> ::core::result::Result<Self, #rt::Fault> {
                // SAFETY: an integer holds no pointer.
                unsafe { <#ident as #rt::FfiLift>::from_repr(&abi) }
                    .map_err(|why| #rt::Fault::invalid(param, why))
            }
        }

        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #desc_fn() -> &'static #rt::EnumDesc {
            static DESC: #rt::EnumDesc = #rt::EnumDesc {
                name: #name,
                module: ::core::module_path!(),
                doc: #doc,
                repr: #repr_name,
                variants: &[#((#variant_names, #ident::#variants as i64)),*],
            };
            &DESC
        }
    })
}

/// `#[export] enum` with data: a tagged union. The C form is
/// `{ uint32_t tag; union { V0_repr V0; V1_repr V1; ... } data; }` where each
/// variant's repr is a `#[repr(C)]` mirror of its fields' C forms (tuple
/// fields are named `_0`, `_1`, ...; unit variants have no member).
fn export_data_enum(item: &ItemEnum) -> TokenStream {
    let rt = quote!(::ffi_export::__private);
    let ident = &item.ident;
    let name = ident.to_string();
    let doc = doc_lines(&item.attrs);
    let repr = format_ident!("__FfiRepr_{}", ident);
    let union = format_ident!("__FfiUnion_{}", ident);
    let desc_fn = format_ident!("__ffi_export_enum_{}", ident);

    let mut variant_reprs = Vec::new();
    let mut union_fields = Vec::new();
    let mut into_arms = Vec::new();
    let mut from_arms = Vec::new();
    let mut free_arms = Vec::new();
    let mut owned = Vec::new();
    let mut variant_descs = Vec::new();
    for (index, variant) in item.variants.iter().enumerate() {
        let tag = index as u32;
        let vident = &variant.ident;
        let vname = vident.to_string();
        let tuple = matches!(variant.fields, Fields::Unnamed(_));
        let fields: Vec<_> = variant.fields.iter().collect();
        let field_idents: Vec<syn::Ident> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| f.ident.clone().unwrap_or_else(|| format_ident!("_{}", i)))
            .collect();
        let field_names: Vec<String> = field_idents
            .iter()
            .map(|i| i.to_string().trim_start_matches("r#").to_owned())
            .collect();
        let bindings: Vec<syn::Ident> = (0..fields.len())
            .map(|i| format_ident!("__ffi_f{}", i))
            .collect();
        let as_data: Vec<AtType> = fields
            .iter()
            .map(|f| AtType::new(&f.ty, "FfiValue"))
            .collect();
        let descs = as_data.iter().map(|at| at.item("DESC"));
        variant_descs.push(quote! {
            #rt::VariantDesc {
                name: #vname,
                tuple: #tuple,
                fields: &[#(#rt::FieldDesc { name: #field_names, ty: #descs }),*],
            }
        });
        owned.extend(as_data.iter().map(|at| at.item("OWNED")));
        let pattern = match &variant.fields {
            Fields::Named(_) => quote!(#ident::#vident { #(#field_idents: #bindings),* }),
            Fields::Unnamed(_) => quote!(#ident::#vident(#(#bindings),*)),
            Fields::Unit => quote!(#ident::#vident),
        };
        if fields.is_empty() {
            into_arms.push(quote! {
                #pattern => #repr {
                    tag: #tag,
                    // SAFETY: all-zero bytes are a valid value of every member.
                    data: unsafe { ::core::mem::zeroed() },
                }
            });
            from_arms.push(quote!(#tag => ::core::result::Result::Ok(#pattern)));
            free_arms.push(quote!(#tag => {}));
            continue;
        }
        let vrepr = format_ident!("__FfiRepr_{}_{}", ident, vident);
        let reprs = as_data.iter().map(|at| at.item("Repr"));
        variant_reprs.push(quote! {
            #[doc(hidden)]
            #[repr(C)]
            #[allow(non_camel_case_types)]
            pub struct #vrepr { #(pub #field_idents: #reprs),* }
        });
        union_fields.push(quote!(pub #vident: ::core::mem::ManuallyDrop<#vrepr>));
        let into = as_data.iter().map(|at| at.item("into_repr"));
        into_arms.push(quote! {
            #pattern => #repr {
                tag: #tag,
                data: #union {
                    #vident: ::core::mem::ManuallyDrop::new(#vrepr { #(#field_idents: #into(#bindings)),* }),
                },
            }
        });
        let from = as_data.iter().map(|at| at.item("from_repr"));
        let build = match &variant.fields {
            Fields::Named(_) => quote!(#ident::#vident { #(#field_idents: #bindings),* }),
            _ => quote!(#ident::#vident(#(#bindings),*)),
        };
        from_arms.push(quote! {
            #tag => {
                // SAFETY: the tag says this member is the live one.
                let variant = unsafe { &repr.data.#vident };
                // SAFETY: pointers inside `repr` are NULL or readable (the
                // caller's contract), so are those inside each field.
                #(let #bindings = unsafe { #from(&variant.#field_idents) }
                    .map_err(|why| ::std::format!("{}.{}: {}", #vname, #field_names, why))?;)*
                ::core::result::Result::Ok(#build)
            }
        });
        let free = as_data.iter().map(|at| at.item("free_repr"));
        free_arms.push(quote! {
            #tag => {
                // SAFETY: the tag says this member is the live one.
                let variant = unsafe { &mut *repr.data.#vident };
                // SAFETY: made by `into_repr` (the caller's contract), so
                // each field by its field's `into_repr`.
                #(unsafe { #free(&mut variant.#field_idents) };)*
            }
        });
    }
    let variant_count = item.variants.len();
    let param = by_pointer_param(ident);
    quote! {
        #item

        #(#variant_reprs)*

        #[doc(hidden)]
        #[repr(C)]
        #[allow(non_camel_case_types, non_snake_case)]
        pub union #union {
            #(#union_fields,)*
            pub __none: u8,
        }

        #[doc(hidden)]
        #[repr(C)]
        #[allow(non_camel_case_types)]
        pub struct #repr {
            pub tag: u32,
            pub data: #union,
        }

        // SAFETY: all-zero is tag 0 with empty fields, which owns nothing
        // (every C form is valid and empty when all-zero: FfiData's contract).
        unsafe impl #rt::AbiValue for #repr {
            fn error_value() -> Self {
                // SAFETY: every C form is valid (and empty) when all-zero.
                unsafe { ::core::mem::zeroed() }
            }
        }

        // SAFETY: a tagged union of the variants' C forms; the tag is checked
        // before a member is read; each field frees through its own FfiData.
        unsafe impl #rt::FfiData for #ident {
            type Repr = #repr;
            const DESC: #rt::TypeDesc = #rt::TypeDesc::DataEnum(#desc_fn);
            const OWNED: bool = false #(|| #owned)*;
            fn into_repr(self) -> #repr {
                match self {
                    #(#into_arms,)*
                }
            }
            unsafe fn free_repr(repr: &mut #repr) {
                match repr.tag {
                    #(#free_arms,)*
                    _ => {}
                }
                // Back to the empty value: freeing twice is harmless.
                *repr = <#repr as #rt::AbiValue>::error_value();
            }
        }

        // SAFETY: the tag is checked before a member is read; each field is
        // lifted through its own checks.
        unsafe impl #rt::FfiLift for #ident {
            unsafe fn from_repr(repr: &#repr) -> ::core::result::Result<Self, ::std::string::String> {
                match repr.tag {
                    #(#from_arms,)*
                    other => ::core::result::Result::Err(::std::format!(
                        "tag {} is not a `{}` variant (0..{})", other, #name, #variant_count
                    )),
                }
            }
        }

        #param

        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #desc_fn() -> &'static #rt::DataEnumDesc {
            static DESC: #rt::DataEnumDesc = #rt::DataEnumDesc {
                name: #name,
                module: ::core::module_path!(),
                doc: #doc,
                variants: &[#(#variant_descs),*],
            };
            &DESC
        }
    }
}

/// `FfiParam` for a type that crosses by pointer to its C form (records and
/// enums with data, as `T` or `&T` parameters): copied in, NULL refused.
fn by_pointer_param(ident: &syn::Ident) -> TokenStream {
    let rt = quote!(::ffi_export::__private);
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
