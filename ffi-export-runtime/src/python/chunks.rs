//! Iterator chunks on the fast path: `<name>_iter_next` of an export
//! returning `impl Iterator<Item = T>` read natively, its chunk built as a
//! `list` of the items (what the helper's `RustIterator` keeps anyway),
//! instead of a `Vec<T>` through ctypes. Items of a type without a native
//! form (and `Result` items) keep the ctypes path.

use super::{python, FastFn, Py, PyArg, PyReturn, Python};
use crate::data::FfiData;
use crate::iter::RustIter;
use core::marker::PhantomData;

/// A chunk reader's fast function and whether it can build the items in
/// this process.
pub type ChunkEntry = (FastFn, fn() -> bool);

/// The fast function of one iterator's `<name>_iter_next` (the macro adds
/// one per export returning an iterator of plain items).
pub struct IterNextDesc {
    /// The C name, `<name>_iter_next`.
    pub name: &'static str,
    /// The fast function and whether it can build the items in this
    /// process, if the item type has a native form.
    pub entry: fn() -> Option<ChunkEntry>,
}

/// Every iterator's `<name>_iter_next` fast function.
#[linkme::distributed_slice]
pub static PY_ITER_NEXTS: [IterNextDesc];

/// The fast function of the iterator export `name`'s `_iter_next`, if it
/// has one that can build its items here.
pub(super) fn iter_next_fast(name: &[u8]) -> Option<FastFn> {
    let desc = PY_ITER_NEXTS
        .iter()
        .find(|desc| desc.name.as_bytes() == name)?;
    let (fast, ready) = (desc.entry)()?;
    ready().then_some(fast)
}

/// Picks the chunk reader of items `T` when `T` has a native form
/// ([`NativeChunk`]), else none ([`NoNativeChunk`]): the macro knows item
/// types by name only.
pub struct ChunkOf<T>(PhantomData<T>);

impl<T> ChunkOf<T> {
    /// The selector for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        ChunkOf(PhantomData)
    }
}

/// The native chunk reader of items `T`.
pub trait NativeChunk {
    /// Its fast function and readiness.
    fn entry(&self) -> Option<ChunkEntry>;
}

impl<T: FfiData + PyReturn<Abi = <T as FfiData>::Repr> + Send + 'static> NativeChunk
    for ChunkOf<T>
{
    fn entry(&self) -> Option<ChunkEntry> {
        Some((next_chunk::<T>, T::nested_ready))
    }
}

/// No native chunk reader (items without a native form).
pub trait NoNativeChunk {
    /// None.
    fn entry(&self) -> Option<ChunkEntry> {
        None
    }
}

impl<T> NoNativeChunk for &ChunkOf<T> {}

/// `<name>_iter_next(iter, max)` natively: up to `max` items of the
/// iterator behind the handle `iter`, as a `list`, the GIL released while
/// Rust reads them; a failure (a panic in `next`, a stale handle) is
/// raised as on the ctypes path, and arguments it does not read exactly go
/// to `slow`, the ctypes wrapper.
///
/// # Safety
/// Called by CPython as a `native_function`'s fast function: the GIL is
/// held, `args` holds `nargs` live objects, `slow` is the wrapper.
unsafe extern "C" fn next_chunk<
    T: FfiData + PyReturn<Abi = <T as FfiData>::Repr> + Send + 'static,
>(
    slow: Py,
    args: *const Py,
    nargs: isize,
) -> Py {
    // SAFETY: CPython calls this function with the GIL; the token does not
    // outlive the call.
    let Some(mut py) = (unsafe { python() }) else {
        return core::ptr::null_mut();
    };
    // SAFETY: CPython passes `nargs` live arguments.
    let args = unsafe { Python::args(args, nargs) };
    let read = |first: Py, second: Py| {
        // SAFETY: live arguments; the GIL is held.
        unsafe {
            Some((
                <u64 as PyArg>::extract(&py, first)?,
                <usize as PyArg>::extract(&py, second)?,
            ))
        }
    };
    let &[first, second] = args else {
        // SAFETY: the fast function's own arguments, with the GIL held.
        return unsafe { py.fallback(slow, args) };
    };
    let Some((handle, max)) = read(first, second) else {
        // SAFETY: as above.
        return unsafe { py.fallback(slow, args) };
    };
    let released = py.release();
    let (abi, fault) =
        crate::status::call_and_take(|| Ok(RustIter::<T>::next_chunk(handle, max)?.into_repr()));
    drop(released);
    // SAFETY: `abi` is `Vec<T>`'s C form (or the zero value after a
    // failure), given away to `list_of`, which frees it.
    unsafe { py.finish(abi, fault, core::ptr::null_mut(), super::list_of::<T>) }
}
