//! model → tokens: the item unchanged, then what makes it cross (shims,
//! paired frees, trait impls, self-description entries), one module per
//! kind of item. Every expansion names the runtime by absolute path and
//! calls into it; the conversions themselves live there.

mod enums;
mod fallback;
mod function;
mod iter;
mod native_record;
mod object;
mod protocols;
mod record;
mod traits;

use crate::model::Item;
use proc_macro2::TokenStream;
use quote::quote;

pub use fallback::fallback;

/// The expansion of an item `validate` accepted.
pub fn item(item: &Item) -> TokenStream {
    match item {
        Item::Function(function) => {
            let item = &function.item;
            let shim = function::callable(&function.export);
            quote!(#item #shim)
        }
        Item::Record(record) => {
            let crossing = record::record(record);
            // A plain-data record is a `ctypes.Structure` in Python: the
            // ctypes path.
            let native = match record.is_plain_data() {
                true => TokenStream::new(),
                false => native_record::native_record(record),
            };
            quote!(#crossing #native)
        }
        Item::Enum(model) if model.has_data() => enums::with_data(model),
        Item::Enum(model) => enums::fieldless(model),
        Item::Object(model) => {
            let object = match (&model.type_name, &model.c_prefix) {
                (Some(type_name), Some(c_prefix)) => object::object(model, type_name, c_prefix),
                // Rejected by `validate`.
                _ => TokenStream::new(),
            };
            let shims = model.methods.iter().map(function::callable);
            let protocols = protocols::protocols(model.owner(), &model.protocols);
            quote!(#object #(#shims)* #protocols)
        }
        Item::Trait(model) => traits::exported_trait(model),
        // Rejected by `validate`.
        Item::Other(other) => quote!(#other),
    }
}
