//! `#[export] trait Name { .. }`: the caller's implementation, a runtime
//! `ForeignObject` wrapped in a hidden type implementing the trait (each
//! method a call through the object's dispatcher, by number), `FfiTrait`
//! for `dyn Name` (so `Box<dyn Name>` and `Arc<dyn Name>` are parameters),
//! and the trait's description.

use super::function::callable;
use super::object::object;
use crate::model::Trait;
use crate::tokens::{closure_results, hidden_ident, refuse_object_results, runtime};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::ReturnType;

/// The trait unchanged, then its foreign implementation and description.
pub fn exported_trait(model: &Trait) -> TokenStream {
    let rt = runtime();
    let item = &model.item;
    let ident = &item.ident;
    let name = ident.to_string();
    let foreign = format_ident!("__FfiExportForeign{}", ident);
    let desc_fn = format_ident!("__ffi_export_trait_{}", ident);
    let entry = hidden_ident("type", &name);
    let doc = &model.doc;
    let vis = &item.vis;
    let dyn_object = format_ident!("Dyn{}", ident);
    let dyn_name = dyn_object.to_string();
    let rust_object = object(&model.rust_object, &dyn_name, &dyn_name);
    let rust_shims = model.rust_object.methods.iter().map(callable);
    let mut delegates = Vec::new();
    let mut methods = Vec::new();
    let mut descs = Vec::new();
    let mut refusals = Vec::new();
    for (number, method) in model.methods.iter().enumerate() {
        let number = number as u32;
        let sig = &method.sig;
        let method_ident = &sig.ident;
        let method_name = method_ident.to_string();
        let method_doc = &method.doc;
        let ret = match &sig.output {
            ReturnType::Default => quote!(()),
            ReturnType::Type(_, ty) => quote!(#ty),
        };
        let ret_span = match &sig.output {
            ReturnType::Default => sig.ident.span(),
            ReturnType::Type(_, ty) => ty.span(),
        };
        let bindings: Vec<_> = (0..method.params.len())
            .map(|i| format_ident!("__ffi_arg{}", i))
            .collect();
        let types: Vec<_> = method.params.iter().map(|(_, ty)| ty).collect();
        let names: Vec<_> = method.params.iter().map(|(name, _)| name).collect();
        let param_descs = types.iter().zip(&names).map(|(ty, name)| {
            quote_spanned! {ty.span()=>
                #rt::ParamDesc {
                    name: #name,
                    ty: <#ty as #rt::FfiValue>::DESC,
                    default: ::core::option::Option::None,
                    borrowed: false,
                    mutable: false,
                }
            }
        });
        let ret_desc = quote_spanned!(ret_span=> <#ret as #rt::ForeignReturn>::DESC);
        if let ReturnType::Type(_, ty) = &sig.output {
            // What the caller's method returns may not move objects in.
            let mut results = vec![(**ty).clone()];
            closure_results(ty, &mut results);
            refusals.extend(results.iter().map(refuse_object_results));
        }
        descs.push(quote! {
            #rt::MethodDesc {
                name: #method_name,
                doc: #method_doc,
                params: &[#(#param_descs),*],
                ret: #ret_desc,
            }
        });
        methods.push(quote! {
            fn #method_ident(&self, #(#bindings: #types),*) -> #ret {
                self.0.call::<(#(#types,)*), #ret>(#number, #method_name, (#(#bindings,)*))
            }
        });
        delegates.push(quote! {
            fn #method_ident(&self, #(#bindings: #types),*) -> #ret {
                #ident::#method_ident(&*self.0, #(#bindings),*)
            }
        });
    }
    // A hidden provided method: the caller's own object behind a
    // `dyn Trait`, so that one handed back crosses as itself.
    let caller = format_ident!("__ffi_export_caller_object");
    let mut item = item.clone();
    item.items.push(syn::parse_quote! {
        #[doc(hidden)]
        fn #caller(&self) -> ::core::option::Option<&#rt::ForeignObject> {
            ::core::option::Option::None
        }
    });
    quote! {
        #item
        #(#refusals)*

        #[doc = concat!("A Rust implementation of `", #name, "` handed to the caller (it crosses as an object handle).")]
        #vis struct #dyn_object(pub ::std::sync::Arc<dyn #ident>);

        impl #ident for #dyn_object {
            #(#delegates)*
            fn #caller(&self) -> ::core::option::Option<&#rt::ForeignObject> {
                self.0.#caller()
            }
        }

        #rust_object
        #(#rust_shims)*

        impl #rt::FfiArcRepr for dyn #ident {
            type Repr = #rt::FfiForeign;
        }

        // SAFETY: an `FfiForeign` (`into_foreign`: the caller's object
        // handed back, or a `#dyn_object` handle), checked when read back.
        unsafe impl #rt::FfiArcData for dyn #ident {
            const DESC: #rt::TypeDesc = <Self as #rt::FfiTrait>::DESC;
            fn arc_into_repr(value: ::std::sync::Arc<Self>) -> #rt::FfiForeign {
                #rt::dynamic::into_foreign::<Self>(value)
            }
            unsafe fn arc_from_repr(
                repr: &#rt::FfiForeign,
            ) -> ::core::result::Result<::std::sync::Arc<Self>, ::std::string::String> {
                // SAFETY: forwarded contract.
                unsafe { #rt::dynamic::arc_from_repr::<Self>(repr) }
            }
        }

        // SAFETY: `lift_arc` is `FfiParam::lift` of `Arc<dyn Trait>`
        // (checked handle or the caller's object), whose contract it keeps.
        unsafe impl #rt::FfiArcParam for dyn #ident {
            type Abi = #rt::FfiForeign;
            const DESC: #rt::TypeDesc = <Self as #rt::FfiTrait>::DESC;
            unsafe fn lift_arc(
                abi: #rt::FfiForeign,
                param: &'static str,
            ) -> ::core::result::Result<::std::sync::Arc<Self>, #rt::Fault> {
                // SAFETY: forwarded contract.
                unsafe { #rt::dynamic::lift_arc::<Self>(abi, param) }
            }
        }

        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        struct #foreign(#rt::ForeignObject);

        impl #ident for #foreign {
            #(#methods)*
            fn #caller(&self) -> ::core::option::Option<&#rt::ForeignObject> {
                ::core::option::Option::Some(&self.0)
            }
        }

        // SAFETY: `DESC` lists the trait's methods in declaration order, the
        // number each of `#foreign`'s methods calls with, with the argument
        // and result types it passes.
        unsafe impl #rt::FfiTrait for dyn #ident {
            const DESC: #rt::TypeDesc = #rt::TypeDesc::Trait(#desc_fn);
            const NAME: &'static str = #name;
            fn from_foreign(object: #rt::ForeignObject) -> ::std::boxed::Box<Self> {
                ::std::boxed::Box::new(#foreign(object))
            }
            fn from_handle(
                handle: u64,
            ) -> ::core::result::Result<::std::sync::Arc<Self>, ::std::string::String> {
                #rt::dynamic::shared_from_handle::<#dyn_object, Self>(handle, |object| {
                    object.0.clone()
                })
            }
            fn boxed(value: ::std::sync::Arc<Self>) -> ::std::boxed::Box<Self> {
                ::std::boxed::Box::new(#dyn_object(value))
            }
            fn caller_object(value: &Self) -> ::core::option::Option<&#rt::ForeignObject> {
                value.#caller()
            }
            fn rust_foreign(value: ::std::sync::Arc<Self>) -> #rt::FfiForeign {
                #rt::dynamic::handle_foreign(#rt::register(#dyn_object(value)))
            }
        }

        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #desc_fn() -> &'static #rt::TraitDesc {
            static DESC: #rt::TraitDesc = #rt::TraitDesc {
                name: #name,
                module: ::core::module_path!(),
                doc: #doc,
                methods: &[#(#descs),*],
                object: <#dyn_object as #rt::FfiObject>::DESC,
            };
            &DESC
        }

        #[#rt::linkme::distributed_slice(#rt::TYPES)]
        #[linkme(crate = #rt::linkme)]
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #entry: #rt::TypeEntry = #rt::TypeEntry {
            desc: <dyn #ident as #rt::FfiTrait>::DESC,
            type_id: ::core::any::TypeId::of::<dyn #ident>,
            error: ::core::option::Option::None,
        };
    }
}
