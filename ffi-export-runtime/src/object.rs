//! Objects: values of an `#[export] impl` type live in a registry and cross
//! as checked `u64` handles, never as raw pointers. A closed, stale or
//! foreign handle is an error, not undefined behaviour; each object sits
//! behind a mutex, so calls from several threads are safe (`T: Send` is
//! required) and run one at a time per object.

pub use crate::describe::ObjectDesc;
use crate::describe::{short_type_name, TypeDesc};
use crate::status::Fault;
use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

/// A type exported with `#[export] impl`.
pub trait FfiObject: Send + Sized + 'static {
    /// Its description (`TypeDesc::Object`).
    const DESC: TypeDesc;
}

struct Entry {
    type_name: &'static str,
    object: Arc<dyn Any + Send + Sync>,
}

/// Handles are never reused, so a stale handle cannot reach a new object.
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

fn registry() -> MutexGuard<'static, HashMap<u64, Entry>> {
    static REGISTRY: OnceLock<Mutex<HashMap<u64, Entry>>> = OnceLock::new();
    REGISTRY
        .get_or_init(Default::default)
        .lock()
        // The map is consistent whenever the lock is released.
        .unwrap_or_else(PoisonError::into_inner)
}

thread_local! {
    /// Objects whose lock this thread holds: a re-entrant call (through a
    /// callback) is refused instead of deadlocking.
    static IN_USE: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Registers `value` and returns its new handle. The macro's `FfiData`
/// impl for an `#[export] impl` type calls this, so an object can be
/// returned from any export (alone, in an `Option`, `Result` or `Vec`) and
/// crosses as its handle.
pub fn register<T: FfiObject>(value: T) -> u64 {
    let id = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    let entry = Entry {
        type_name: short_type_name::<T>(),
        object: Arc::new(Mutex::new(value)),
    };
    registry().insert(id, entry);
    id
}

fn lookup<T: FfiObject>(handle: u64) -> Result<Arc<Mutex<T>>, Fault> {
    let map = registry();
    let Some(entry) = map.get(&handle) else {
        return Err(Fault::invalid(
            "self",
            format_args!(
                "{handle} is not a live `{}` handle (closed, freed or never created)",
                short_type_name::<T>()
            ),
        ));
    };
    let type_name = entry.type_name;
    entry.object.clone().downcast::<Mutex<T>>().map_err(|_| {
        Fault::invalid(
            "self",
            format_args!(
                "handle {handle} is a `{type_name}`, not a `{}`",
                short_type_name::<T>()
            ),
        )
    })
}

/// Pops the re-entrancy mark when a method call ends (or unwinds).
struct InUse(u64);

impl Drop for InUse {
    fn drop(&mut self) {
        IN_USE.with(|set| set.borrow_mut().retain(|&h| h != self.0));
    }
}

/// Runs `method` on the object behind `handle`, checking that the handle is
/// live and of type `T`, and holding the object's lock meanwhile.
///
/// A panic in a `&mut self` method (`mutable`) may leave the object half
/// changed, so it poisons the object: later calls fail until it is closed.
/// A `&self` method cannot have changed it, so its panic does not poison.
pub fn with_object<T: FfiObject, R>(
    handle: u64,
    mutable: bool,
    method: impl FnOnce(&mut T) -> R,
) -> Result<R, Fault> {
    let object = lookup::<T>(handle)?;
    let reentrant = IN_USE.with(|set| {
        let mut set = set.borrow_mut();
        let reentrant = set.contains(&handle);
        if !reentrant {
            set.push(handle);
        }
        reentrant
    });
    if reentrant {
        return Err(Fault::invalid(
            "self",
            format_args!(
                "re-entrant call on the same `{}` (from inside one of its own methods)",
                short_type_name::<T>()
            ),
        ));
    }
    let _mark = InUse(handle);
    let mut guard = object.lock().map_err(|_| {
        Fault::Panic(format!(
            "this `{}` is unusable: an earlier call on it panicked mid-way; close it",
            short_type_name::<T>()
        ))
    })?;
    if mutable {
        return Ok(method(&mut guard));
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| method(&mut guard)));
    drop(guard);
    match outcome {
        Ok(value) => Ok(value),
        // Unwinds on to the shim's `call`, with the lock released cleanly.
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// Drops the object behind `handle` (once its running calls end). Unknown
/// handles (already freed, or 0) are a no-op; a handle of another type is
/// refused.
pub fn release<T: FfiObject>(handle: u64) -> Result<(), Fault> {
    let removed = {
        let mut map = registry();
        match map.get(&handle) {
            None => return Ok(()),
            Some(entry) if !entry.object.is::<Mutex<T>>() => {
                return Err(Fault::invalid(
                    "handle",
                    format_args!(
                        "handle {handle} is a `{}`, not a `{}`",
                        entry.type_name,
                        short_type_name::<T>()
                    ),
                ))
            }
            Some(_) => map.remove(&handle),
        }
    };
    // Dropped outside the registry lock: the object's Drop may take time or
    // call back into exported functions.
    drop(removed);
    Ok(())
}

/// The number of live objects of all types (for leak checks).
pub fn live_objects() -> usize {
    registry().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(u32);
    impl FfiObject for Counter {
        const DESC: TypeDesc = TypeDesc::Unit;
    }
    struct Other;
    impl FfiObject for Other {
        const DESC: TypeDesc = TypeDesc::Unit;
    }

    #[test]
    fn handles_are_checked() {
        let counter = register(Counter(1));
        let other = register(Other);
        assert_eq!(
            with_object::<Counter, _>(counter, true, |c| {
                c.0 += 1;
                c.0
            }),
            Ok(2)
        );
        assert!(
            matches!(with_object::<Counter, _>(other, true, |c| c.0), Err(Fault::InvalidArgument(m)) if m.contains("is a `Other`"))
        );
        assert!(release::<Counter>(other).is_err());
        assert_eq!(release::<Counter>(counter), Ok(()));
        assert_eq!(release::<Counter>(counter), Ok(()));
        assert!(
            matches!(with_object::<Counter, _>(counter, true, |c| c.0), Err(Fault::InvalidArgument(m)) if m.contains("not a live"))
        );
        assert_eq!(release::<Other>(other), Ok(()));
    }

    #[test]
    fn reentrant_calls_are_refused() {
        let id = register(Counter(0));
        let inner =
            with_object::<Counter, _>(id, false, |_| with_object::<Counter, _>(id, true, |c| c.0));
        assert!(matches!(inner, Ok(Err(Fault::InvalidArgument(m))) if m.contains("re-entrant")));
        assert_eq!(with_object::<Counter, _>(id, false, |c| c.0), Ok(0));
        assert_eq!(release::<Counter>(id), Ok(()));
    }
}
