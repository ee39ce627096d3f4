//! model → tokens: the user's function unchanged, the `extern "C"` shim,
//! the paired free for owned returns, and the self-description entry.
//! Generated code names everything by absolute path and calls into the
//! runtime; the conversions themselves live there.

use crate::errors::Errors;
use crate::model::{hidden_ident, ExportFn, ParamKind};
use crate::parse;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::Item;

/// The `#[export]` attribute: the model if the signature is valid, or the
/// untouched function plus every error otherwise (so users see the real
/// errors, not a cascade of follow-ups).
pub fn export(args: TokenStream, input: TokenStream) -> TokenStream {
    let item_fn = match syn::parse2::<Item>(input.clone()) {
        Ok(Item::Fn(item_fn)) => item_fn,
        Ok(other) => {
            let error = syn::Error::new_spanned(
                other,
                "#[export] applies to a function: put it on each `fn` to export",
            );
            return error_with(input, error);
        }
        Err(error) => return error_with(input, error),
    };
    let mut errors = Errors::default();
    let model = parse::export_fn(args, item_fn, &mut errors);
    match errors.finish() {
        Ok(()) => expand(&model),
        Err(error) => {
            let mut item = model.item;
            // rustc would add its own error for a variadic Rust function.
            item.sig.variadic = None;
            error_with(item.into_token_stream(), error)
        }
    }
}

fn error_with(item: TokenStream, error: syn::Error) -> TokenStream {
    let mut errors = Errors::default();
    errors.push(error);
    let errors = errors.into_compile_errors();
    quote!(#item #errors)
}

fn expand(model: &ExportFn) -> TokenStream {
    let rt = quote!(::ffi_export::__private);
    let item = &model.item;
    let fn_ident = &item.sig.ident;
    let c_name = &model.c_name;
    let shim_ident = hidden_ident("shim", c_name);

    let mut c_params = Vec::new();
    let mut lifts = Vec::new();
    let mut values = Vec::new();
    let mut regions = Vec::new();
    let mut param_descs = Vec::new();
    for (index, param) in model.params.iter().enumerate() {
        let span = param.span;
        let name = &param.name;
        let value = format_ident!("__ffi_value{}", index);
        let ptr = format_ident!("__ffi_ptr{}", index);
        let len = format_ident!("__ffi_len{}", index);
        let (desc, region) = match &param.kind {
            ParamKind::Scalar(ty) => {
                let arg = format_ident!("__ffi_arg{}", index);
                let as_param = quote_spanned!(ty.span()=> <#ty as #rt::FfiParam>);
                c_params.push(quote!(#arg: #as_param::Abi));
                lifts.push(quote!(let #value = #as_param::lift(#arg, #name)?;));
                (quote!(#as_param::DESC), None)
            }
            ParamKind::Str => {
                c_params.push(quote!(#ptr: *const u8, #len: usize));
                lifts.push(quote_spanned!(span=> let #value = unsafe { #rt::lift_str(#ptr, #len, #name) }?;));
                (
                    quote!(#rt::TypeDesc::Str),
                    Some(quote!(#rt::Region::new(#ptr, #len, false, #name))),
                )
            }
            ParamKind::CStr => {
                c_params.push(quote!(#ptr: *const ::core::ffi::c_char));
                lifts.push(quote_spanned!(span=> let #value = unsafe { #rt::lift_cstr(#ptr, #name) }?;));
                (
                    quote!(#rt::TypeDesc::CStr),
                    Some(quote!(unsafe { #rt::Region::cstr(#ptr, #name) })),
                )
            }
            ParamKind::Slice { elem, mutable } => {
                let as_elem = quote_spanned!(elem.span()=> <#elem as #rt::FfiElement>);
                if *mutable {
                    c_params.push(quote!(#ptr: *mut #as_elem::Raw, #len: usize));
                    lifts.push(quote_spanned!(span=>
                        let #value = unsafe { #rt::lift_slice_mut::<#elem>(#ptr, #len, #name) }?;
                    ));
                } else {
                    c_params.push(quote!(#ptr: *const #as_elem::Raw, #len: usize));
                    lifts.push(quote_spanned!(span=>
                        let #value = unsafe { #rt::lift_slice::<#elem>(#ptr, #len, #name) }?;
                    ));
                }
                (
                    quote!(#rt::TypeDesc::Slice { elem: #as_elem::NAME, mutable: #mutable }),
                    Some(quote!(#rt::Region::new(#ptr as *const _, #len, #mutable, #name))),
                )
            }
        };
        param_descs.push(quote!(#rt::ParamDesc { name: #name, ty: #desc }));
        if let Some(region) = region {
            regions.push((region, matches!(param.kind, ParamKind::Slice { mutable: true, .. })));
        }
        values.push(value);
    }

    // A `&mut [T]` must not alias another borrowed argument: checked on the
    // raw pointers, before any reference exists.
    let aliasing_check = if regions.len() > 1 && regions.iter().any(|(_, mutable)| *mutable) {
        let regions = regions.iter().map(|(region, _)| region);
        quote!(#rt::check_disjoint(&[#(#regions),*])?;)
    } else {
        TokenStream::new()
    };

    let (ret_ty, ret_span) = match &model.ret.ty {
        Some(ty) => (ty.to_token_stream(), ty.span()),
        None => (quote!(()), Span::call_site()),
    };
    let as_ret = quote_spanned!(ret_span=> <#ret_ty as #rt::IntoFfi>);
    let owned = model.ret.owned;

    let (free_item, free_desc) = if owned {
        let free_name = format!("{c_name}_free");
        let free_ident = hidden_ident("free", c_name);
        let item = quote! {
            #[doc(hidden)]
            #[doc = "# Safety"]
            #[doc = "`value` is NULL or points to a value returned by the paired export."]
            #[export_name = #free_name]
            #[allow(non_snake_case)]
            pub unsafe extern "C" fn #free_ident(value: *mut #as_ret::Abi) {
                unsafe { #as_ret::free(value) }
            }
        };
        (item, quote!(::core::option::Option::Some(#free_name)))
    } else {
        (TokenStream::new(), quote!(::core::option::Option::None))
    };
    let owned_check = quote_spanned! {ret_span=>
        const _: () = ::core::assert!(
            #as_ret::OWNED == #owned,
            "#[export] cannot see whether this return type owns memory (a type alias?): \
             write `String`, `Vec<T>`, or `Option`/`Result` of them in the signature"
        );
    };

    let desc_ident = hidden_ident("desc", c_name);
    let doc = &model.doc;
    let c_name_lit = syn::LitStr::new(c_name, model.c_name_span);
    quote! {
        #item

        #[doc(hidden)]
        #[doc = "# Safety"]
        #[doc = "Borrowed arguments follow the ffi-export C contract: each pointer is NULL (with length 0) or valid for its length during the call."]
        #[export_name = #c_name_lit]
        #[allow(non_snake_case)]
        pub unsafe extern "C" fn #shim_ident(#(#c_params),*) -> #as_ret::Abi {
            #rt::call(move || {
                #aliasing_check
                #(#lifts)*
                #as_ret::lower(#fn_ident(#(#values),*))
            })
        }

        #free_item

        #owned_check

        #[#rt::linkme::distributed_slice(#rt::EXPORTS)]
        #[linkme(crate = #rt::linkme)]
        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        static #desc_ident: #rt::ExportDesc = #rt::ExportDesc {
            name: #c_name,
            module: ::core::module_path!(),
            doc: #doc,
            params: &[#(#param_descs),*],
            ret: #as_ret::DESC,
            free: #free_desc,
        };
    }
}
