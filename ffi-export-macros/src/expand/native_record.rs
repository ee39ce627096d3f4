//! A record's CPython fast path: `PyArg` (read from an instance of the
//! helper's record class) and `PyReturn` (built as one), each field through
//! its own type's impls, picked by name (`NativeArg` / `NativeReturn`): a
//! field type without one makes the record not ready, and exports using it
//! keep the ctypes path. Nothing here can fail to compile for a field type
//! the rest of the expansion accepts (those errors are reported once, at
//! the field, by `record.rs`).

use crate::model::Record;
use crate::tokens::runtime;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// `PyArg` and `PyReturn` for a (not plain-data) record.
pub fn native_record(record: &Record) -> TokenStream {
    let rt = runtime();
    let py = quote!(#rt::python);
    let ident = &record.item.ident;
    let layout_fn = format_ident!("__ffi_export_layout_{}", ident);
    let count = record.fields.len();
    let names: Vec<_> = record.fields.iter().map(|f| &f.ident).collect();
    let types: Vec<_> = record.fields.iter().map(|f| &f.ty).collect();
    let slots: Vec<_> = (0..count)
        .map(|i| format_ident!("__ffi_slot{}", i))
        .collect();
    quote! {
        /// The registered class of the record (see the runtime's
        /// `python::records`), if the helper registered it.
        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #layout_fn() -> ::core::option::Option<&'static #py::RecordLayout> {
            static LAYOUT: #py::LayoutCache = #py::LayoutCache::new();
            LAYOUT.get(&<#ident as #rt::FfiData>::DESC, #count)
        }

        impl #py::PyArg for #ident {
            unsafe fn extract(
                __ffi_py: &#py::Python,
                __ffi_obj: *mut #py::PyObject,
            ) -> ::core::option::Option<Self> {
                #[allow(unused_imports)]
                use #py::{NativeExtract as _, NoNativeExtract as _};
                let _nested = #py::Nested::enter()?;
                // SAFETY: a live object with the GIL held (the caller's
                // contract); the slots are borrowed from it, and each field
                // is read (copied out) before anything can run.
                let [#(#slots),*] = unsafe { #layout_fn()?.fields::<#count>(__ffi_py, __ffi_obj) }?;
                ::core::option::Option::Some(#ident {
                    // SAFETY: live objects held by the record, the GIL held;
                    // a field's reader runs no Python code.
                    #(#names: unsafe { (&#py::NativeArg::<#types>::new()).extract(__ffi_py, #slots) }?,)*
                })
            }

            fn ready() -> bool {
                #[allow(unused_imports)]
                use #py::{NativeExtract as _, NoNativeExtract as _};
                static READY: #py::Readiness = #py::Readiness::new();
                READY.get(|| {
                    #layout_fn().is_some()
                        #(&& (&#py::NativeArg::<#types>::new()).ready())*
                })
            }
        }

        // SAFETY: the record's `PyReturn::Abi` is its `FfiData::Repr`.
        unsafe impl #py::PyListItem for #ident {}

        // SAFETY: `Abi` is the record's mirror, what its `IntoFfi` (through
        // `FfiData`) lowers it to; `to_py` hands each field's C form, taken
        // out once, to that field type's own `to_py`, which frees it.
        unsafe impl #py::PyReturn for #ident {
            type Abi = <#ident as #rt::FfiData>::Repr;

            unsafe fn to_py(
                __ffi_py: &#py::Python,
                mut __ffi_abi: Self::Abi,
            ) -> *mut #py::PyObject {
                #[allow(unused_imports)]
                use #py::{NativeBuild as _, NoNativeBuild as _};
                let __ffi_values = [#(
                    // SAFETY: the field's C form, made by the record's
                    // `into_repr` (the caller's contract), taken out of its
                    // `ManuallyDrop` once and freed by its type's `to_py`.
                    unsafe {
                        ((&#py::NativeReturn::<#types>::new()).builder())(
                            __ffi_py,
                            ::core::mem::ManuallyDrop::take(&mut __ffi_abi.#names),
                        )
                    }
                ),*];
                #py::build_record(__ffi_py, #layout_fn(), __ffi_values)
            }

            fn ready() -> bool {
                #[allow(unused_imports)]
                use #py::{NativeBuild as _, NoNativeBuild as _};
                static READY: #py::Readiness = #py::Readiness::new();
                READY.get(|| {
                    #layout_fn().is_some()
                        #(&& (&#py::NativeReturn::<#types>::new()).ready())*
                })
            }
        }
    }
}
