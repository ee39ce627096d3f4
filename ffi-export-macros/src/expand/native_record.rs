//! A record's CPython fast path: `PyArg` (read from an instance of the
//! helper's record class) and `PyReturn` (built as one), each field through
//! its own type's impls, picked by name (`NativeArg` / `NativeReturn`): a
//! field type without one makes the record not ready, and exports using it
//! keep the ctypes path. Nothing here can fail to compile for a field type
//! the rest of the expansion accepts (those errors are reported once, at
//! the field, by `record.rs`).

use super::record::FieldCode;
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
    // Each field's C form is named through its type, spanned there: an
    // unsupported field type stays one error, at the field.
    let codes: Vec<FieldCode> = record.fields.iter().map(FieldCode::new).collect();
    let takes: Vec<_> = codes
        .iter()
        .map(|code| code.take_from("__ffi_abi"))
        .collect();
    let frees: Vec<_> = codes.iter().map(|code| code.free_in("__ffi_abi")).collect();
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
                    // a field's reader runs no Python code while it
                    // succeeds, and the first that fails (clearing an
                    // exception, which could collect garbage) ends the
                    // reading: no slot is read after it.
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
                use #py::{FieldVec as _, NativeBuild as _, NoNativeBuild as _};
                // After a field failed (its exception is set), the others'
                // C forms are only freed.
                let mut __ffi_failed = false;
                let __ffi_values = [#(
                    if __ffi_failed {
                        // SAFETY: the field's C form, made by the record's
                        // `into_repr` (the caller's contract), freed once.
                        unsafe { #frees };
                        ::core::ptr::null_mut()
                    } else {
                        // SAFETY: as above, taken out of its `ManuallyDrop`
                        // once and freed by its type's builder.
                        let __ffi_object = unsafe {
                            ((&&&#py::NativeField::<#types>::new()).builder())(__ffi_py, #takes)
                        };
                        __ffi_failed = __ffi_object.is_null();
                        __ffi_object
                    }
                ),*];
                // SAFETY: each value is NULL or a new reference, given away.
                unsafe { #py::build_record(__ffi_py, #layout_fn(), __ffi_values) }
            }

            fn ready() -> bool {
                #[allow(unused_imports)]
                use #py::{FieldVec as _, NativeBuild as _, NoNativeBuild as _};
                static READY: #py::Readiness = #py::Readiness::new();
                READY.get(|| {
                    #layout_fn().is_some()
                        #(&& (&&&#py::NativeField::<#types>::new()).ready())*
                })
            }
        }
    }
}

/// `PyArg`, `PyReturn` and `PyListItem` for a field-less enum (an
/// `enum.IntEnum` in Python): read from an exact `int` or a member of the
/// enum's registered class, checked by `FfiLift::from_repr`; built as the
/// member of its variant.
pub fn native_enum(ident: &syn::Ident, repr: &syn::Ident, variants: usize) -> TokenStream {
    let rt = runtime();
    let py = quote!(#rt::python);
    let layout_fn = format_ident!("__ffi_export_enum_layout_{}", ident);
    quote! {
        /// The registered class of the enum, if the helper registered it.
        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #layout_fn() -> ::core::option::Option<&'static #py::EnumLayout> {
            static LAYOUT: #py::EnumCache = #py::EnumCache::new();
            LAYOUT.get(&<#ident as #rt::FfiData>::DESC, #variants)
        }

        impl #py::PyArg for #ident {
            unsafe fn extract(
                __ffi_py: &#py::Python,
                __ffi_obj: *mut #py::PyObject,
            ) -> ::core::option::Option<Self> {
                // SAFETY: a live object with the GIL held (the caller's
                // contract).
                let __ffi_value = unsafe { #layout_fn()?.value(__ffi_py, __ffi_obj) }?;
                let __ffi_repr = <#repr as ::core::convert::TryFrom<i64>>::try_from(__ffi_value).ok()?;
                // SAFETY: an integer holds no pointer; only a declared
                // discriminant becomes a value.
                unsafe { <#ident as #rt::FfiLift>::from_repr(&__ffi_repr) }.ok()
            }

            fn ready() -> bool {
                #layout_fn().is_some()
            }
        }

        // SAFETY: the enum's `FfiData::Repr` is its discriminant integer,
        // which owns nothing.
        unsafe impl #py::PyReturn for #ident {
            type Abi = #repr;

            unsafe fn to_py(__ffi_py: &#py::Python, __ffi_abi: #repr) -> *mut #py::PyObject {
                // SAFETY: an integer holds no pointer.
                let __ffi_index = unsafe { <#ident as #rt::FfiLift>::from_repr(&__ffi_abi) }
                    .ok()
                    .and_then(|value| #rt::FfiData::variant_index(&value));
                #py::enum_member(__ffi_py, #layout_fn(), __ffi_index)
            }

            fn ready() -> bool {
                #layout_fn().is_some()
            }
        }

        // SAFETY: the enum's `PyReturn::Abi` is its `FfiData::Repr`.
        unsafe impl #py::PyListItem for #ident {}
    }
}
