//! model → tokens for one exported callable: the `extern "C"` shim, the
//! paired free for owned returns, the self-description entry, the CPython
//! fast path and the batch loop. Generated code names everything by
//! absolute path and calls into the runtime; the conversions live there.

use super::iter::IterExport;
use crate::model::{ExportFn, FnKind, ParamKind, ReturnKind};
use crate::tokens::{
    call_scope, closure_results, default_value, hidden_ident, option, refuse_object_results,
    runtime, symbol_guard, AtType, SCOPE_BINDING,
};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;

/// The shim, paired free and description of one exported callable (the
/// Rust item itself is emitted by the caller).
pub fn callable(model: &ExportFn) -> TokenStream {
    let rt = runtime();
    let c_name = &model.c_name;
    let shim_ident = hidden_ident("shim", c_name);

    let mut c_params = Vec::new();
    // Lifted in three phases: copies first (records, options, numbers: read
    // before any `&mut` exists), then shared borrows, then, after the
    // aliasing check, mutable borrows.
    let mut copies = Vec::new();
    let mut shared = Vec::new();
    let mut exclusive = Vec::new();
    let mut values = Vec::new();
    // For the aliasing check, in parameter order: (region, is `&mut`).
    let mut regions = Vec::new();
    let mut item_lists = Vec::new();
    let mut param_descs = Vec::new();
    // Whether a parameter may move objects (`__ffi_moves` is then made).
    let mut moving = false;
    for (index, param) in model.params.iter().enumerate() {
        let span = param.span;
        let name = &param.name;
        // The caller's closures in it may not return objects by value.
        let mut results = Vec::new();
        closure_results(&param.ty, &mut results);
        copies.extend(results.iter().map(refuse_object_results));
        let value = format_ident!("__ffi_value{}", index);
        let ptr = format_ident!("__ffi_ptr{}", index);
        let len = format_ident!("__ffi_len{}", index);
        let desc = match &param.kind {
            ParamKind::Primitive(ty)
            | ParamKind::Option(ty)
            | ParamKind::Callback(ty)
            | ParamKind::Allocator(ty)
            | ParamKind::Named(ty) => {
                let at = AtType::new(ty, "FfiParam");
                let arg = format_ident!("__ffi_arg{}", index);
                let abi = at.item("Abi");
                let lift = at.item("lift");
                let arg_value = at.wrap(&arg);
                // Every piece spans the type, so an unsupported one is a
                // single error there.
                let arg_param = at.binding_at_first(&arg);
                c_params.push(quote_spanned!(at.last=> #arg_param: #abi));
                // Borrowed at the parameter's type: a lifetime the call cannot
                // give (a `'static` behind an alias) is reported there.
                let binding = Ident::new(SCOPE_BINDING, model.sig.ident.span().located_at(at.last));
                let scope = at.wrap(&quote_spanned!(at.last=> &#binding));
                let lift_call = at.call(&lift, quote!(#arg_value, #name, #scope));
                if matches!(param.kind, ParamKind::Named(_) | ParamKind::Option(_)) {
                    // A type that may move objects into Rust (`moves()`: a
                    // constant `false` for types that cannot, so the other
                    // branch is compiled away; records and enums look
                    // into their description once) is only
                    // reserved here, with the other arguments' checks, and
                    // lifted when the function is called, after every
                    // argument was checked and the call's objects locked.
                    moving = true;
                    let moves = at.call(&at.item("moves"), TokenStream::new());
                    let reserve = at.item("reserve");
                    let reserve_call =
                        at.call(&reserve, quote!(#arg_value, #name, &mut __ffi_moves));
                    copies.push(quote! {
                        let #value = if #moves {
                            // SAFETY: a C argument of the type's C form, as
                            // the C contract passes it; checked.
                            unsafe { #reserve_call }?;
                            ::core::option::Option::None
                        } else {
                            // SAFETY: a C argument of the type's C form, as
                            // the C contract passes it; `lift` checks what
                            // it reads.
                            ::core::option::Option::Some(unsafe { #lift_call }?)
                        };
                    });
                    values.push(quote! {
                        match #value {
                            ::core::option::Option::Some(value) => value,
                            ::core::option::Option::None => {
                                let __ffi_taking = __ffi_moves.taking();
                                // SAFETY: as above; reserved, so it cannot fail.
                                unsafe { #lift_call }?
                            }
                        }
                    });
                } else {
                    copies.push(quote! {
                        // SAFETY: a C argument of the type's C form, as the C
                        // contract passes it; `lift` checks what it reads.
                        let #value = unsafe { #lift_call }?;
                    });
                    values.push(quote!(#value));
                }
                at.konst("DESC")
            }
            ParamKind::Ref(ty) | ParamKind::RefMut(ty) => {
                // `&R`: a record copied in, or an object borrowed by handle
                // (`FfiBorrow` decides); `&mut R`: an object only.
                let mutable = matches!(param.kind, ParamKind::RefMut(_));
                let at = AtType::new(ty, if mutable { "FfiBorrowMut" } else { "FfiBorrow" });
                let abi = at.item("Abi");
                let (hold, borrow) = match mutable {
                    true => (at.item("hold_mut"), at.item("borrow_mut")),
                    false => (at.item("hold"), at.item("borrow")),
                };
                let arg = format_ident!("__ffi_arg{}", index);
                let arg_value = at.wrap(&arg);
                let arg_param = at.binding_at_first(&arg);
                c_params.push(quote_spanned!(at.last=> #arg_param: #abi));
                if !mutable {
                    // A copy of a record with object fields would move them.
                    let moves = at.konst("MOVES");
                    copies.push(quote_spanned! {at.last=>
                        const _: () = ::core::assert!(
                            !#moves,
                            "a `&T` parameter cannot be a struct with object fields (copying it in would move its objects out of their Python owners): take the struct by value, which moves its objects into the call, or borrow the objects themselves as `&Object` parameters"
                        );
                    });
                }
                copies.push(quote_spanned! {span=>
                    // SAFETY: the caller's C argument (C contract: a handle,
                    // or NULL or a C form valid for the call); checked.
                    let #value = unsafe { #hold(#arg_value, #name, &mut __ffi_objects) }?;
                });
                values.push(quote!(#borrow(&#value, __ffi_locked)?));
                at.konst("DESC")
            }
            ParamKind::Str => {
                c_params.push(quote!(#ptr: *const u8, #len: usize));
                shared.push(quote_spanned! {span=>
                    // SAFETY: NULL with length 0 or `len` readable bytes for
                    // the call (C contract); checked as UTF-8.
                    let #value = unsafe { #rt::lift_str(__ffi_scope, #ptr, #len, #name) }?;
                });
                regions.push((quote!(#rt::Region::of(#value.as_bytes(), #name)), false));
                values.push(quote!(#value));
                quote!(#rt::TypeDesc::Str)
            }
            ParamKind::CStr => {
                c_params.push(quote!(#ptr: *const ::core::ffi::c_char));
                shared.push(quote_spanned! {span=>
                    // SAFETY: NULL (refused) or a NUL-terminated string
                    // readable for the call (C contract).
                    let #value = unsafe { #rt::lift_cstr(__ffi_scope, #ptr, #name) }?;
                });
                regions.push((
                    quote!(#rt::Region::of(#value.to_bytes_with_nul(), #name)),
                    false,
                ));
                values.push(quote!(#value));
                quote!(#rt::TypeDesc::CStr)
            }
            ParamKind::StrList => {
                c_params.push(quote!(#ptr: *const #rt::FfiBuffer, #len: usize));
                shared.push(quote_spanned! {span=>
                    // SAFETY: NULL with length 0 or `len` string views whose
                    // bytes are readable for the call (C contract); each
                    // checked as UTF-8.
                    let #value = unsafe { #rt::lift_str_list(__ffi_scope, #ptr, #len, #name) }?;
                });
                item_lists.push((value.clone(), name.clone()));
                values.push(quote!(&#value[..]));
                quote!(#rt::TypeDesc::StrList)
            }
            ParamKind::Slice {
                elem,
                mutable: true,
                ..
            } => {
                // `&mut [T]`: borrowed in place, so only `FfiElement`s.
                let at = AtType::new(elem, "FfiElement");
                let raw = at.item("Raw");
                let ptr_ty = quote_spanned!(at.first=> *mut #raw);
                let lift = at.runtime_fn("lift_slice_mut", elem);
                let ptr_value = at.wrap(&ptr);
                let ptr_param = at.binding_at_first(&ptr);
                c_params.push(quote_spanned!(at.last=> #ptr_param: #ptr_ty));
                c_params.push(quote!(#len: usize));
                exclusive.push(quote_spanned! {span=>
                    // SAFETY: NULL with length 0 or `len` elements valid for
                    // the call (C contract), not aliased (checked before);
                    // elements checked by FfiElement::valid.
                    let #value = unsafe { #lift(__ffi_scope, #ptr_value, #len, #name) }?;
                });
                regions.push((
                    quote!(#rt::Region::new(#ptr as *const _, #len, true, #name)),
                    true,
                ));
                values.push(quote!(#value));
                let elem_desc = at.konst("DESC");
                quote!(#rt::TypeDesc::Slice { elem: &#elem_desc, mutable: true })
            }
            ParamKind::Slice { elem, .. } => {
                // `&[T]`: borrowed in place (`FfiElement`s) or copied in.
                let at = AtType::new(elem, "FfiSliceElem");
                let raw = at.item("Raw");
                let ptr_ty = quote_spanned!(at.first=> *const #raw);
                let lift = at.item("lift_elems");
                let ptr_value = at.wrap(&ptr);
                let ptr_param = at.binding_at_first(&ptr);
                c_params.push(quote_spanned!(at.last=> #ptr_param: #ptr_ty));
                c_params.push(quote!(#len: usize));
                shared.push(quote_spanned! {span=>
                    // SAFETY: NULL with length 0 or `len` elements readable
                    // for the call (C contract); checked by `lift_elems`.
                    let #value = unsafe { #lift(__ffi_scope, #ptr_value, #len, #name) }?;
                });
                regions.push((quote!(#rt::Region::of(&*#value, #name)), false));
                values.push(quote!(&*#value));
                let elem_desc = at.konst("DESC");
                quote!(#rt::TypeDesc::Slice { elem: &#elem_desc, mutable: false })
            }
            ParamKind::FnRef {
                args,
                ret,
                by_value,
            } => {
                // A local closure of the user's own argument types around
                // the caller's function, lent to the user's function.
                let arg = format_ident!("__ffi_arg{}", index);
                let function = format_ident!("__ffi_fn{}", index);
                c_params.push(quote!(#arg: #rt::FfiForeign));
                let unit: syn::Type = syn::parse_quote!(());
                let ret_ty = ret.clone().unwrap_or(unit);
                let ret_at = AtType::new(&ret_ty, "ForeignReturn");
                let arg_ats: Vec<_> = args.iter().map(|a| AtType::new(a, "CallArg")).collect();
                let names: Vec<_> = (0..args.len())
                    .map(|i| format_ident!("__ffi_a{}", i))
                    .collect();
                let reprs: Vec<_> = (0..args.len())
                    .map(|i| format_ident!("__ffi_c{}", i))
                    .collect();
                // Each through `<A as CallArg>` at the argument's type: an
                // unsupported one is one error there.
                let to_reprs =
                    arg_ats
                        .iter()
                        .zip(names.iter().zip(&reprs))
                        .map(|(at, (name, repr))| {
                            let lend = at.item("lend");
                            let binding = at.binding_at_first(repr);
                            quote_spanned!(at.last=> let mut #binding = #lend(#name);)
                        });
                copies.push(quote_spanned! {span=>
                    // SAFETY: the caller's C argument, an FfiForeign by the
                    // C contract; NULL functions are refused.
                    let #function = unsafe { #rt::FnRef::lift(#arg, #name) }?;
                    let #value = |#(#names: #args),*| -> #ret_ty {
                        #(#to_reprs)*
                        // SAFETY: one pointer per parameter `DESC` lists, in
                        // order, each to the C form of its argument's type
                        // (`CallArg::lend` at that type), alive until the
                        // call returns or unwinds (the `ArgRepr` locals).
                        unsafe { #function.call::<#ret_ty>(&[#(#reprs.ptr()),*]) }
                    };
                });
                values.push(match by_value {
                    true => quote!(#value),
                    false => quote!(&#value),
                });
                let params = arg_ats.iter().map(|at| at.konst("DESC"));
                let ret_desc = ret_at.konst("DESC");
                quote!(#rt::TypeDesc::FnRef { params: &[#(#params),*], ret: &#ret_desc })
            }
            // Rejected by `validate`: never expanded.
            ParamKind::Unsupported(_) => continue,
        };
        let default = default_value(&param.ffi);
        let borrowed = matches!(param.kind, ParamKind::Ref(_) | ParamKind::RefMut(_));
        let mutable = matches!(param.kind, ParamKind::RefMut(_));
        param_descs.push(quote!(#rt::ParamDesc { name: #name, ty: #desc, default: #default, borrowed: #borrowed, mutable: #mutable }));
    }

    // A `&mut [T]` must not alias another borrowed argument (the bytes of
    // each `&[&str]` item included): checked on the borrowed values and the
    // raw `&mut` pointers, before any `&mut` exists.
    let mutables: Vec<_> = regions.iter().filter(|(_, m)| *m).map(|(r, _)| r).collect();
    let aliasing_check = if mutables.is_empty() {
        TokenStream::new()
    } else {
        let all = regions.iter().map(|(region, _)| region);
        let fixed = if regions.len() > 1 {
            quote!(#rt::check_disjoint(&[#(#all),*])?;)
        } else {
            TokenStream::new()
        };
        let items = item_lists.iter().map(
            |(value, name)| quote!(#rt::check_items_disjoint(&[#(#mutables),*], &#value, #name)?;),
        );
        quote!(#fixed #(#items)*)
    };

    let unit: syn::Type = syn::parse_quote!(());
    let written_ret = model.ret.ty.clone().unwrap_or(unit);
    // An iterator crosses as the handle of its registered `RustIter`.
    let iter = match &model.ret.kind {
        ReturnKind::Iterator(iter) => Some((iter, IterExport::new(iter, c_name))),
        _ => None,
    };
    let ret_ty = iter
        .as_ref()
        .map_or_else(|| written_ret.clone(), |(_, export)| export.ret_ty.clone());
    let ret = AtType::new(&ret_ty, "IntoFfi");
    if model.kind.has_receiver() {
        c_params.insert(0, quote!(__ffi_handle: u64));
    }
    let objects = object_args(model);
    let ret_abi = ret.item("Abi");
    let lower = ret.item("lower");
    let mut call = call_expr(model, &values);
    if let Some((iter, _)) = &iter {
        call = IterExport::register(iter, &written_ret, call);
    }
    let lower_call = quote_spanned!(ret.last=> #lower(#call));
    let ret_owned = ret.konst("OWNED");
    let (free_item, free_desc) = if !model.ret.kind.is_plain() {
        let free_name = format!("{c_name}_free");
        let free_ident = hidden_ident("free", c_name);
        let ret_ptr = quote_spanned!(ret.first=> *mut #ret_abi);
        let free = ret.item("free");
        let value = ret.wrap(&quote!(value));
        let item = quote! {
            #[doc(hidden)]
            #[doc = "# Safety"]
            #[doc = "`value` is NULL or points to a value returned by the paired export."]
            // SAFETY: `<name>_free` of a checked export name (validate::c_symbol).
            #[unsafe(export_name = #free_name)]
            #[allow(non_snake_case, clippy::type_complexity)]
            pub unsafe extern "C" fn #free_ident(value: #ret_ptr) {
                unsafe { #free(#value) }
            }
        };
        let desc = quote! {
            if #ret_owned {
                ::core::option::Option::Some(#free_name)
            } else {
                ::core::option::Option::None
            }
        };
        (item, desc)
    } else {
        (TokenStream::new(), quote!(::core::option::Option::None))
    };
    let (ret_desc, iter_items) = match iter {
        Some((_, export)) => (export.desc, export.items),
        None => (ret.konst("DESC"), TokenStream::new()),
    };
    // A protocol shim's owner is any exported type (a record too).
    let owner_trait = match model.kind.is_protocol() {
        true => quote!(FfiData),
        false => quote!(FfiObject),
    };
    let owner_desc = option(
        model
            .owner
            .as_ref()
            .map(|owner| quote!(<#owner as #rt::#owner_trait>::DESC)),
    );
    let kind = model.kind.describe();
    let (python_item, python_desc, python_ready) = match python_fast_path(model, &ret) {
        Some(item) => {
            let ident = hidden_ident("py", c_name);
            let ready = hidden_ident("py_ready", c_name);
            (item, option(Some(quote!(#ident))), quote!(#ready))
        }
        None => (
            TokenStream::new(),
            option(None),
            quote!(#rt::describe::always_ready),
        ),
    };
    let (batch_item, batch_desc) = if model.batch.is_some() {
        let batch_name = format!("{c_name}_batch");
        let item = batch_export(model, &ret, &batch_name);
        (item, option(Some(quote!(#batch_name))))
    } else {
        (TokenStream::new(), option(None))
    };
    // A free function's symbol is one crate-wide name (methods are under
    // their object's, see `object.rs`).
    let guard = match model.kind {
        FnKind::Function => symbol_guard(c_name, model.c_name_span),
        _ => TokenStream::new(),
    };
    let desc_ident = hidden_ident("desc", c_name);
    let call_scope = call_scope(model.sig.ident.span());
    // Declared first, so dropped last: it unreserves what was not taken.
    let moves = match moving {
        true => quote!(let mut __ffi_moves = #rt::Moves::new();),
        false => TokenStream::new(),
    };
    // An `async fn`: the shim starts a task (`call` makes the future) and
    // `<name>_finish` lowers its result, as the blocking shim would.
    let (shim_ret, body, finish_item, finish_desc) = if model.sig.asyncness.is_some() {
        c_params.push(quote! {
            __ffi_on_done: ::core::option::Option<#rt::task::OnDone>,
            __ffi_context: *mut ::core::ffi::c_void
        });
        let finish_name = format!("{c_name}_finish");
        let finish_ident = hidden_ident("finish", c_name);
        let ret_ty = &ret_ty;
        let finish_call =
            quote_spanned!(ret.last=> #lower(#rt::task::finish::<#ret_ty>(__ffi_task)?));
        let item = quote! {
            #[doc(hidden)]
            // SAFETY: `<name>_finish` of a checked export name (validate::c_symbol).
            #[unsafe(export_name = #finish_name)]
            #[allow(non_snake_case, clippy::type_complexity)]
            pub extern "C" fn #finish_ident(__ffi_task: u64) -> #ret_abi {
                #rt::call(move || #finish_call)
            }
        };
        // Spanned at the name: a future that is not `Send + 'static` is
        // reported at the function.
        let start = quote_spanned!(model.sig.ident.span()=> #rt::task::start(#call, __ffi_on_done, __ffi_context));
        (quote!(u64), start, item, option(Some(quote!(#finish_name))))
    } else {
        (
            quote!(#ret_abi),
            lower_call,
            TokenStream::new(),
            option(None),
        )
    };
    let property_desc = option(
        model
            .property()
            .map(|(name, setter)| quote!(#rt::PropertyDesc { name: #name, setter: #setter })),
    );
    let doc = &model.doc;
    let keep_gil = model.keep_gil.is_some();
    let rust_name = model.sig.ident.unraw().to_string();
    // A protocol shim is described by its protocol (`eq`, `hash`, ..).
    let rust_name = match model.kind.is_protocol() {
        true => rust_name.trim_start_matches("__ffi_").to_owned(),
        false => rust_name,
    };
    let c_name_lit = syn::LitStr::new(c_name, model.c_name_span);
    // An object's operator whose impl is missing leaves the result's type
    // unknown, and rustc then also warns that the shim depends on never
    // type fallback: a second error for the one mistake, reported above.
    let fallback_lint = match model.kind.is_protocol() {
        true => quote!(#[allow(dependency_on_unit_never_type_fallback)]),
        false => TokenStream::new(),
    };
    quote! {
        #[doc(hidden)]
        #[doc = "# Safety"]
        #[doc = "Borrowed arguments follow the ffi-export C contract: each pointer is NULL (with length 0) or valid for its length during the call."]
        // SAFETY: the name was checked not to be a C library, CPython or
        // ffi-export symbol (validate::c_symbol).
        #[unsafe(export_name = #c_name_lit)]
        #[allow(non_snake_case, clippy::type_complexity)]
        #fallback_lint
        pub unsafe extern "C" fn #shim_ident(#(#c_params),*) -> #shim_ret {
            #rt::call(move || {
                #moves
                #call_scope
                #objects
                #(#copies)*
                #(#shared)*
                #aliasing_check
                #(#exclusive)*
                #body
            })
        }

        #finish_item
        #free_item
        #iter_items
        #guard

        #[#rt::linkme::distributed_slice(#rt::EXPORTS)]
        #[linkme(crate = #rt::linkme)]
        #[doc(hidden)]
        #[allow(non_upper_case_globals, clippy::type_complexity)]
        static #desc_ident: #rt::ExportDesc = #rt::ExportDesc {
            name: #c_name,
            rust_name: #rust_name,
            module: ::core::module_path!(),
            doc: #doc,
            params: &[#(#param_descs),*],
            ret: #ret_desc,
            free: #free_desc,
            owner: #owner_desc,
            kind: #kind,
            python: #python_desc,
            python_ready: #python_ready,
            batch: #batch_desc,
            finish: #finish_desc,
            property: #property_desc,
            keep_gil: #keep_gil,
        };
        #python_item
        #batch_item
    }
}

/// The `METH_FASTCALL` function of a function or method whose parameters
/// are primitives, `&str`, slices of numbers, `Callback<fn(..)>`s, an
/// object's other operand, or owned values the runtime reads natively
/// (`PyArg`), and whose result is one `PyReturn` builds.
fn python_fast_path(model: &ExportFn, ret: &AtType) -> Option<TokenStream> {
    if !model.ret.kind.is_native_candidate()
        // An operator's result (`<T as Add>::Output`) is unknown when its
        // impl is missing: that is reported once, at the protocol's name.
        || (model.kind.is_protocol() && model.ret.kind.is_named())
        || model.sig.asyncness.is_some()
    {
        return None;
    }
    let rt = runtime();
    let ident = hidden_ident("py", &model.c_name);
    // A method gets `(self, handle, params...)` from the helper's def; its
    // fallback passes `(self, params...)` on.
    let method = model.kind.has_receiver();
    let first = if method { 2 } else { 0 };
    let count = model.params.len() + first;
    let fallback = if method {
        quote! {
            // SAFETY: the fast function's own arguments, with the GIL held.
            return unsafe { __ffi_py.fallback_method(__ffi_slow, __ffi_args) };
        }
    } else {
        quote! {
            // SAFETY: the fast function's own arguments, with the GIL held.
            return unsafe { __ffi_py.fallback(__ffi_slow, __ffi_args) };
        }
    };
    let mut extracts = Vec::new();
    if method {
        extracts.push(quote! {
            // SAFETY: a live argument; the GIL is held.
            let ::core::option::Option::Some(__ffi_handle) = (unsafe { <u64 as #rt::python::PyArg>::extract(&__ffi_py, __ffi_args[1]) }) else {
                #fallback
            };
            if __ffi_handle == 0 {
                #fallback
            }
        });
    }
    let mut lifts = Vec::new();
    let mut values = Vec::new();
    let mut regions = Vec::new();
    let mut any_mutable = false;
    let calls_back = model
        .params
        .iter()
        .any(|param| matches!(param.kind, ParamKind::Callback(_)));
    let mut write_backs = Vec::new();
    let mut readies = Vec::new();
    for (index, param) in model.params.iter().enumerate() {
        let name = &param.name;
        let value = format_ident!("__ffi_value{}", index);
        let position = index + first;
        let arg = quote!(__ffi_args[#position]);
        match &param.kind {
            ParamKind::Primitive(ty) => extracts.push(quote! {
                // SAFETY: a live argument; the GIL is held.
                let ::core::option::Option::Some(#value) = (unsafe { <#ty as #rt::python::PyArg>::extract(&__ffi_py, #arg) }) else {
                    #fallback
                };
            }),
            ParamKind::Str => extracts.push(quote! {
                // SAFETY: the caller's arguments keep the str alive for the call.
                let ::core::option::Option::Some(#value) = (unsafe { __ffi_py.str_arg(#arg, __ffi_scope) }) else {
                    #fallback
                };
            }),
            ParamKind::Slice {
                elem,
                mutable,
                numeric: true,
            } => {
                let guard = format_ident!("__ffi_buffer{}", index);
                let ptr = format_ident!("__ffi_ptr{}", index);
                let len = format_ident!("__ffi_len{}", index);
                let slot = format_ident!("__ffi_view{}", index);
                extracts.push(quote! {
                    let mut #slot = ::core::mem::MaybeUninit::uninit();
                    // SAFETY: a live argument; the GIL is held.
                    let ::core::option::Option::Some(#guard) = (unsafe { __ffi_py.buffer_arg::<#elem>(#arg, #mutable, &mut #slot) }) else {
                        #fallback
                    };
                    let (#ptr, #len) = #guard.raw::<#elem>();
                });
                if calls_back {
                    // Python code runs during the call (the callbacks): Rust
                    // gets a private copy no Python code can reach, as on
                    // the ctypes path, and `&mut` is copied back after.
                    let original = format_ident!("__ffi_original{}", index);
                    let copy = format_ident!("__ffi_copy{}", index);
                    extracts.push(quote! {
                        let #original = #ptr;
                        // SAFETY: the buffer's memory (checked: format,
                        // size, alignment), exported until its guard drops;
                        // read with the GIL held, before any Python code runs.
                        let mut #copy = unsafe { #rt::python::private_copy::<#elem>(#original, #len) };
                        let #ptr = if #len == 0 { ::core::ptr::null_mut() } else { #copy.as_mut_ptr() };
                    });
                    if *mutable {
                        write_backs.push(quote! {
                            // SAFETY: the buffer is exported (writable,
                            // checked) until its guard drops after this; the
                            // call is over, so no Rust reference to it or to
                            // the copy is left.
                            unsafe { #rt::python::write_back::<#elem>(#original, &#copy) };
                        });
                    }
                }
                let lift = if *mutable {
                    quote!(#rt::lift_slice_mut::<#elem>)
                } else {
                    quote!(#rt::lift_slice::<#elem>)
                };
                lifts.push(quote! {
                    // SAFETY: the buffer's memory (checked: format, size,
                    // alignment, writability), exported until its guard
                    // drops after the call; not aliased mutably (checked).
                    let #value = unsafe { #lift(__ffi_scope, #ptr, #len, #name) }?;
                });
                regions.push(quote!(#rt::Region::new(#ptr as *const #elem, #len, #mutable, #name)));
                any_mutable |= *mutable;
            }
            // The other object of an object's own comparison (`eq`, `cmp`):
            // the helper passes its handle; borrowed like a `&T` parameter.
            ParamKind::Ref(ty) if model.kind == FnKind::ProtocolMethod => {
                let handle = format_ident!("__ffi_handle{}", index);
                let held = format_ident!("__ffi_held{}", index);
                extracts.push(quote! {
                    // SAFETY: a live argument; the GIL is held.
                    let ::core::option::Option::Some(#handle) = (unsafe { <u64 as #rt::python::PyArg>::extract(&__ffi_py, #arg) }) else {
                        #fallback
                    };
                    if #handle == 0 {
                        #fallback
                    }
                });
                lifts.push(quote! {
                    // SAFETY: an object's handle, checked by the registry.
                    let #held = unsafe { <#ty as #rt::FfiBorrow>::hold(#handle, #name, &mut __ffi_objects) }?;
                });
                values.push(quote!(<#ty as #rt::FfiBorrow>::borrow(&#held, __ffi_locked)?));
                continue;
            }
            // A Python callable, called by a native trampoline (see the
            // runtime's `python.rs`); its exception is kept for the call.
            ParamKind::Callback(ty) => {
                let callback = format_ident!("__ffi_callback{}", index);
                let lent = format_ident!("__ffi_lent{}", index);
                extracts.push(quote! {
                    // SAFETY: a live argument, kept alive by the caller for
                    // the call; the GIL is held.
                    let ::core::option::Option::Some(#callback) = (unsafe { __ffi_py.callback_arg(#arg, &__ffi_callbacks) }) else {
                        #fallback
                    };
                    let #lent = &#callback;
                });
                let at = AtType::new(ty, "FfiParam");
                let lift = at.item("lift");
                let abi = quote!(<#ty as #rt::python::PyCallback>::native(#lent));
                let lift_call = at.call(&lift, quote!(#abi, #name, __ffi_scope));
                lifts.push(quote! {
                    // SAFETY: the native trampoline of this `Callback` type,
                    // with the address of its `NativeCallback`: a local of
                    // the fast function, which outlives this body; the
                    // `Callback` lifted is bound to the call's `CallScope`,
                    // so it cannot leave the body.
                    let #value = unsafe { #lift_call }?;
                });
            }
            // Owned values and records (`&R` too: a copy is lent) the
            // runtime reads itself when the type has `PyArg`; the export's
            // readiness check keeps the ctypes path for types without it.
            ParamKind::Named(ty) | ParamKind::Option(ty) | ParamKind::Ref(ty) => {
                let ty = match &param.kind {
                    ParamKind::Ref(_) => ty,
                    _ => &param.ty,
                };
                extracts.push(quote! {
                    let ::core::option::Option::Some(#value) = ({
                        // `PyArg` when the type has it, else a fallback
                        // (the type is recognised by its name only).
                        use #rt::python::{NativeExtract as _, NoNativeExtract as _};
                        // SAFETY: a live argument; the GIL is held. The
                        // value is copied out (owned) before the GIL is
                        // released.
                        unsafe { (&#rt::python::NativeArg::<#ty>::new()).extract(&__ffi_py, #arg) }
                    }) else {
                        #fallback
                    };
                });
                readies.push(quote! {
                    (&#rt::python::NativeArg::<#ty>::new()).ready()
                });
                if matches!(param.kind, ParamKind::Ref(_)) {
                    values.push(quote!(&#value));
                    continue;
                }
            }
            _ => return None,
        }
        values.push(quote!(#value));
    }
    let call = call_expr(model, &values);
    let aliasing_check = if any_mutable && regions.len() > 1 {
        quote!(#rt::check_disjoint(&[#(#regions),*])?;)
    } else {
        TokenStream::new()
    };
    let lower = ret.item("lower");
    let ret_abi = ret.item("Abi");
    // Spanned at the return type, so an unsupported type is reported once.
    let objects = object_args(model);
    let body = quote_spanned! {ret.last=>
        #rt::status::call_and_take(move || {
            #objects
            #aliasing_check
            #(#lifts)*
            #lower(#call)
        })
    };
    let abi_value = ret.wrap(&quote!(__ffi_abi));
    let ret_ty = model
        .ret
        .ty
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(()));
    let call_scope = call_scope(model.sig.ident.span());
    let receiver = if method {
        quote!(__ffi_args[0])
    } else {
        quote!(::core::ptr::null_mut())
    };
    // `keep_gil` (validated: plain-value parameters only, so the body runs
    // no Python code): the GIL stays held, the token unused meanwhile.
    let (release, reacquire) = match model.keep_gil {
        Some(_) => (TokenStream::new(), TokenStream::new()),
        None => (
            quote!(let __ffi_released = __ffi_py.release();),
            quote!(::core::mem::drop(__ffi_released);),
        ),
    };
    // With callbacks, the first exception one raised is the call's failure.
    // The trampolines take the GIL back with the state it was released
    // with, or run with it held (`keep_gil`).
    let gil = match model.keep_gil {
        Some(_) => quote! {
            // SAFETY: a `keep_gil` fast function keeps the GIL for the call.
            unsafe { __ffi_callbacks.holding_gil(&__ffi_py) };
        },
        None => quote!(__ffi_callbacks.released(&__ffi_released);),
    };
    let (failure, released, finish) = match calls_back {
        true => (
            quote!(let __ffi_callbacks = #rt::python::CallbackCall::new();),
            gil,
            quote!(__ffi_py.finish_calling_back(#abi_value, __ffi_fault, #receiver, &__ffi_callbacks, __ffi_build)),
        ),
        false => (
            TokenStream::new(),
            TokenStream::new(),
            quote!(__ffi_py.finish(#abi_value, __ffi_fault, #receiver, __ffi_build)),
        ),
    };
    // The result's `PyReturn::to_py` (picked by name: a type without one
    // makes the export not ready, so this is never called for it).
    let build = quote! {
        let __ffi_build = {
            use #rt::python::{NativeBuild as _, NoNativeBuild as _};
            (&#rt::python::NativeReturn::<#ret_ty>::new()).builder()
        };
    };
    readies.push(quote! {
        (&#rt::python::NativeReturn::<#ret_ty>::new()).ready()
    });
    let ready_ident = hidden_ident("py_ready", &model.c_name);
    Some(quote! {
        /// Whether the fast function below can read every parameter and
        /// build the result in this process (`ExportDesc::python_ready`).
        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #ready_ident() -> bool {
            #[allow(unused_imports)]
            use #rt::python::{NativeBuild as _, NoNativeBuild as _, NativeExtract as _, NoNativeExtract as _};
            true #(&& #readies)*
        }

        #[doc(hidden)]
        #[doc = "# Safety"]
        #[doc = "Called by CPython as a METH_FASTCALL builtin: the GIL is held, `args` holds `nargs` live objects (or is NULL for none), `slow` is the helper's ctypes wrapper."]
        #[allow(non_snake_case, unused_mut, unused_variables, clippy::type_complexity)]
        unsafe extern "C" fn #ident(
            __ffi_slow: *mut #rt::python::PyObject,
            __ffi_args: *const *mut #rt::python::PyObject,
            __ffi_nargs: isize,
        ) -> *mut #rt::python::PyObject {
            // SAFETY: CPython calls this function as a builtin, with the GIL;
            // the token does not outlive the call.
            let ::core::option::Option::Some(mut __ffi_py) = (unsafe { #rt::python::python() }) else {
                return ::core::ptr::null_mut();
            };
            // SAFETY: CPython passes `nargs` live arguments (NULL for none).
            let __ffi_args = unsafe { #rt::python::Python::args(__ffi_args, __ffi_nargs) };
            if __ffi_args.len() != #count {
                #fallback
            }
            #call_scope
            #failure
            #(#extracts)*
            #release
            #released
            // The failure comes back with the call, before the GIL does: no
            // Python code (finalizers, signal handlers) can run between the
            // failure and its raise.
            let (__ffi_abi, __ffi_fault): (#ret_abi, ::core::option::Option<#rt::Fault>) = #body;
            #reacquire
            #(#write_backs)*
            #build
            // SAFETY: `__ffi_abi` is what the return type's `lower` produced
            // (or its zero value on failure); the receiver is a live argument;
            // the GIL is held again; `__ffi_callbacks` (with callbacks) is the
            // record this call's trampolines kept their failure in.
            unsafe { #finish }
        }
    })
}

/// `<name>_batch(len, a, a_step, b, b_step, ..., out) -> size_t`: the
/// function looped over arrays in Rust, one crossing for all elements. An
/// input steps by 1 (an array of `len`) or 0 (one value for every element).
/// Returns `len`; on the first failing element it stops, records the error
/// (its message starts with `element i:`) and returns 0.
fn batch_export(model: &ExportFn, ret: &AtType, batch_name: &str) -> TokenStream {
    let rt = runtime();
    let ident = hidden_ident("batch", &model.c_name);
    let fn_ident = &model.sig.ident;
    let mut c_params = Vec::new();
    let mut lifts = Vec::new();
    let mut regions = Vec::new();
    let mut values = Vec::new();
    let mut reads = Vec::new();
    let mut array_reads = Vec::new();
    let mut steps = Vec::new();
    for (index, param) in model.params.iter().enumerate() {
        let ParamKind::Primitive(ty) = &param.kind else {
            continue;
        };
        let name = &param.name;
        let ptr = format_ident!("__ffi_ptr{}", index);
        let step = format_ident!("__ffi_step{}", index);
        let input = format_ident!("__ffi_input{}", index);
        let value = format_ident!("__ffi_value{}", index);
        let as_param = quote!(<#ty as #rt::FfiParam>);
        c_params.push(quote!(#ptr: *const #as_param::Abi, #step: usize));
        lifts.push(quote! {
            // SAFETY: `len` values (step 1) or one (step 0) readable for
            // the call (C contract); checked for NULL, alignment, size.
            let #input = unsafe { #rt::lift_batch_in(#ptr, #step, __ffi_len, #name) }?;
        });
        regions.push(
            quote!(#rt::Region::new(#ptr, if #step == 0 { 1 } else { __ffi_len }, false, #name)),
        );
        reads.push(quote! {
            // SAFETY: a primitive's C value; `lift` checks it (bools).
            let #value = unsafe { #as_param::lift(#input[__ffi_index * #step], #name, __ffi_scope) }
                .map_err(|fault| fault.at(__ffi_index))?;
        });
        array_reads.push(quote! {
            // SAFETY: as above.
            let #value = unsafe { #as_param::lift(#input[__ffi_index], #name, __ffi_scope) }
                .map_err(|fault| fault.at(__ffi_index))?;
        });
        steps.push((step, input));
        values.push(value);
    }
    let ret_abi = ret.item("Abi");
    let lower = ret.item("lower");
    let call_scope = call_scope(model.sig.ident.span());
    let step_idents = steps.iter().map(|(step, _)| step);
    let array_inputs = steps.iter().map(|(_, input)| input);
    let array_inputs2 = steps.iter().map(|(_, input)| input);
    quote! {
        #[doc(hidden)]
        #[doc = "# Safety"]
        #[doc = "Each input points to `len` values (step 1) or one (step 0); `out` to `len` writable values."]
        // SAFETY: `<name>_batch` of a checked export name (validate::c_symbol).
        #[unsafe(export_name = #batch_name)]
        #[allow(non_snake_case, clippy::type_complexity)]
        pub unsafe extern "C" fn #ident(__ffi_len: usize, #(#c_params,)* __ffi_out: *mut #ret_abi) -> usize {
            #rt::call(move || {
                #rt::check_disjoint(&[
                    #(#regions,)*
                    #rt::Region::new(__ffi_out as *const #ret_abi, __ffi_len, true, "out"),
                ])?;
                #call_scope
                #(#lifts)*
                // SAFETY: the C contract makes `out` valid for writing `len`
                // results; it is only written.
                let mut __ffi_out = unsafe { #rt::lift_batch_out(__ffi_out, __ffi_len, "out") }?;
                let __ffi_out = __ffi_out.uninit();
                // A panic in element i is reported as `element i: ...`.
                let __ffi_element = #rt::BatchElement::default();
                if true #(&& #step_idents == 1)* {
                    // Every input is an array of `len`: plain indexing the
                    // compiler can check once and vectorise.
                    #(let #array_inputs = &#array_inputs2[..__ffi_len];)*
                    for __ffi_index in 0..__ffi_len {
                        __ffi_element.set(__ffi_index);
                        #(#array_reads)*
                        __ffi_out[__ffi_index].write(#lower(#fn_ident(#(#values),*))
                            .map_err(|fault| fault.at(__ffi_index))?);
                    }
                } else {
                    for (__ffi_index, __ffi_slot) in __ffi_out.iter_mut().enumerate() {
                        __ffi_element.set(__ffi_index);
                        #(#reads)*
                        __ffi_slot.write(#lower(#fn_ident(#(#values),*))
                            .map_err(|fault| fault.at(__ffi_index))?);
                    }
                }
                ::core::result::Result::Ok(__ffi_len)
            })
        }
    }
}

/// The objects a call borrows, before its arguments are read: the
/// receiver (`__ffi_self`, its index in `__ffi_objects`, or its `Arc` for
/// `self: Arc<Self>`), then each `&T` / `&mut T` parameter as it is read.
fn object_args(model: &ExportFn) -> TokenStream {
    let rt = runtime();
    let owner = model.owner.as_ref();
    let receiver = match (owner, model.kind) {
        (Some(owner), FnKind::Method { mutable }) => quote! {
            let __ffi_self = __ffi_objects.hold::<#owner>(__ffi_handle, #mutable, "self")?;
        },
        (Some(owner), FnKind::ProtocolMethod) => quote! {
            let __ffi_self = __ffi_objects.hold::<#owner>(__ffi_handle, false, "self")?;
        },
        (Some(owner), FnKind::SharedMethod) => quote! {
            let __ffi_self = #rt::shared::<#owner>(__ffi_handle, "self")?;
        },
        _ => TokenStream::new(),
    };
    if !uses_objects(model) {
        return receiver;
    }
    quote! {
        let mut __ffi_objects = #rt::ObjectArgs::new();
        #receiver
    }
}

/// Whether the call locks objects: a `&self` / `&mut self` method, or a
/// `&T` / `&mut T` parameter.
fn uses_objects(model: &ExportFn) -> bool {
    matches!(model.kind, FnKind::Method { .. } | FnKind::ProtocolMethod)
        || model
            .params
            .iter()
            .any(|param| matches!(param.kind, ParamKind::Ref(_) | ParamKind::RefMut(_)))
}

/// The call of the user's function with the lifted `values`: a free
/// function, an associated function, or a method on its receiver; with
/// the call's objects locked (`ObjectArgs::call`) when it borrows any.
fn call_expr(model: &ExportFn, values: &[impl ToTokens]) -> TokenStream {
    let fn_ident = &model.sig.ident;
    // A protocol shim's call at the protocol (its name's span): a missing
    // impl is reported there once, as at its signature.
    let span = match model.kind.is_protocol() {
        true => fn_ident.span(),
        false => Span::call_site(),
    };
    let call = match (&model.owner, model.kind) {
        (Some(owner), FnKind::Method { mutable }) => {
            let get = if mutable {
                quote!(get_mut)
            } else {
                quote!(get)
            };
            quote!(<#owner>::#fn_ident(__ffi_locked.#get::<#owner>(__ffi_self)?, #(#values),*))
        }
        (Some(owner), FnKind::ProtocolMethod) => quote_spanned! {span=>
            <#owner>::#fn_ident(__ffi_locked.get::<#owner>(__ffi_self)?, #(#values),*)
        },
        (Some(owner), FnKind::SharedMethod) => {
            quote!(<#owner>::#fn_ident(__ffi_self, #(#values),*))
        }
        (Some(owner), _) => quote_spanned!(span=> <#owner>::#fn_ident(#(#values),*)),
        (None, _) => quote!(#fn_ident(#(#values),*)),
    };
    if !uses_objects(model) {
        return call;
    }
    quote! {
        __ffi_objects.call(|__ffi_locked| ::core::result::Result::Ok(#call))?
    }
}
