//! `#[export] impl Type { .. }`: values of `Type` live in the runtime's
//! handle registry, cross as handles and are dropped by `<prefix>_free`
//! (the prefix is `Type`, or the impl's `name = ".."`).
//! (Each `pub fn` is expanded as a callable.)

use crate::model::Object;
use crate::tokens::{hidden_ident, runtime, symbol_guard};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// The object's impls, description and `<prefix>_free` export (not its
/// methods), after the impl block itself; `c_prefix` is the type's name or
/// the impl's `name = ".."`.
pub fn object(object: &Object, type_name: &str, c_prefix: &str) -> TokenStream {
    let item = &object.item;
    let owner = object.owner();
    let rt = runtime();
    let desc_fn = format_ident!("__ffi_export_object_{}", type_name);
    let layout_fn = format_ident!("__ffi_export_object_layout_{}", type_name);
    let free_name = format!("{c_prefix}_free");
    // The object's symbols are one crate-wide name: `<prefix>_free` stands
    // for them (two objects of one prefix collide there first).
    let guard = symbol_guard(&free_name, object.c_prefix_span);
    let free_ident = hidden_ident("free", type_name);
    let doc = &object.doc;
    let entry = crate::tokens::type_entry(&owner, type_name, false);
    quote! {
        #item
        #entry
        #guard

        impl #rt::FfiObject for #owner {
            const DESC: #rt::TypeDesc = #rt::TypeDesc::Object(#desc_fn);
        }

        // SAFETY: an object's C form is its registry handle (a u64, 0 for
        // none); it is freed through `<Type>_free`, not here.
        unsafe impl #rt::FfiData for #owner {
            type Repr = u64;
            const DESC: #rt::TypeDesc = #rt::TypeDesc::Object(#desc_fn);
            const OWNED: bool = false;
            // Returned as handles (registered); borrowed as `&T` / `&mut T`
            // parameters (`FfiBorrow`, `FfiBorrowMut`), shared as `Arc<T>`,
            // or moved in by value (`FfiLift`, `FfiParam`).
            fn into_repr(self) -> u64 {
                #rt::register(self)
            }
            unsafe fn free_repr(_: &mut u64) {}
        }

        // SAFETY: a `&T` parameter crosses as the object's handle, checked
        // by the registry, and is borrowed from it for the call.
        unsafe impl #rt::FfiBorrow for #owner {
            type Abi = u64;
            const DESC: #rt::TypeDesc = #rt::TypeDesc::Object(#desc_fn);
            type Held = usize;
            unsafe fn hold(
                handle: u64,
                param: &'static str,
                objects: &mut #rt::ObjectArgs,
            ) -> ::core::result::Result<usize, #rt::Fault> {
                #rt::hold_object::<#owner>(handle, param, objects)
            }
            fn borrow<'a>(
                held: &'a usize,
                locked: &'a #rt::Locked<'_>,
            ) -> ::core::result::Result<&'a Self, #rt::Fault> {
                locked.get::<#owner>(*held)
            }
        }

        // SAFETY: a handle, checked by the registry; by value the object
        // is moved out of it, only once the call reserved it (`reserve`)
        // with every other argument checked.
        unsafe impl #rt::FfiLift for #owner {
            const OBJECTS: bool = true;
            #[inline]
            fn moves() -> bool {
                true
            }
            unsafe fn from_repr(handle: &u64) -> ::core::result::Result<Self, ::std::string::String> {
                #rt::take_object::<#owner>(*handle)
            }
            unsafe fn reserve(
                handle: &u64,
                moves: &mut #rt::Moves,
            ) -> ::core::result::Result<(), ::std::string::String> {
                #rt::reserve_object::<#owner>(*handle, moves)
            }
        }

        // SAFETY: a handle, checked by the registry (as `FfiLift` above).
        unsafe impl #rt::FfiParam for #owner {
            type Abi = u64;
            const DESC: #rt::TypeDesc = #rt::TypeDesc::Object(#desc_fn);
            type Lifted<'s> = Self;
            #[inline]
            fn moves() -> bool {
                true
            }
            unsafe fn lift(
                handle: u64,
                param: &'static str,
                _: &#rt::CallScope,
            ) -> ::core::result::Result<Self, #rt::Fault> {
                #rt::take_object::<#owner>(handle).map_err(|why| #rt::Fault::invalid(param, why))
            }
            unsafe fn reserve(
                handle: u64,
                param: &'static str,
                moves: &mut #rt::Moves,
            ) -> ::core::result::Result<(), #rt::Fault> {
                #rt::reserve_object::<#owner>(handle, moves)
                    .map_err(|why| #rt::Fault::invalid(param, why))
            }
        }

        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #desc_fn() -> &'static #rt::ObjectDesc {
            static DESC: #rt::ObjectDesc = #rt::ObjectDesc {
                name: #type_name,
                module: ::core::module_path!(),
                doc: #doc,
                free: #free_name,
                release: #rt::python::release_quietly::<#owner>,
            };
            &DESC
        }

        // SAFETY: an object's C form is its handle, which `build_object`
        // hands to the Python object it makes (freed by its finalizer) or
        // frees when that cannot be made.
        unsafe impl #rt::python::PyReturn for #owner {
            type Abi = u64;
            unsafe fn to_py(
                __ffi_py: &#rt::python::Python,
                __ffi_handle: u64,
            ) -> *mut #rt::python::PyObject {
                // SAFETY: a handle just registered for this type (the
                // caller's contract), given away here.
                unsafe {
                    #rt::python::build_object(
                        __ffi_py,
                        #layout_fn(),
                        __ffi_handle,
                        #rt::python::release_quietly::<#owner>,
                    )
                }
            }

            fn ready() -> bool {
                #layout_fn().is_some()
            }

            fn nested_ready() -> bool {
                false
            }
        }

        /// The registered class of the object type (see the runtime's
        /// `python::objects`), if the helper registered it.
        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #layout_fn() -> ::core::option::Option<&'static #rt::python::ObjectLayout> {
            static LAYOUT: #rt::python::ObjectCache = #rt::python::ObjectCache::new();
            LAYOUT.get(&<#owner as #rt::FfiData>::DESC, 0)
        }

        /// Drops the object behind `handle`; 0 and freed handles are no-ops.
        #[doc(hidden)]
        // SAFETY: `<prefix>_free` was checked not to be a C library, CPython or
        // ffi-export symbol (validate::c_symbol).
        #[unsafe(export_name = #free_name)]
        #[allow(non_snake_case)]
        pub extern "C" fn #free_ident(handle: u64) {
            #rt::call(move || #rt::release::<#owner>(handle))
        }
    }
}
