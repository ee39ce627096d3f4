//! Structs and enums: their fields and `#[repr(..)]`.

use super::defaults::{read_ffi_attrs, strip_ffi_attrs};
use super::protocols::{protocols, Operands};
use super::syntax::{attribute_args, doc_lines};
use crate::model::{Args, Enum, Field, ProtocolFn, Record, Repr, Shape, Variant, INTEGERS};
use proc_macro2::TokenStream;
use quote::format_ident;
use syn::{Fields, ItemEnum, ItemStruct};

/// The model of `#[export] struct`.
pub fn record(args: TokenStream, mut item: ItemStruct) -> Record {
    let (fields, unnamed) = match &mut item.fields {
        Fields::Named(_) => (fields(&mut item.fields), None),
        other => (Vec::new(), Some(other.clone())),
    };
    let (args, protocols) = type_protocols(args, &item.ident, Operands::Values);
    Record {
        protocols,
        doc: doc_lines(&item.attrs),
        repr: repr(&item.attrs),
        fields,
        unnamed,
        args,
        item,
    }
}

/// The model of `#[export] enum`.
pub fn enumeration(args: TokenStream, mut item: ItemEnum) -> Enum {
    let variants: Vec<Variant> = item
        .variants
        .iter_mut()
        .map(|variant| Variant {
            ident: variant.ident.clone(),
            shape: match variant.fields {
                Fields::Named(_) => Shape::Named,
                Fields::Unnamed(_) => Shape::Tuple,
                Fields::Unit => Shape::Unit,
            },
            fields: fields(&mut variant.fields),
        })
        .collect();
    let operands = match variants.iter().all(|v| v.shape == Shape::Unit) {
        true => Operands::Integer,
        false => Operands::Values,
    };
    let (args, protocols) = type_protocols(args, &item.ident, operands);
    Enum {
        protocols,
        doc: doc_lines(&item.attrs),
        repr: repr(&item.attrs),
        variants,
        args,
        item,
    }
}

/// The arguments of `#[export(..)]` on a struct or enum `ident` (its
/// protocols), and their shims (`<Type>_eq`, ..).
fn type_protocols(
    args: TokenStream,
    ident: &syn::Ident,
    operands: Operands,
) -> (Args, Vec<ProtocolFn>) {
    let args = attribute_args(args);
    let owner: syn::Type = syn::parse_quote!(#ident);
    let shims = protocols(&args.protocols, &owner, &ident.to_string(), operands);
    (args, shims)
}

/// Named fields by name, tuple fields as `_0`, `_1`, ...; their
/// `#[ffi(..)]` attributes are taken off the emitted item.
fn fields(fields: &mut Fields) -> Vec<Field> {
    fields
        .iter_mut()
        .enumerate()
        .map(|(index, field)| {
            let ident = field
                .ident
                .clone()
                .unwrap_or_else(|| format_ident!("_{}", index));
            let attrs = strip_ffi_attrs(&mut field.attrs);
            Field {
                name: ident.to_string().trim_start_matches("r#").to_owned(),
                ident,
                ffi: read_ffi_attrs(&attrs, &field.ty),
                ty: field.ty.clone(),
            }
        })
        .collect()
}

/// What the `#[repr(..)]` attributes say.
fn repr(attrs: &[syn::Attribute]) -> Repr {
    let mut repr = Repr::default();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("repr")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("C") {
                repr.c = true;
            } else {
                let int = meta
                    .path
                    .get_ident()
                    .filter(|ident| INTEGERS.iter().any(|int| *ident == int));
                if let (None, Some(int)) = (&repr.int, int) {
                    repr.int = Some(int.clone());
                }
                repr.others.push(meta.path.clone());
                // `align(N)`, `packed(N)`: skip the argument.
                if meta.input.peek(syn::token::Paren) {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    content.parse::<TokenStream>()?;
                }
            }
            Ok(())
        });
        if let Err(error) = parsed {
            repr.malformed.push(error);
        }
    }
    repr
}
