//! Rules for `#[ffi(..)]` attributes and default values: well-formed, of
//! the parameter's or field's type, and in the places Python allows (once
//! a parameter has a default, every later one needs one).

use super::text::last_segment_is;
use crate::errors::Errors;
use crate::model::{ExportFn, FfiAttrs, Field, ParamKind};

/// Every problem of the `#[ffi(..)]` attributes of a function's parameters.
pub fn params(export: &ExportFn, errors: &mut Errors) {
    let mut first_default: Option<&str> = None;
    for param in &export.params {
        attrs(&param.ffi, errors);
        // The allocator is a keyword-only argument with its own default.
        if matches!(param.kind, ParamKind::Allocator(_)) {
            continue;
        }
        match (&param.ffi.default, first_default) {
            (Some(_), None) => first_default = Some(&param.name),
            (None, Some(first)) => errors.push(syn::Error::new(
                param.span,
                format!(
                    "`{}` follows `{first}`, which has a default value, so it needs one too \
                     (`#[ffi(default = ..)]`), or move it before `{first}`: Python puts \
                     parameters with defaults last",
                    param.name
                ),
            )),
            _ => {}
        }
    }
}

/// Every problem of the `#[ffi(..)]` attributes of a record's or
/// variant's fields. An `Option` field defaults to `None` when every later
/// field has a default too; a field given a default must be followed by
/// fields with defaults.
pub fn fields(fields: &[Field], errors: &mut Errors) {
    let mut first_default: Option<&str> = None;
    for field in fields {
        attrs(&field.ffi, errors);
        match (&field.ffi.default, first_default) {
            (Some(_), None) => first_default = Some(&field.name),
            (None, Some(_)) if last_segment_is(&field.ty, "Option") => {}
            (None, Some(first)) => errors.error(
                &field.ident,
                format!(
                    "`{}` follows `{first}`, which has a default value, so it needs one too \
                     (`#[ffi(default = ..)]`), or move it before `{first}`: Python puts \
                     fields with defaults last",
                    field.name
                ),
            ),
            _ => {}
        }
    }
}

fn attrs(ffi: &FfiAttrs, errors: &mut Errors) {
    for problem in &ffi.problems {
        errors.error(&problem.tokens, &problem.message);
    }
    if let Some(Err(problem)) = ffi.default.as_ref().map(|default| &default.value) {
        errors.error(&problem.tokens, &problem.message);
    }
}
