//! syn → model. Builds the model of every kind of item `#[export]` takes,
//! classifying parameter and return types; it rejects nothing: what it
//! cannot classify is recorded in the model for `validate` to report.

mod data;
mod defaults;
mod function;
mod object;
mod protocols;
mod syntax;
mod traits;

use crate::model::Item;
use proc_macro2::TokenStream;

/// The model of the item `#[export(args)]` is on; `Err` only when the
/// tokens are not an item at all.
pub fn item(args: TokenStream, input: TokenStream) -> syn::Result<Item> {
    Ok(match syn::parse2::<syn::Item>(input)? {
        syn::Item::Fn(item) => Item::Function(function::function(args, item)),
        syn::Item::Struct(item) => Item::Record(data::record(args, item)),
        syn::Item::Enum(item) => Item::Enum(data::enumeration(args, item)),
        syn::Item::Impl(item) => Item::Object(object::object(args, item)),
        syn::Item::Trait(item) => Item::Trait(traits::exported_trait(args, item)),
        other => Item::Other(other),
    })
}
