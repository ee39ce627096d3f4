//! Protocols: Rust traits a type opts in to become Python's dunders. A
//! `Money` record prints with its `Display`, compares, hashes and sorts by
//! Rust's `Ord` and adds with its `Add`; a `Ledger` object (held by
//! handle) prints, compares, hashes, copies, indexes and has a `len()`.

use ffi_export::export;
use std::fmt;

/// An amount of one currency, in cents.
#[export(Display, Debug, Eq, Hash, Ord, Default, Add, Neg)]
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Money {
    pub currency: String,
    pub cents: i64,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.cents < 0 { "-" } else { "" };
        let cents = self.cents.unsigned_abs();
        write!(
            f,
            "{sign}{}.{:02} {}",
            cents / 100,
            cents % 100,
            self.currency
        )
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    /// Adds two amounts; a sum across currencies is a bug, so it panics
    /// (Python gets `RustPanic`).
    fn add(self, other: Money) -> Money {
        if self.currency != other.currency {
            panic!("cannot add {} to {}", other.currency, self.currency);
        }
        Money {
            currency: self.currency,
            cents: self.cents + other.cents,
        }
    }
}

impl std::ops::Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money {
            currency: self.currency,
            cents: -self.cents,
        }
    }
}

/// `amounts` sorted by Rust (the order Python's `sorted()` gives too).
#[export]
pub fn sort_money(mut amounts: Vec<Money>) -> Vec<Money> {
    amounts.sort();
    amounts
}

/// Entries of money, in the order they were booked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ledger {
    entries: Vec<Money>,
}

impl fmt::Display for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self.entries.iter().map(Money::to_string).collect();
        write!(f, "[{}]", entries.join(", "))
    }
}

impl std::ops::Index<usize> for Ledger {
    type Output = Money;
    fn index(&self, index: usize) -> &Money {
        &self.entries[index]
    }
}

/// Entries of money held by handle: `str()`, `repr()`, `==`, `hash()`,
/// `copy.copy()`, `Ledger()`, `ledger[i]`, `len()`, `bool()`.
#[export(Display, Debug, Eq, Hash, Clone, Default, Index<usize>)]
impl Ledger {
    /// Books an entry.
    pub fn book(&mut self, amount: Money) {
        self.entries.push(amount);
    }

    /// How many entries: Python's `len()`.
    #[export(len)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether it has an entry: Python's `bool()`.
    #[export(bool)]
    pub fn has_entries(&self) -> bool {
        !self.entries.is_empty()
    }
}
