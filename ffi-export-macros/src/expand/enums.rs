//! `#[export] enum`: a field-less enum crosses as its checked
//! discriminant; an enum with data as a tagged union of its variants' C
//! forms. Each gets `FfiData`, `FfiLift`, `FfiParam` and its
//! self-description.

use super::record::{by_pointer_param, copied_borrow, copied_slice_elem, FieldCode, END_FIELD};
use crate::model::{Enum, Shape};
use crate::tokens::runtime;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

/// `#[export] enum` without fields.
pub fn fieldless(model: &Enum) -> TokenStream {
    let item = &model.item;
    let rt = runtime();
    let ident = &item.ident;
    let name = ident.to_string();
    let doc = &model.doc;
    let repr = model
        .repr
        .int
        .clone()
        .unwrap_or_else(|| format_ident!("i32"));
    let repr_name = repr.to_string();
    let desc_fn = format_ident!("__ffi_export_enum_{}", ident);
    let entry = crate::tokens::type_entry(ident, &name, true);
    let slice_elem = copied_slice_elem(ident);
    let borrow = copied_borrow(ident, &[]);
    let protocols = super::protocols::protocols(&syn::parse_quote!(#ident), &model.protocols);
    let variants: Vec<_> = model.variants.iter().map(|v| &v.ident).collect();
    let variant_names: Vec<String> = variants.iter().map(|v| v.to_string()).collect();
    let indexes = 0..variants.len() as u32;
    let expected = variant_names.join(", ");
    let fit_message = format!("a discriminant of `{name}` does not fit its C type `{repr_name}`: add `#[repr(i64)]` (or another integer type)");
    let native = super::native_record::native_enum(ident, &repr, variants.len());
    quote! {
        #item
        #protocols
        #native

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
            fn variant_index(&self) -> ::core::option::Option<u32> {
                ::core::option::Option::Some(match self {
                    #(#ident::#variants => #indexes,)*
                })
            }
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

        #entry
        #slice_elem
        #borrow

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
    }
}

/// `#[export] enum` with data: a tagged union. The C form is
/// `{ uint32_t tag; union { V0_repr V0; V1_repr V1; ... } data; }` where each
/// variant's repr is a `#[repr(C)]` mirror of its fields' C forms (tuple
/// fields are named `_0`, `_1`, ...; unit variants have no member).
pub fn with_data(model: &Enum) -> TokenStream {
    let rt = runtime();
    let item = &model.item;
    let ident = &item.ident;
    let name = ident.to_string();
    let doc = &model.doc;
    let repr = format_ident!("__FfiRepr_{}", ident);
    let union = format_ident!("__FfiUnion_{}", ident);
    let desc_fn = format_ident!("__ffi_export_enum_{}", ident);
    let entry = crate::tokens::type_entry(ident, &name, true);
    let end = Ident::new(END_FIELD, Span::call_site());

    let mut variant_reprs = Vec::new();
    let mut union_fields = Vec::new();
    let mut into_arms = Vec::new();
    let mut from_arms = Vec::new();
    let mut reserve_arms = Vec::new();
    let mut objects = Vec::new();
    let mut free_arms = Vec::new();
    let mut owned = Vec::new();
    let mut variant_descs = Vec::new();
    let mut index_arms = Vec::new();
    for (index, variant) in model.variants.iter().enumerate() {
        let tag = index as u32;
        let vident = &variant.ident;
        let vname = vident.to_string();
        let tuple = variant.shape == Shape::Tuple;
        let fields = &variant.fields;
        let field_idents: Vec<_> = fields.iter().map(|f| &f.ident).collect();
        let field_names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        let bindings: Vec<syn::Ident> = (0..fields.len())
            .map(|i| format_ident!("__ffi_f{}", i))
            .collect();
        let codes: Vec<FieldCode> = fields.iter().map(FieldCode::new).collect();
        let descs = codes.iter().map(FieldCode::desc);
        variant_descs.push(quote! {
            #rt::VariantDesc {
                name: #vname,
                tuple: #tuple,
                fields: &[#(#descs),*],
            }
        });
        owned.extend(codes.iter().map(FieldCode::owned));
        let pattern = match variant.shape {
            Shape::Named => quote!(#ident::#vident { #(#field_idents: #bindings),* }),
            Shape::Tuple => quote!(#ident::#vident(#(#bindings),*)),
            Shape::Unit => quote!(#ident::#vident),
        };
        index_arms.push(match variant.shape {
            Shape::Named => quote!(#ident::#vident { .. } => #tag),
            Shape::Tuple => quote!(#ident::#vident(..) => #tag),
            Shape::Unit => quote!(#ident::#vident => #tag),
        });
        if fields.is_empty() {
            into_arms.push(quote! {
                #pattern => #repr {
                    tag: #tag,
                    // SAFETY: all-zero bytes are a valid value of every member.
                    data: unsafe { ::core::mem::zeroed() },
                }
            });
            from_arms.push(quote!(#tag => ::core::result::Result::Ok(#pattern)));
            reserve_arms.push(quote!(#tag => ::core::result::Result::Ok(())));
            free_arms.push(quote!(#tag => {}));
            continue;
        }
        let vrepr = format_ident!("__FfiRepr_{}_{}", ident, vident);
        let repr_fields = codes.iter().map(FieldCode::repr_field);
        variant_reprs.push(quote! {
            #[doc(hidden)]
            #[repr(C)]
            #[allow(non_camel_case_types)]
            pub struct #vrepr {
                #(#repr_fields,)*
                pub #end: ::core::marker::PhantomData<()>,
            }
        });
        union_fields.push(quote!(pub #vident: ::core::mem::ManuallyDrop<#vrepr>));
        let into_inits = codes
            .iter()
            .zip(&bindings)
            .map(|(code, binding)| code.converted_init(quote!(#binding), false));
        into_arms.push(quote! {
            #pattern => #repr {
                tag: #tag,
                data: #union {
                    #vident: ::core::mem::ManuallyDrop::new(#vrepr {
                        #(#into_inits,)*
                        #end: ::core::marker::PhantomData,
                    }),
                },
            }
        });
        let lifts = codes.iter().map(|code| code.lift_from("variant"));
        let build = match variant.shape {
            Shape::Named => quote!(#ident::#vident { #(#field_idents: #bindings),* }),
            _ => quote!(#ident::#vident(#(#bindings),*)),
        };
        from_arms.push(quote! {
            #tag => {
                // SAFETY: the tag says this member is the live one.
                let variant: &#vrepr = unsafe { &repr.data.#vident };
                // SAFETY: pointers inside `repr` are NULL or readable (the
                // caller's contract), so are those inside each field.
                #(let #bindings = unsafe { #lifts }
                    .map_err(|why| ::std::format!("{}.{}: {}", #vname, #field_names, why))?;)*
                ::core::result::Result::Ok(#build)
            }
        });
        objects.extend(codes.iter().map(FieldCode::objects));
        let reserves = codes.iter().map(|code| code.reserve_from("variant"));
        reserve_arms.push(quote! {
            #tag => {
                // SAFETY: the tag says this member is the live one.
                let variant: &#vrepr = unsafe { &repr.data.#vident };
                // SAFETY: as in `from_repr`.
                #(unsafe { #reserves }
                    .map_err(|why| ::std::format!("{}.{}: {}", #vname, #field_names, why))?;)*
                ::core::result::Result::Ok(())
            }
        });
        let frees = codes.iter().map(|code| code.free_in("variant"));
        free_arms.push(quote! {
            #tag => {
                // SAFETY: the tag says this member is the live one.
                let variant: &mut #vrepr = unsafe { &mut *repr.data.#vident };
                // SAFETY: made by `into_repr` (the caller's contract), so
                // each field by its field's `into_repr`.
                #(unsafe { #frees };)*
            }
        });
    }
    let variant_count = model.variants.len();
    let param = by_pointer_param(ident);
    let slice_elem = copied_slice_elem(ident);
    let borrow = copied_borrow(ident, &objects);
    let protocols = super::protocols::protocols(&syn::parse_quote!(#ident), &model.protocols);
    quote! {
        #item
        #protocols

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
            fn variant_index(&self) -> ::core::option::Option<u32> {
                ::core::option::Option::Some(match self {
                    #(#index_arms,)*
                })
            }
        }

        // SAFETY: the tag is checked before a member is read; each field is
        // lifted through its own checks.
        unsafe impl #rt::FfiLift for #ident {
            fn moves() -> bool {
                static MOVES: #rt::MovesOnce = #rt::MovesOnce::new();
                MOVES.get(&<Self as #rt::FfiData>::DESC)
            }
            unsafe fn from_repr(repr: &#repr) -> ::core::result::Result<Self, ::std::string::String> {
                match repr.tag {
                    #(#from_arms,)*
                    other => ::core::result::Result::Err(::std::format!(
                        "tag {} is not a `{}` variant (0..{})", other, #name, #variant_count
                    )),
                }
            }
            unsafe fn reserve(
                repr: &#repr,
                moves: &mut #rt::Moves,
            ) -> ::core::result::Result<(), ::std::string::String> {
                match repr.tag {
                    #(#reserve_arms,)*
                    other => ::core::result::Result::Err(::std::format!(
                        "tag {} is not a `{}` variant (0..{})", other, #name, #variant_count
                    )),
                }
            }
        }

        #param
        #slice_elem
        #borrow
        #entry

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
