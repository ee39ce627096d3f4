//! Rules for structs and enums: no arguments, no generics, named fields
//! that own their data, and a plain-data layout C reproduces.

use super::protocols::Owner;
use super::text::last_segment_is;
use crate::errors::Errors;
use crate::model::{Enum, Record};
use quote::ToTokens;
use syn::{GenericArgument, PathArguments, Type};

/// Every problem of an `#[export] struct`.
pub fn record(record: &Record, errors: &mut Errors) {
    super::protocols::type_args(&record.args, Owner::Value, "a struct", errors);
    no_generics(&record.item.generics, errors);
    if let Some(fields) = &record.unnamed {
        errors.error(
            fields,
            "records cross by field name: give the struct named fields (`struct S { x: f64 }`)",
        );
    }
    for field in &record.fields {
        field_type(&field.ty, errors);
    }
    super::defaults::fields(&record.fields, errors);
    if plain_data_repr(record, errors) {
        for field in &record.fields {
            let owned = ["bool", "String", "Vec", "Option"]
                .into_iter()
                .find(|name| last_segment_is(&field.ty, name));
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
}

/// Whether a struct's `#[repr(..)]` attributes make it plain data
/// (`#[repr(C)]`), recording an error at every other layout option next to
/// `C`: `packed`, `align(N)`, `transparent` or an integer would give the
/// struct a layout the Python helper and C headers do not reproduce
/// (elements of another size in `&[T]`, fields at other offsets).
fn plain_data_repr(record: &Record, errors: &mut Errors) -> bool {
    for error in &record.repr.malformed {
        errors.push(error.clone());
    }
    if record.is_plain_data() {
        for path in &record.repr.others {
            let name = path.to_token_stream().to_string();
            errors.error(
                path,
                format!(
                    "`#[repr(C)]` plain data crosses bit for bit with C's natural layout, so \
                     `{name}` cannot be combined with it: remove `{name}` (or remove `C` to make \
                     a record converted field by field)"
                ),
            );
        }
    }
    record.is_plain_data()
}

/// Every problem of an `#[export] enum`.
pub fn enumeration(item: &Enum, errors: &mut Errors) {
    let owner = match item.has_data() {
        true => Owner::Value,
        false => Owner::FieldlessEnum,
    };
    super::protocols::type_args(&item.args, owner, "an enum", errors);
    no_generics(&item.item.generics, errors);
    for field in item.variants.iter().flat_map(|variant| &variant.fields) {
        field_type(&field.ty, errors);
    }
    for variant in &item.variants {
        super::defaults::fields(&variant.fields, errors);
    }
    if item.variants.is_empty() {
        errors.error(
            &item.item.ident,
            "an enum without variants has no values to pass",
        );
    }
}

fn no_generics(generics: &syn::Generics, errors: &mut Errors) {
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        errors.error(
            generics,
            "generic types cannot be exported: C needs one concrete layout; export a non-generic type",
        );
    }
}

/// Records an error at every reference in the type of a record or variant
/// field: records are copied across and must own their data.
fn field_type(ty: &Type, errors: &mut Errors) {
    match ty {
        Type::Reference(reference) => {
            let owned = match &*reference.elem {
                Type::Path(p) if p.path.is_ident("str") => "`String`",
                Type::Slice(_) => "`Vec<T>`",
                _ => "an owned value",
            };
            errors.error(
                ty,
                format!(
                    "a field of an #[export] record cannot borrow: records are copied across \
                     and the caller's memory is only lent for one call; use {owned} instead"
                ),
            );
        }
        Type::Paren(paren) => field_type(&paren.elem, errors),
        Type::Group(group) => field_type(&group.elem, errors),
        Type::Path(path) => {
            for segment in &path.path.segments {
                if let PathArguments::AngleBracketed(args) = &segment.arguments {
                    for arg in &args.args {
                        if let GenericArgument::Type(inner) = arg {
                            field_type(inner, errors);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}
