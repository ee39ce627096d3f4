//! Maps, sets, tuples and 128-bit integers: values that cross by their C
//! form and compose like the others (record fields, `Vec` elements,
//! `Option` payloads, parameters and results).
//!
//! * `HashMap<K, V>` / `BTreeMap<K, V>`: an [`FfiBuffer`] of
//!   [`FfiTuple2<K_repr, V_repr>`](FfiTuple2) pairs (the C form of
//!   `Vec<(K, V)>`); a key given twice is refused.
//! * `HashSet<T>` / `BTreeSet<T>`: an [`FfiBuffer`] of `T`'s C form (the C
//!   form of `Vec<T>`); an element given twice is refused.
//! * `(A, B, ..)` up to six elements: `FfiTupleN { _0, _1, .. }` of the
//!   elements' C forms.
//! * `i128` / `u128`: [`FfiI128`] / [`FfiU128`], two `uint64_t` halves
//!   (C has no standard 128-bit integer).
//!
//! Parameters of these types (and owned `String`, `Vec<T>`) are copied in
//! from a pointer to their C form, like records: `const FfiBuffer *` for
//! strings, vectors, maps and sets, `const FfiTupleN *` for tuples (NULL is
//! refused).

use crate::abi::{
    FfiBuffer, FfiI128, FfiTuple1, FfiTuple2, FfiTuple3, FfiTuple4, FfiTuple5, FfiTuple6, FfiU128,
};
use crate::convert::{copied_elems, lift_copied, CallScope, FfiParam, FfiSliceElem, SliceArg};
use crate::data::{FfiData, FfiLift, Moves};
use crate::describe::TypeDesc;
use crate::status::Fault;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

/// A parameter copied in from a pointer to its C form (an [`FfiBuffer`]
/// for `String`, `Vec<T>`, maps, sets), through [`FfiLift`]'s checks.
macro_rules! by_pointer_param {
    ($(impl[$($generics:tt)*] for $ty:ty;)*) => {$(
        // SAFETY: a NULL-checked pointer to the C form, lifted through
        // FfiLift's checks.
        unsafe impl<$($generics)*> FfiParam for $ty {
            type Abi = *const FfiBuffer;
            const DESC: TypeDesc = <$ty as FfiData>::DESC;
            type Lifted<'s> = $ty;
            #[inline]
            fn moves() -> bool {
                <$ty as FfiLift>::moves()
            }
            unsafe fn lift(
                abi: *const FfiBuffer,
                param: &'static str,
                _: &CallScope,
            ) -> Result<$ty, Fault> {
                // SAFETY: the C contract makes the pointer (and the pointers
                // in the buffer) NULL or readable for the call.
                unsafe { crate::data::lift_by_pointer::<$ty>(abi, param) }
            }
            unsafe fn reserve(
                abi: *const FfiBuffer,
                param: &'static str,
                moves: &mut Moves,
            ) -> Result<(), Fault> {
                // SAFETY: as in `lift`.
                unsafe { crate::data::reserve_by_pointer::<$ty>(abi, param, moves) }
            }
        }
    )*};
}

by_pointer_param! {
    impl[] for String;
    impl[T: FfiLift] for Vec<T>;
    impl[K: FfiLift + Eq + Hash, V: FfiLift, S: BuildHasher + Default] for HashMap<K, V, S>;
    impl[K: FfiLift + Ord, V: FfiLift] for BTreeMap<K, V>;
    impl[T: FfiLift + Eq + Hash, S: BuildHasher + Default] for HashSet<T, S>;
    impl[T: FfiLift + Ord] for BTreeSet<T>;
}

copied_elems! {
    impl[K: FfiLift + Eq + Hash, V: FfiLift, S: BuildHasher + Default] for HashMap<K, V, S>;
    impl[K: FfiLift + Ord, V: FfiLift] for BTreeMap<K, V>;
    impl[T: FfiLift + Eq + Hash, S: BuildHasher + Default] for HashSet<T, S>;
    impl[T: FfiLift + Ord] for BTreeSet<T>;
    impl[] for i128;
    impl[] for u128;
}

/// The maps and sets: their C form is the one of a `Vec` of their items.
macro_rules! collection {
    ($(impl[$($generics:tt)*] $ty:ty => Vec<$item:ty>, $desc:expr, insert $insert:expr, what $what:literal;)*) => {$(
        // SAFETY: the C form of `Vec<item>` (an FfiBuffer, zeroed is NULL),
        // made and freed by Vec's FfiData.
        unsafe impl<$($generics)*> FfiData for $ty {
            type Repr = FfiBuffer;
            const DESC: TypeDesc = $desc;
            const OWNED: bool = true;
            fn into_repr(self) -> FfiBuffer {
                <Vec<$item> as FfiData>::into_repr(self.into_iter().collect())
            }
            unsafe fn free_repr(repr: &mut FfiBuffer) {
                // SAFETY: made by `into_repr`, i.e. by Vec<item>'s.
                unsafe { <Vec<$item> as FfiData>::free_repr(repr) }
            }
        }
    )*};
}

collection! {
    impl[K: FfiData + Eq + Hash, V: FfiData, S: BuildHasher + Default] HashMap<K, V, S> => Vec<(K, V)>,
        TypeDesc::Map { key: &K::DESC, value: &V::DESC, sorted: false }, insert HashMap::insert, what "key";
    impl[K: FfiData + Ord, V: FfiData] BTreeMap<K, V> => Vec<(K, V)>,
        TypeDesc::Map { key: &K::DESC, value: &V::DESC, sorted: true }, insert BTreeMap::insert, what "key";
    impl[T: FfiData + Eq + Hash, S: BuildHasher + Default] HashSet<T, S> => Vec<T>,
        TypeDesc::Set { elem: &T::DESC, sorted: false }, insert HashSet::insert, what "element";
    impl[T: FfiData + Ord] BTreeSet<T> => Vec<T>,
        TypeDesc::Set { elem: &T::DESC, sorted: true }, insert BTreeSet::insert, what "element";
}

/// Refuses a duplicate in lifted items, naming its index.
fn duplicate(what: &str, index: usize) -> String {
    format!("item {index}: the same {what} is given twice")
}

// SAFETY: lifted as a Vec of pairs (its checks), then collected; a key
// given twice is refused.
unsafe impl<K, V, S> FfiLift for HashMap<K, V, S>
where
    K: FfiLift + Eq + Hash,
    V: FfiLift,
    S: BuildHasher + Default,
{
    const OBJECTS: bool = K::OBJECTS || V::OBJECTS;
    #[inline]
    fn moves() -> bool {
        K::moves() || V::moves()
    }
    unsafe fn reserve(repr: &FfiBuffer, moves: &mut Moves) -> Result<(), String> {
        let mut keys = HashSet::<K, S>::with_hasher(S::default());
        // SAFETY: forwarded contract.
        unsafe { reserve_map::<K, V>(repr, moves, |key| keys.insert(key)) }
    }
    unsafe fn from_repr(repr: &FfiBuffer) -> Result<Self, String> {
        // SAFETY: forwarded contract.
        let pairs = unsafe { <Vec<(K, V)> as FfiLift>::from_repr(repr) }?;
        let mut map = HashMap::with_capacity_and_hasher(pairs.len(), S::default());
        for (index, (key, value)) in pairs.into_iter().enumerate() {
            if map.insert(key, value).is_some() {
                return Err(duplicate("key", index));
            }
        }
        Ok(map)
    }
}

// SAFETY: as for HashMap.
unsafe impl<K: FfiLift + Ord, V: FfiLift> FfiLift for BTreeMap<K, V> {
    const OBJECTS: bool = K::OBJECTS || V::OBJECTS;
    #[inline]
    fn moves() -> bool {
        K::moves() || V::moves()
    }
    unsafe fn reserve(repr: &FfiBuffer, moves: &mut Moves) -> Result<(), String> {
        let mut keys = BTreeSet::new();
        // SAFETY: forwarded contract.
        unsafe { reserve_map::<K, V>(repr, moves, |key| keys.insert(key)) }
    }
    unsafe fn from_repr(repr: &FfiBuffer) -> Result<Self, String> {
        // SAFETY: forwarded contract.
        let pairs = unsafe { <Vec<(K, V)> as FfiLift>::from_repr(repr) }?;
        let mut map = BTreeMap::new();
        for (index, (key, value)) in pairs.into_iter().enumerate() {
            if map.insert(key, value).is_some() {
                return Err(duplicate("key", index));
            }
        }
        Ok(map)
    }
}

/// [`FfiLift::reserve`] of a map whose values move objects: its pairs
/// reserved as a `Vec`, then its keys lifted (`insert` returns false for a
/// key seen before), so that a key given twice fails before anything is
/// moved.
///
/// # Safety
/// As [`FfiLift::from_repr`].
unsafe fn reserve_map<K: FfiLift, V: FfiLift>(
    repr: &FfiBuffer,
    moves: &mut Moves,
    mut insert: impl FnMut(K) -> bool,
) -> Result<(), String> {
    // SAFETY: forwarded contract.
    unsafe { <Vec<(K, V)> as FfiLift>::reserve(repr, moves) }?;
    // SAFETY: forwarded contract (checked by the reserve above).
    let pairs = unsafe { crate::data::buffer_items::<(K, V)>(repr) }?;
    for (index, pair) in pairs.iter().enumerate() {
        // SAFETY: a readable pair (forwarded contract).
        let key =
            unsafe { K::from_repr(&pair._0) }.map_err(|why| format!("item {index}: {why}"))?;
        if !insert(key) {
            return Err(duplicate("key", index));
        }
    }
    Ok(())
}

// SAFETY: lifted as a Vec (its checks), then collected; an element given
// twice is refused.
unsafe impl<T: FfiLift + Eq + Hash, S: BuildHasher + Default> FfiLift for HashSet<T, S> {
    unsafe fn from_repr(repr: &FfiBuffer) -> Result<Self, String> {
        // SAFETY: forwarded contract.
        let items = unsafe { <Vec<T> as FfiLift>::from_repr(repr) }?;
        let mut set = HashSet::with_capacity_and_hasher(items.len(), S::default());
        for (index, item) in items.into_iter().enumerate() {
            if !set.insert(item) {
                return Err(duplicate("element", index));
            }
        }
        Ok(set)
    }
}

// SAFETY: as for HashSet.
unsafe impl<T: FfiLift + Ord> FfiLift for BTreeSet<T> {
    unsafe fn from_repr(repr: &FfiBuffer) -> Result<Self, String> {
        // SAFETY: forwarded contract.
        let items = unsafe { <Vec<T> as FfiLift>::from_repr(repr) }?;
        let mut set = BTreeSet::new();
        for (index, item) in items.into_iter().enumerate() {
            if !set.insert(item) {
                return Err(duplicate("element", index));
            }
        }
        Ok(set)
    }
}

/// Tuples: `FfiTupleN` C forms, `FfiData`/`FfiLift`/`FfiParam` impls.
macro_rules! tuples {
    ($($name:ident { $($t:ident $field:ident $index:tt),+ })*) => {$(
        // SAFETY: a #[repr(C)] struct of the elements' C forms; all-zero is
        // every element's empty value; each element frees its own.
        unsafe impl<$($t: FfiData),+> FfiData for ($($t,)+) {
            type Repr = $name<$($t::Repr),+>;
            const DESC: TypeDesc = TypeDesc::Tuple(&[$($t::DESC),+]);
            const OWNED: bool = false $(|| $t::OWNED)+;
            fn into_repr(self) -> Self::Repr {
                $name { $($field: self.$index.into_repr()),+ }
            }
            unsafe fn free_repr(repr: &mut Self::Repr) {
                // SAFETY: each element was made by its `into_repr`.
                $(unsafe { $t::free_repr(&mut repr.$field) };)+
            }
        }

        // SAFETY: each element lifted through its own checks.
        unsafe impl<$($t: FfiLift),+> FfiLift for ($($t,)+) {
            const OBJECTS: bool = false $(|| $t::OBJECTS)+;
            #[inline]
            fn moves() -> bool {
                false $(|| $t::moves())+
            }
            unsafe fn reserve(repr: &Self::Repr, moves: &mut Moves) -> Result<(), String> {
                $(
                    // SAFETY: forwarded contract.
                    unsafe { $t::reserve(&repr.$field, moves) }
                        .map_err(|why| format!("element {}: {why}", $index))?;
                )+
                Ok(())
            }
            unsafe fn from_repr(repr: &Self::Repr) -> Result<Self, String> {
                // SAFETY: forwarded contract.
                Ok(($(
                    unsafe { $t::from_repr(&repr.$field) }
                        .map_err(|why| format!("element {}: {why}", $index))?,
                )+))
            }
        }

        copied_elems! { impl[$($t: FfiLift),+] for ($($t,)+); }

        // SAFETY: a NULL-checked pointer to the C form, copied through
        // FfiLift's checks (like records).
        unsafe impl<$($t: FfiLift),+> FfiParam for ($($t,)+) {
            type Abi = *const $name<$($t::Repr),+>;
            const DESC: TypeDesc = <Self as FfiData>::DESC;
            type Lifted<'s> = Self;
            #[inline]
            fn moves() -> bool {
                <Self as FfiLift>::moves()
            }
            unsafe fn lift(abi: Self::Abi, param: &'static str, _: &CallScope) -> Result<Self, Fault> {
                // SAFETY: the C contract makes the pointer NULL or valid.
                unsafe { crate::data::lift_by_pointer::<Self>(abi, param) }
            }
            unsafe fn reserve(abi: Self::Abi, param: &'static str, moves: &mut Moves) -> Result<(), Fault> {
                // SAFETY: as in `lift`.
                unsafe { crate::data::reserve_by_pointer::<Self>(abi, param, moves) }
            }
        }
    )*};
}

tuples! {
    FfiTuple1 { A _0 0 }
    FfiTuple2 { A _0 0, B _1 1 }
    FfiTuple3 { A _0 0, B _1 1, C _2 2 }
    FfiTuple4 { A _0 0, B _1 1, C _2 2, D _3 3 }
    FfiTuple5 { A _0 0, B _1 1, C _2 2, D _3 3, E _4 4 }
    FfiTuple6 { A _0 0, B _1 1, C _2 2, D _3 3, E _4 4, F _5 5 }
}

/// 128-bit integers: two `u64` halves, low first.
macro_rules! wide_ints {
    ($($t:ident => $repr:ident;)*) => {$(
        // SAFETY: two halves, every bit pattern valid, nothing to free.
        unsafe impl FfiData for $t {
            type Repr = $repr;
            const DESC: TypeDesc = TypeDesc::Scalar(stringify!($t));
            const OWNED: bool = false;
            fn into_repr(self) -> $repr {
                let bits = self as u128;
                $repr { lo: bits as u64, hi: (bits >> 64) as u64 }
            }
            unsafe fn free_repr(_: &mut $repr) {}
        }

        // SAFETY: every bit pattern is a valid integer.
        unsafe impl FfiLift for $t {
            unsafe fn from_repr(repr: &$repr) -> Result<$t, String> {
                Ok(((u128::from(repr.hi) << 64) | u128::from(repr.lo)) as $t)
            }
        }

        // SAFETY: the halves by value; every value is valid.
        unsafe impl FfiParam for $t {
            type Abi = $repr;
            const DESC: TypeDesc = TypeDesc::Scalar(stringify!($t));
            type Lifted<'s> = $t;
            unsafe fn lift(abi: $repr, _: &'static str, _: &CallScope) -> Result<$t, Fault> {
                // SAFETY: holds no pointer.
                Ok(unsafe { <$t as FfiLift>::from_repr(&abi) }.unwrap_or_default())
            }
        }
    )*};
}

wide_ints! {
    i128 => FfiI128;
    u128 => FfiU128;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_sets_and_tuples_round_trip_and_free() {
        let map: HashMap<String, Vec<u32>> =
            [("a".to_owned(), vec![1, 2]), ("b".to_owned(), vec![])]
                .into_iter()
                .collect();
        let mut repr = map.clone().into_repr();
        // SAFETY: made by into_repr just above.
        assert_eq!(
            unsafe { <HashMap<String, Vec<u32>> as FfiLift>::from_repr(&repr) },
            Ok(map)
        );
        // SAFETY: made by into_repr; freeing twice is a no-op by contract.
        unsafe {
            <HashMap<String, Vec<u32>> as FfiData>::free_repr(&mut repr);
            <HashMap<String, Vec<u32>> as FfiData>::free_repr(&mut repr);
        }
        let set: BTreeSet<i64> = [3, 1, 2].into_iter().collect();
        let mut repr = set.clone().into_repr();
        // SAFETY: as above.
        unsafe {
            assert_eq!(<BTreeSet<i64> as FfiLift>::from_repr(&repr), Ok(set));
            <BTreeSet<i64> as FfiData>::free_repr(&mut repr);
        }
        let tuple = (1u8, "x".to_owned(), Some(2.5f64));
        let mut repr = tuple.clone().into_repr();
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                <(u8, String, Option<f64>) as FfiLift>::from_repr(&repr),
                Ok(tuple)
            );
            <(u8, String, Option<f64>) as FfiData>::free_repr(&mut repr);
        }
        for value in [i128::MIN, -1, 0, 1, i128::MAX] {
            // SAFETY: holds no pointer.
            assert_eq!(
                unsafe { <i128 as FfiLift>::from_repr(&value.into_repr()) },
                Ok(value)
            );
        }
        // SAFETY: holds no pointer.
        assert_eq!(
            unsafe { <u128 as FfiLift>::from_repr(&u128::MAX.into_repr()) },
            Ok(u128::MAX)
        );
    }

    #[test]
    fn duplicate_keys_and_elements_are_refused() {
        let pairs = vec![(1u32, 10u8), (2, 20), (1, 30)];
        let mut repr = pairs.into_repr();
        // SAFETY: made by into_repr (a Vec of pairs is a map's C form).
        unsafe {
            assert_eq!(
                <BTreeMap<u32, u8> as FfiLift>::from_repr(&repr),
                Err("item 2: the same key is given twice".to_owned())
            );
            assert!(<HashMap<u32, u8> as FfiLift>::from_repr(&repr).is_err());
            <Vec<(u32, u8)> as FfiData>::free_repr(&mut repr);
        }
        let mut repr = vec![5i8, 5].into_repr();
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                <HashSet<i8> as FfiLift>::from_repr(&repr),
                Err("item 1: the same element is given twice".to_owned())
            );
            <Vec<i8> as FfiData>::free_repr(&mut repr);
        }
    }
}
