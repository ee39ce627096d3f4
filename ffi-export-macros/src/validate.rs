//! Every rule a C export imposes, checked on the model: each problem is
//! recorded with its span and none stops the others from being found, so
//! all are reported at once. This is the only stage that rejects anything.

mod data;
mod defaults;
mod function;
mod object;
mod protocols;
mod symbol;
mod text;
mod traits;

use crate::errors::Errors;
use crate::model::Item;

/// Every problem of `item`.
pub fn item(item: &Item) -> Errors {
    let mut errors = Errors::default();
    match item {
        Item::Function(function) => function::function(function, &mut errors),
        Item::Record(record) => data::record(record, &mut errors),
        Item::Enum(item) => data::enumeration(item, &mut errors),
        Item::Object(object) => object::object(object, &mut errors),
        Item::Trait(model) => traits::exported_trait(model, &mut errors),
        Item::Other(other) => errors.error(
            other,
            "#[export] applies to functions, structs with named fields, field-less enums, \
             `impl` blocks and traits",
        ),
    }
    errors
}
