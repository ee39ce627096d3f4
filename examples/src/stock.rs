//! Real-world data shapes: owned lists and maps in and out, tuples, an error
//! enum whose variants are exception classes, and default argument values.
//! (No seed program: what an ordinary Rust API looks like.)

use ffi_export::export;
use std::collections::{BTreeMap, HashMap};

/// Why a stock operation failed: one exception class per variant, each a
/// subclass of `lib.errors.StockError`, with the variant's fields as
/// attributes.
#[export]
#[derive(Debug, thiserror::Error)]
pub enum StockError {
    /// The item is not stocked.
    #[error("unknown item {name:?}")]
    UnknownItem {
        /// The item asked for.
        name: String,
    },
    /// Fewer left than wanted.
    #[error("only {available} of {name:?} left, {wanted} wanted")]
    OutOfStock {
        /// The item.
        name: String,
        /// How many are left.
        available: u32,
        /// How many were wanted.
        wanted: u32,
    },
    /// A price that is zero, negative or not a number.
    #[error("the price of {0:?} must be positive")]
    BadPrice(String),
}

/// One line of an order.
#[export]
#[derive(Debug, Clone)]
pub struct Line {
    /// The item.
    pub item: String,
    /// How many, one unless given.
    #[ffi(default = 1)]
    pub quantity: u32,
    /// A note for the packer; `None` unless given.
    pub note: Option<String>,
}

/// The stock after `deliveries` of `(item, count)` arrived.
#[export]
pub fn restock(
    stock: HashMap<String, u32>,
    deliveries: Vec<(String, u32)>,
) -> BTreeMap<String, u32> {
    let mut stock: BTreeMap<String, u32> = stock.into_iter().collect();
    for (item, count) in deliveries {
        let held = stock.entry(item).or_default();
        *held = held.saturating_add(count);
    }
    stock
}

/// The stock after `order` is taken from it; the whole order or nothing.
#[export]
pub fn take(
    stock: BTreeMap<String, u32>,
    order: Vec<Line>,
) -> Result<BTreeMap<String, u32>, StockError> {
    let mut stock = stock;
    for line in order {
        let Some(available) = stock.get_mut(&line.item) else {
            return Err(StockError::UnknownItem { name: line.item });
        };
        if *available < line.quantity {
            return Err(StockError::OutOfStock {
                available: *available,
                wanted: line.quantity,
                name: line.item,
            });
        }
        *available -= line.quantity;
    }
    Ok(stock)
}

/// The price list, one line per item, with an optional discount.
#[export]
pub fn price_list(
    prices: BTreeMap<String, f64>,
    #[ffi(default = 0.0)] discount: f64,
    #[ffi(default = "EUR")] currency: &str,
) -> Result<Vec<String>, StockError> {
    prices
        .into_iter()
        .map(|(item, price)| {
            if price.is_nan() || price <= 0.0 {
                return Err(StockError::BadPrice(item));
            }
            Ok(format!(
                "{item}: {:.2} {currency}",
                price * (1.0 - discount)
            ))
        })
        .collect()
}
