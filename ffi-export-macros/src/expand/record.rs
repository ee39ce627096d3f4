//! `#[export] struct`: a struct with named fields becomes a record (a
//! `#[repr(C)]` mirror of C forms, copied in and out, deep-freed); a
//! `#[repr(C)]` struct of numbers crosses as itself. Each gets `FfiData`,
//! `FfiLift`, `FfiParam` and its self-description.
//!
//! A field's type is only ever used through `FfiValue`, by code spanned at
//! the field's type ([`FieldCode`]): an unsupported field type is one
//! error, at the field, however many places use it.

use crate::model::{Field, Record};
use crate::tokens::{default_value, runtime, AtType};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};

/// The last field of every generated `#[repr(C)]` mirror: zero-sized (the
/// layout is the fields' alone), it keeps rustc from checking that the
/// mirror is `Sized` through the last field's C form, which for an
/// unsupported type would be one more error, away from the field.
pub const END_FIELD: &str = "__ffi_export_end";

/// `::core::mem::ManuallyDrop`. A record's mirror holds each field's C form
/// in one (C forms have no drop glue, so nothing changes), so that rustc
/// does not look into the fields to drop a mirror returned by value: that
/// would report an unsupported field type again at every function
/// returning the record.
const MANUALLY_DROP: &str = "ManuallyDrop";

/// One field's part of a mirror and its conversions, each spanned at the
/// field's type.
pub struct FieldCode<'f> {
    field: &'f Field,
    at: AtType,
}

impl<'f> FieldCode<'f> {
    /// The code of `field`.
    pub fn new(field: &'f Field) -> FieldCode<'f> {
        FieldCode {
            at: AtType::new(&field.ty, "FfiValue"),
            field,
        }
    }

    /// `pub name: <T as FfiValue>::Repr`, a field of a variant's mirror.
    pub fn repr_field(&self) -> TokenStream {
        let ident = &self.field.ident;
        let repr = self.at.item("Repr");
        quote!(pub #ident: #repr)
    }

    /// `pub name: ManuallyDrop<<T as FfiValue>::Repr>`, a field of a
    /// record's mirror.
    pub fn kept_repr_field(&self) -> TokenStream {
        let ident = &self.field.ident;
        let repr = self.at.item("Repr");
        let kept = self.manually_drop();
        let kept = quote_spanned!(self.at.last=> #kept<#repr>);
        quote!(pub #ident: #kept)
    }

    /// `::core::mem::ManuallyDrop`, starting at the type's first token.
    fn manually_drop(&self) -> TokenStream {
        let root = quote_spanned!(self.at.first=> ::);
        let name = Ident::new(MANUALLY_DROP, self.at.last);
        quote_spanned!(self.at.last=> #root core::mem::#name)
    }

    /// The field's description.
    pub fn desc(&self) -> TokenStream {
        let name = &self.field.name;
        let desc = self.at.konst("DESC");
        let rt = runtime();
        let default = default_value(&self.field.ffi);
        quote!(#rt::FieldDesc { name: #name, ty: #desc, default: #default })
    }

    /// Whether the field's C form owns memory.
    pub fn owned(&self) -> TokenStream {
        self.at.konst("OWNED")
    }

    /// `name: ManuallyDrop::new(<empty C form>)`, in a record mirror's
    /// struct literal.
    pub fn error_init(&self) -> TokenStream {
        let init = self.at.field_at_first(&self.field.ident);
        let value = self.at.call(
            &self.at.assoc_item("AbiValue", "error_value"),
            TokenStream::new(),
        );
        let new = self.manually_drop();
        let value = self
            .at
            .call(&quote_spanned!(self.at.last=> #new::new), value);
        quote!(#init: #value)
    }

    /// `name: into_repr(value)`, in a variant mirror's struct literal (in
    /// a record's, `kept`: in a `ManuallyDrop`).
    pub fn converted_init(&self, value: TokenStream, kept: bool) -> TokenStream {
        let init = self.at.field_at_first(&self.field.ident);
        let mut value = self.at.call(&self.at.item("into_repr"), value);
        if kept {
            let new = self.manually_drop();
            value = self
                .at
                .call(&quote_spanned!(self.at.last=> #new::new), value);
        }
        quote!(#init: #value)
    }

    /// `self.name` of the user's struct, for `converted_init`.
    pub fn own(&self) -> TokenStream {
        self.at.place(TokenStream::new(), "self", &self.field.ident)
    }

    /// `from_repr(&mirror.name)`: the field lifted from the mirror bound
    /// to `mirror` (a `Result<T, String>`).
    pub fn lift_from(&self, mirror: &str) -> TokenStream {
        let place = self.at.place(quote!(&), mirror, &self.field.ident);
        self.at.call(&self.at.item("from_repr"), place)
    }

    /// `reserve(&mirror.name, moves)`: the field checked and its objects
    /// reserved (a `Result<(), String>`).
    pub fn reserve_from(&self, mirror: &str) -> TokenStream {
        let place = self.at.place(quote!(&), mirror, &self.field.ident);
        self.at
            .call(&self.at.item("reserve"), quote!(#place, moves))
    }

    /// Whether the field holds objects by value (`FfiLift::OBJECTS`: not
    /// counting those in nested records, so recursive types are no cycle).
    pub fn objects(&self) -> TokenStream {
        self.at.konst("OBJECTS")
    }

    /// `ManuallyDrop::take(&mut mirror.name)`: the field's C form moved
    /// out of a record's mirror bound to `mirror` (spanning the type).
    pub fn take_from(&self, mirror: &str) -> TokenStream {
        let place = self.at.place(quote!(&mut), mirror, &self.field.ident);
        let kept = self.manually_drop();
        let take = Ident::new("take", self.at.last);
        self.at
            .call(&quote_spanned!(self.at.last=> #kept::#take), place)
    }

    /// `free_repr(&mut mirror.name)`.
    pub fn free_in(&self, mirror: &str) -> TokenStream {
        let place = self.at.place(quote!(&mut), mirror, &self.field.ident);
        self.at.call(&self.at.item("free_repr"), place)
    }
}

/// `#[export] struct`.
pub fn record(record: &Record) -> TokenStream {
    let item = &record.item;
    let ident = &item.ident;
    let desc_fn = format_ident!("__ffi_export_record_{}", ident);
    let (body, field_descs) = if record.is_plain_data() {
        plain_data(record, &desc_fn)
    } else {
        mirrored(record, &desc_fn)
    };
    let rt = runtime();
    let name = ident.to_string();
    let doc = &record.doc;
    let pod = record.is_plain_data();
    let param = by_pointer_param(ident);
    let objects: Vec<_> = match record.is_plain_data() {
        true => Vec::new(),
        false => record
            .fields
            .iter()
            .map(|field| FieldCode::new(field).objects())
            .collect(),
    };
    let borrow = copied_borrow(ident, &objects);
    // Plain data is an `FfiElement`: slices of it are borrowed in place.
    let slice_elem = if pod {
        TokenStream::new()
    } else {
        copied_slice_elem(ident)
    };
    let entry = crate::tokens::type_entry(ident, &name, true);
    let protocols = super::protocols::protocols(&syn::parse_quote!(#ident), &record.protocols);
    quote! {
        #item
        #protocols
        #body
        #param
        #borrow
        #slice_elem
        #entry

        #[doc(hidden)]
        #[allow(non_snake_case)]
        fn #desc_fn() -> &'static #rt::RecordDesc {
            static DESC: #rt::RecordDesc = #rt::RecordDesc {
                name: #name,
                module: ::core::module_path!(),
                doc: #doc,
                fields: &[#(#field_descs),*],
                pod: #pod,
                size: ::core::mem::size_of::<#ident>(),
                align: ::core::mem::align_of::<#ident>(),
            };
            &DESC
        }
    }
}

/// A record: a `#[repr(C)]` mirror of its fields' C forms, converted field
/// by field. Its impls and its fields' descriptions.
fn mirrored(record: &Record, desc_fn: &Ident) -> (TokenStream, Vec<TokenStream>) {
    let rt = runtime();
    let ident = &record.item.ident;
    let repr = format_ident!("__FfiRepr_{}", ident);
    let end = Ident::new(END_FIELD, proc_macro2::Span::call_site());
    let fields: Vec<FieldCode> = record.fields.iter().map(FieldCode::new).collect();
    let repr_fields = fields.iter().map(FieldCode::kept_repr_field);
    let error_inits = fields.iter().map(FieldCode::error_init);
    let into_inits = fields.iter().map(|f| f.converted_init(f.own(), true));
    let owned = fields.iter().map(FieldCode::owned);
    // A field that moves nothing is checked by lifting it (`reserve`'s
    // default).
    let reserves = record.fields.iter().zip(&fields).map(|(field, code)| {
        let (reserve, path) = (code.reserve_from("repr"), &field.name);
        quote! {
            // SAFETY: as in `from_repr`.
            unsafe { #reserve }
                .map_err(|why| ::std::format!("field `{}`: {}", #path, why))?;
        }
    });
    let frees = fields.iter().map(|f| f.free_in("repr"));
    let lifts = record.fields.iter().zip(&fields).map(|(field, code)| {
        let (name, lift) = (&field.ident, code.lift_from("repr"));
        let path = &field.name;
        quote! {
            // SAFETY: pointers inside the field's C form are NULL or
            // readable (`from_repr`'s caller's contract, forwarded).
            #name: unsafe { #lift }
                .map_err(|why| ::std::format!("field `{}`: {}", #path, why))?
        }
    });
    let body = quote! {
        #[doc(hidden)]
        #[repr(C)]
        #[allow(non_camel_case_types)]
        pub struct #repr {
            #(#repr_fields,)*
            pub #end: ::core::marker::PhantomData<()>,
        }
        // SAFETY: every field's own empty value, which owns nothing.
        unsafe impl #rt::AbiValue for #repr {
            fn error_value() -> Self {
                #repr { #(#error_inits,)* #end: ::core::marker::PhantomData }
            }
        }
        // SAFETY: the mirror is #[repr(C)] of the fields' C forms; each
        // field converts, checks and frees through its own FfiData.
        unsafe impl #rt::FfiData for #ident {
            type Repr = #repr;
            const DESC: #rt::TypeDesc = #rt::TypeDesc::Record(#desc_fn);
            const OWNED: bool = false #(|| #owned)*;
            fn into_repr(self) -> #repr {
                #repr { #(#into_inits,)* #end: ::core::marker::PhantomData }
            }
            unsafe fn free_repr(repr: &mut #repr) {
                // SAFETY: `repr` was made by `into_repr` (the caller's
                // contract), so each field by its field's `into_repr`.
                #(unsafe { #frees };)*
            }
        }
        // SAFETY: each field is lifted through its own checks.
        unsafe impl #rt::FfiLift for #ident {
            fn moves() -> bool {
                static MOVES: #rt::MovesOnce = #rt::MovesOnce::new();
                MOVES.get(&<Self as #rt::FfiData>::DESC)
            }
            unsafe fn from_repr(repr: &#repr) -> ::core::result::Result<Self, ::std::string::String> {
                // SAFETY: pointers inside `repr` are NULL or readable (the
                // caller's contract), so are those inside each field.
                ::core::result::Result::Ok(#ident { #(#lifts,)* })
            }
            unsafe fn reserve(
                repr: &#repr,
                moves: &mut #rt::Moves,
            ) -> ::core::result::Result<(), ::std::string::String> {
                // Each field in order, as `from_repr` lifts them.
                #(#reserves)*
                ::core::result::Result::Ok(())
            }
        }
    };
    (body, fields.iter().map(FieldCode::desc).collect())
}

/// A `#[repr(C)]` struct of numbers: its own C form. Its impls and its
/// fields' descriptions. Each field's type is named only through
/// `FfiPlain` (numbers and other such structs), spanned at the field.
fn plain_data(record: &Record, desc_fn: &Ident) -> (TokenStream, Vec<TokenStream>) {
    let rt = runtime();
    let ident = &record.item.ident;
    let fields: Vec<(&Field, AtType)> = record
        .fields
        .iter()
        .map(|field| (field, AtType::new(&field.ty, "FfiPlain")))
        .collect();
    let zeroed = fields.iter().map(|(field, at)| {
        let init = at.field_at_first(&field.ident);
        let value = at.call(&at.item("zeroed"), TokenStream::new());
        quote!(#init: #value)
    });
    let descs = fields
        .iter()
        .map(|(field, at)| {
            let (name, desc) = (&field.name, at.item("DESC"));
            let default = default_value(&field.ffi);
            quote!(#rt::FieldDesc { name: #name, ty: #desc, default: #default })
        })
        .collect();
    let body = quote! {
        const _: fn() = || {
            // A #[repr(C)] record is copied bit for bit: derive Clone and Copy.
            fn copy<T: ::core::marker::Copy>() {}
            copy::<#ident>();
        };
        // SAFETY: a #[repr(C)] struct (checked: no other layout option) of
        // FfiPlain fields, so laid out as C lays out its description, and
        // every bit pattern is valid; `Self: Copy` is checked above.
        unsafe impl #rt::FfiPlain for #ident {
            const DESC: #rt::TypeDesc = #rt::TypeDesc::Record(#desc_fn);
            #[inline]
            fn zeroed() -> Self {
                #ident { #(#zeroed),* }
            }
        }
        // SAFETY: plain data (above) is its own C form; nothing to free.
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
        // SAFETY: all-zero plain numbers own nothing.
        unsafe impl #rt::AbiValue for #ident {
            fn error_value() -> Self {
                <#ident as #rt::FfiPlain>::zeroed()
            }
        }
    };
    (body, descs)
}

/// `FfiSliceElem` for a type copied in as the element of a `&[T]`
/// parameter (records, enums): the slice is a `Vec<T>` lifted for the call.
pub fn copied_slice_elem(ident: &syn::Ident) -> TokenStream {
    let rt = runtime();
    quote! {
        // SAFETY: `lift_copied` checks the pointer, the length and every
        // element through FfiLift::from_repr.
        unsafe impl #rt::FfiSliceElem for #ident {
            type Raw = <#ident as #rt::FfiData>::Repr;
            const DESC: #rt::TypeDesc = <#ident as #rt::FfiData>::DESC;
            unsafe fn lift_elems<'s>(
                _: &'s #rt::CallScope,
                ptr: *const Self::Raw,
                len: usize,
                param: &'static str,
            ) -> ::core::result::Result<#rt::SliceArg<'s, Self>, #rt::Fault> {
                // SAFETY: forwarded contract (NULL with length 0, or `len`
                // readable C forms for the call).
                unsafe { #rt::lift_copied::<Self>(ptr, len, param) }
            }
        }
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
            #[inline]
            fn moves() -> bool {
                <#ident as #rt::FfiLift>::moves()
            }
            unsafe fn lift(abi: Self::Abi, param: &'static str, _: &#rt::CallScope) -> ::core::result::Result<Self, #rt::Fault> {
                // SAFETY: the C contract makes the pointer NULL or valid for the call.
                unsafe { #rt::lift_by_pointer::<#ident>(abi, param) }
            }
            unsafe fn reserve(abi: Self::Abi, param: &'static str, moves: &mut #rt::Moves) -> ::core::result::Result<(), #rt::Fault> {
                // SAFETY: as in `lift`.
                unsafe { #rt::reserve_by_pointer::<#ident>(abi, param, moves) }
            }
        }
    }
}

/// `FfiBorrow` for a type copied in (records and enums, as `&T`
/// parameters): a copy of the caller's C form, NULL refused; a record with
/// object fields (`objects`: each field's `OBJECTS`) is refused at compile
/// time by the shim.
pub fn copied_borrow(ident: &syn::Ident, objects: &[TokenStream]) -> TokenStream {
    let rt = runtime();
    quote! {
        // SAFETY: NULL-checked pointer to the C form, copied through
        // FfiLift::from_repr's checks.
        unsafe impl #rt::FfiBorrow for #ident {
            type Abi = *const <#ident as #rt::FfiData>::Repr;
            const DESC: #rt::TypeDesc = <#ident as #rt::FfiData>::DESC;
            const MOVES: bool = false #(|| #objects)*;
            type Held = Self;
            #[inline]
            unsafe fn hold(
                abi: Self::Abi,
                param: &'static str,
                _: &mut #rt::ObjectArgs,
            ) -> ::core::result::Result<Self, #rt::Fault> {
                // SAFETY: the C contract makes the pointer NULL or valid for the call.
                unsafe { #rt::borrow_copied::<#ident>(abi, param) }
            }
            #[inline]
            fn borrow<'a>(
                held: &'a Self,
                _: &'a #rt::Locked<'_>,
            ) -> ::core::result::Result<&'a Self, #rt::Fault> {
                ::core::result::Result::Ok(held)
            }
        }
    }
}
