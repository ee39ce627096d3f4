//! Iterators returned to the caller: an export returning
//! `impl Iterator<Item = T>` (or `Box<dyn Iterator<Item = T> + Send>`)
//! hands out a handle of a [`RustIter`], an object of the registry like any
//! other (checked handle, its own lock, counted by `live_objects`), and
//! three more exports the macro writes next to it:
//!
//! * `<name>_iter_next(iter, max)`: the next items, at most `max` (0 counts
//!   as 1), as a `Vec<T>`; an empty one at the end. Items of type
//!   `Result<T, E>` come as `Result<Vec<T>, E>`: the `Ok` items before an
//!   `Err`, then (on the next call) the error itself, so the caller sees
//!   it at the item it belongs to;
//! * `<name>_iter_next_free(chunk)`: frees what `_next` returned;
//! * `<name>_iter_free(iter)`: drops the iterator (a stale handle is a
//!   no-op), also before it is exhausted.
//!
//! The iterator owns what it walks (`'static`): an iterator borrowing the
//! object whose method made it is refused at compile time, so a `RustIter`
//! never outlives data it points into. A panic in `next` poisons the
//! iterator (later calls fail) like one in a `&mut self` method.

use crate::describe::TypeDesc;
use crate::object::{release, with_object, FfiObject, ObjectDesc};
use crate::status::Fault;

/// A `Result` item: names its error type for the `next` export's
/// `Result<Vec<T>, E>` (the item may be written as an alias).
pub trait IterResult {
    /// The error type.
    type Error;
}

impl<T, E> IterResult for Result<T, E> {
    type Error = E;
}

/// A boxed Rust iterator living in the object registry, with the error
/// item held back for the next call when a chunk ended at it.
pub struct RustIter<I: Send + 'static> {
    items: Box<dyn Iterator<Item = I> + Send>,
    /// An `Err` item read after some `Ok` items: returned by the next call.
    held: Option<I>,
}

fn iterator_desc() -> &'static ObjectDesc {
    static DESC: ObjectDesc = ObjectDesc {
        name: "Iterator",
        module: "",
        doc: "An iterator returned by an export.",
        free: "",
    };
    &DESC
}

impl<I: Send + 'static> FfiObject for RustIter<I> {
    const DESC: TypeDesc = TypeDesc::Object(iterator_desc);
}

impl<I: Send + 'static> RustIter<I> {
    /// Boxes `items` (fused: after its first `None`, always `None`) and
    /// registers it; the handle is what the export returns.
    pub fn register(items: impl Iterator<Item = I> + Send + 'static) -> u64 {
        crate::object::register(RustIter {
            items: Box::new(items.fuse()),
            held: None,
        })
    }

    /// Up to `max` items (at least one), empty at the end.
    pub fn next_chunk(handle: u64, max: usize) -> Result<Vec<I>, Fault> {
        with_object::<RustIter<I>, _>(handle, true, |iter| {
            iter.items.by_ref().take(max.max(1)).collect()
        })
    }

    /// Drops the iterator behind `handle` (a stale handle is a no-op).
    pub fn free(handle: u64) -> Result<(), Fault> {
        release::<RustIter<I>>(handle)
    }
}

impl<T: Send + 'static, E: Send + 'static> RustIter<Result<T, E>> {
    /// Up to `max` `Ok` items (at least one), stopping before an `Err`,
    /// which the next call returns; `Ok` and empty at the end.
    pub fn next_results(handle: u64, max: usize) -> Result<Result<Vec<T>, E>, Fault> {
        with_object::<RustIter<Result<T, E>>, _>(handle, true, |iter| {
            if let Some(Err(error)) = iter.held.take() {
                return Err(error);
            }
            let mut chunk = Vec::new();
            while chunk.len() < max.max(1) {
                match iter.items.next() {
                    Some(Ok(item)) => chunk.push(item),
                    Some(Err(error)) if chunk.is_empty() => return Err(error),
                    Some(held) => {
                        iter.held = Some(held);
                        break;
                    }
                    None => break,
                }
            }
            Ok(chunk)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_then_empty_then_stale() {
        let handle = RustIter::register(0..5u32);
        assert_eq!(
            RustIter::<u32>::next_chunk(handle, 2).ok(),
            Some(vec![0, 1])
        );
        assert_eq!(RustIter::<u32>::next_chunk(handle, 0).ok(), Some(vec![2]));
        assert_eq!(
            RustIter::<u32>::next_chunk(handle, 9).ok(),
            Some(vec![3, 4])
        );
        assert_eq!(RustIter::<u32>::next_chunk(handle, 9).ok(), Some(vec![]));
        assert!(RustIter::<u32>::free(handle).is_ok());
        assert!(RustIter::<u32>::next_chunk(handle, 1).is_err());
        assert!(
            RustIter::<u32>::free(handle).is_ok(),
            "a stale handle is a no-op"
        );
    }

    #[test]
    fn an_error_comes_at_its_item() {
        let items = vec![Ok(1), Ok(2), Err("bad"), Ok(4)];
        let handle = RustIter::register(items.into_iter());
        type It = RustIter<Result<i32, &'static str>>;
        assert_eq!(It::next_results(handle, 9).ok(), Some(Ok(vec![1, 2])));
        assert_eq!(It::next_results(handle, 9).ok(), Some(Err("bad")));
        assert_eq!(It::next_results(handle, 9).ok(), Some(Ok(vec![4])));
        assert_eq!(It::next_results(handle, 9).ok(), Some(Ok(vec![])));
        assert!(It::free(handle).is_ok());
    }
}
