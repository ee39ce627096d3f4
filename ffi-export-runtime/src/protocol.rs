//! The bodies of protocol shims (`#[export(Display, Eq, Hash, Ord, Add,
//! ..)]`): one generic function per Rust trait, so the macro emits a call
//! spanned at the trait's name in the attribute and a type without the
//! trait is one error there ("the trait bound `T: Hash` is not
//! satisfied"), not a cascade inside generated code.
//!
//! Each shim is an ordinary export (`<Type>_eq`, `<Type>_hash`, ..): its
//! operands are converted, borrowed (objects, through their locks) and
//! guarded against panics like any function's.

use std::cmp::Ordering;
use std::fmt::{Debug, Display};
use std::hash::{DefaultHasher, Hash, Hasher};

/// `Display`: Python's `str()`.
pub fn display<T: Display + ?Sized>(value: &T) -> String {
    value.to_string()
}

/// `Debug`: Python's `repr()`.
pub fn debug<T: Debug + ?Sized>(value: &T) -> String {
    format!("{value:?}")
}

/// `PartialEq`: Python's `==` (and `!=`, its negation).
pub fn eq<T: PartialEq + ?Sized>(a: &T, b: &T) -> bool {
    a == b
}

/// `Eq`: nothing to run; requires the trait (so `Hash` may be listed).
pub fn total_eq<T: Eq + ?Sized>() {}

/// `Hash`: Python's `hash()`, through `DefaultHasher::new()` (SipHash with
/// fixed keys: one value hashes alike in every call and thread of the
/// process, as a dict requires).
pub fn hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// The ordering as Python's comparisons read it: -1, 0, 1.
fn sign(ordering: Ordering) -> i8 {
    ordering as i8
}

/// `PartialOrd`: -1, 0 or 1, `None` when unordered (every comparison is
/// then false, as with a float NaN).
pub fn partial_cmp<T: PartialOrd + ?Sized>(a: &T, b: &T) -> Option<i8> {
    a.partial_cmp(b).map(sign)
}

/// `Ord`: -1, 0 or 1 (always `Some`).
pub fn cmp<T: Ord + ?Sized>(a: &T, b: &T) -> Option<i8> {
    Some(sign(a.cmp(b)))
}

/// `Clone`: `copy.copy`, a new, independent value.
pub fn clone<T: Clone>(value: &T) -> T {
    value.clone()
}

/// `Default`: the constructor without arguments.
pub fn default<T: Default>() -> T {
    T::default()
}

/// `Add`: `+`.
pub fn add<A: std::ops::Add<B>, B>(a: A, b: B) -> A::Output {
    a + b
}

/// `Sub`: `-`.
pub fn sub<A: std::ops::Sub<B>, B>(a: A, b: B) -> A::Output {
    a - b
}

/// `Mul`: `*`.
pub fn mul<A: std::ops::Mul<B>, B>(a: A, b: B) -> A::Output {
    a * b
}

/// `Div`: `/`.
pub fn div<A: std::ops::Div<B>, B>(a: A, b: B) -> A::Output {
    a / b
}

/// `Neg`: unary `-`.
pub fn neg<A: std::ops::Neg>(a: A) -> A::Output {
    -a
}

/// `Index<I>`: `obj[i]`, the element copied out (`Clone`).
pub fn index<T: std::ops::Index<I> + ?Sized, I>(value: &T, index: I) -> T::Output
where
    T::Output: Clone,
{
    value[index].clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orderings_and_hashes() {
        assert_eq!(cmp(&1, &2), Some(-1));
        assert_eq!(cmp(&2, &2), Some(0));
        assert_eq!(partial_cmp(&f64::NAN, &1.0), None);
        assert_eq!(partial_cmp(&3.0, &1.0), Some(1));
        assert_eq!(hash("a"), hash(&*String::from("a")));
        assert_eq!(index(&vec![1, 2, 3][..], 1), 2);
        assert_eq!(add(1, 2) + sub(5, 1) + mul(2, 3) + div(8, 2) + neg(1), 16);
        assert_eq!(display(&1.5), "1.5");
        assert_eq!(debug("x"), "\"x\"");
    }
}
