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

use crate::abi::FfiBuffer;
use crate::convert::IntoFfi;
use crate::data::FfiData;
use crate::describe::TypeDesc;
use crate::object::{release, FfiObject, ObjectArgs, ObjectDesc};
use crate::status::Fault;
use core::fmt::Display;
use core::marker::PhantomData;

/// How the items of an iterator export cross, for the exports the macro
/// writes: [`Items<T>`] of items `T`, [`Results<R>`] of items
/// `R = Result<T, E>`. Everything goes through functions of this trait, so
/// an item type that cannot cross fails one bound, reported once at it.
///
/// # Safety
/// `next` returns a chunk whose C form `chunk()` describes, which `free`
/// releases.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the items of a returned iterator",
    label = "unsupported item type",
    note = "items are any type a function may return: numbers, String, #[export] structs and enums, Vec<T>, Option<T>, ..., or `Result<T, E>` of one (its `Err` raised at its item)"
)]
pub unsafe trait IterItems {
    /// The description of a chunk: `Vec<T>`, or `Result<Vec<T>, E>`.
    fn chunk() -> TypeDesc;
    /// The next items of the iterator behind `handle`, at most `max`.
    fn next(handle: u64, max: usize) -> Result<FfiBuffer, Fault>;
    /// Frees a chunk `next` returned.
    ///
    /// # Safety
    /// `chunk` is NULL or points to a chunk `next` returned, not yet freed.
    unsafe fn free(chunk: *mut FfiBuffer);
    /// Drops the iterator behind `handle`.
    fn release(handle: u64) -> Result<(), Fault>;
}

/// Items `T` of an iterator (see [`IterItems`]).
pub struct Items<T>(PhantomData<T>);

/// Items `Result<T, E>` of an iterator (see [`IterItems`]).
pub struct Results<R>(PhantomData<R>);

// SAFETY: a chunk is `Vec<T>`'s C form, an `FfiBuffer` of `T`'s, freed by
// `Vec<T>`'s own free.
unsafe impl<T: FfiData + Send + 'static> IterItems for Items<T> {
    fn chunk() -> TypeDesc {
        <Vec<T> as FfiData>::DESC
    }
    fn next(handle: u64, max: usize) -> Result<FfiBuffer, Fault> {
        Ok(RustIter::<T>::next_chunk(handle, max)?.into_repr())
    }
    unsafe fn free(chunk: *mut FfiBuffer) {
        // SAFETY: forwarded contract: NULL or a `Vec<T>`'s C form.
        unsafe { <Vec<T> as IntoFfi>::free(chunk) }
    }
    fn release(handle: u64) -> Result<(), Fault> {
        RustIter::<T>::free(handle)
    }
}

// SAFETY: a chunk is `Result<Vec<T>, E>`'s C form, i.e. `Vec<T>`'s (the
// error goes to the error channel), freed by its own free.
unsafe impl<T, E> IterItems for Results<Result<T, E>>
where
    T: FfiData + Send + 'static,
    E: Display + Send + 'static,
{
    fn chunk() -> TypeDesc {
        <Result<Vec<T>, E> as IntoFfi>::DESC
    }
    fn next(handle: u64, max: usize) -> Result<FfiBuffer, Fault> {
        RustIter::<Result<T, E>>::next_results(handle, max)?.lower()
    }
    unsafe fn free(chunk: *mut FfiBuffer) {
        // SAFETY: forwarded contract: NULL or a `Vec<T>`'s C form.
        unsafe { <Result<Vec<T>, E> as IntoFfi>::free(chunk) }
    }
    fn release(handle: u64) -> Result<(), Fault> {
        RustIter::<Result<T, E>>::free(handle)
    }
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
        // Not a named type (never in `TYPES`), so never registered with
        // the fast path, which is all this is for.
        release: |_| {},
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
        Self::with(handle, |iter| {
            iter.items.by_ref().take(max.max(1)).collect()
        })
    }

    /// Runs `read` on the iterator behind `handle` (the C argument `iter`),
    /// under its lock: one thread at a time reads it, and a panic in the
    /// user's `next` poisons it, as in a `&mut self` method.
    fn with<R>(handle: u64, read: impl FnOnce(&mut RustIter<I>) -> R) -> Result<R, Fault> {
        let mut args = ObjectArgs::new();
        args.hold::<RustIter<I>>(handle, true, "iter")?;
        args.call(|locked| Ok(read(locked.get_mut::<RustIter<I>>(0)?)))
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
        Self::with(handle, |iter| {
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
